import { describe, expect, it } from 'vitest';
import type { Caller } from '../../auth/authenticate.ts';
import { callerHasLogging } from './dynamic-settings.ts';

// Whether a call's prompt and answer text are kept for a key's or team's own standard logger: only when one is on.
const caller = (metadata: Record<string, unknown>, teamMetadata?: Record<string, unknown>): Caller =>
  ({ kind: 'key', token: 'hashed', policy: { token: 'hashed', metadata, team: teamMetadata ? { id: 't1', metadata: teamMetadata } : undefined } }) as unknown as Caller;

describe('callerHasLogging', () => {
  it('is true when a key or team turns langsmith or gcs_bucket on', () => {
    expect(callerHasLogging(caller({ logging: [{ callback_name: 'langsmith' }] }))).toBe(true);
    expect(callerHasLogging(caller({}, { callback_settings: { success_callback: ['gcs_bucket'], callback_vars: { gcs_bucket_name: 'b1x' } } }))).toBe(true);
    expect(callerHasLogging(caller({}, { logging: [{ callback_name: 'langsmith', callback_type: 'failure' }] }))).toBe(true);
    // Variables without callback lists: the team's destination when config.yaml turns langsmith on.
    expect(callerHasLogging(caller({}, { callback_settings: { callback_vars: { langsmith_api_key: 'k' } } }))).toBe(true);
  });

  it('is false for Langfuse-only settings and for a team whose callbacks /disable_logging emptied', () => {
    expect(callerHasLogging(caller({ logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk' } }] }))).toBe(false);
    expect(callerHasLogging(caller({}, { callback_settings: { success_callback: ['langfuse'], callback_vars: {} } }))).toBe(false);
    expect(callerHasLogging(caller({}, { callback_settings: { success_callback: [], failure_callback: [], callback_vars: { langsmith_api_key: 'k' } } }))).toBe(false);
    // A key's own logging list shadows its team's.
    expect(callerHasLogging(caller({ logging: [] }, { logging: [{ callback_name: 'langsmith' }] }))).toBe(false);
    expect(callerHasLogging(caller({}))).toBe(false);
  });
});
