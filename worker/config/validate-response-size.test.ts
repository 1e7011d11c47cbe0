// general_settings.max_response_size_mb: a limit must be a positive size (0 would read as "no limit").
import { describe, expect, it } from 'vitest';
import { validateConfig } from './validate.ts';

const withLimit = (mb: unknown) => validateConfig({ model_list: [], general_settings: { max_response_size_mb: mb } }, {});

describe('general_settings.max_response_size_mb', () => {
  it.each([0, '0', -1])('refuses %j with a message that says what it must be', (mb) => {
    const result = withLimit(mb);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(/general_settings\.max_response_size_mb: must (be a positive number of MB|not be negative)/);
  });

  it('takes a positive size, in its string spelling too', () => {
    for (const mb of [0.5, '2']) {
      const result = withLimit(mb);
      expect(result.ok && result.config.general_settings.max_response_size_mb).toBe(Number(mb));
    }
  });
});
