import { describe, expect, it } from 'vitest';
import type { TollgateConfig } from '../../config/schema.ts';
import { STANDARD_LOGGERS, standardLoggerMessageLogging, standardLoggersWantText } from './registry.ts';

const config = (callbackSettings: Record<string, { message_logging?: boolean }>) =>
  ({ litellm_settings: { callbacks: ['custom_callback_api'] }, callback_settings: callbackSettings } as unknown as TollgateConfig);
const generic = STANDARD_LOGGERS.find((l) => l.name === 'generic_api')!;
const datadog = STANDARD_LOGGERS.find((l) => l.name === 'datadog')!;

describe('callback_settings of the standard loggers', () => {
  it('reads message_logging under a logger\'s older name too (custom_callback_api for generic_api)', () => {
    const quiet = config({ custom_callback_api: { message_logging: false } });
    expect(standardLoggerMessageLogging(quiet, generic)).toBe(false);
    expect(standardLoggersWantText(quiet)).toBe(false);
    expect(standardLoggerMessageLogging(quiet, datadog)).toBe(true);
    expect(standardLoggerMessageLogging(config({ generic_api: { message_logging: false } }), generic)).toBe(false);
    const on = config({});
    expect(standardLoggerMessageLogging(on, generic)).toBe(true);
    expect(standardLoggersWantText(on)).toBe(true);
  });
});
