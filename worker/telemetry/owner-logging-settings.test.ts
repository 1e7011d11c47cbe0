import { describe, expect, it } from 'vitest';
import { keyCallbackSettings, teamCallbackSettings } from './owner-logging-settings.ts';

// Key and team based logging, read one way for Langfuse, LangSmith and GCS.
describe('teamCallbackSettings', () => {
  const shared = { langfuse_public_key: 'pk', langfuse_secret: 'sk-alias', langsmith_api_key: 'ls', gcs_bucket_name: 'b' };

  it("counts a team's variables without callback lists for every callback, off but with their own destination", () => {
    const metadata = { callback_settings: { callback_vars: shared } };
    expect(teamCallbackSettings('langsmith', metadata)).toEqual({ success: false, failure: false, vars: { langsmith_api_key: 'ls' } });
    expect(teamCallbackSettings('gcs_bucket', metadata)).toEqual({ success: false, failure: false, vars: { gcs_bucket_name: 'b' } });
    // Langfuse's secret under LiteLLM's other name.
    expect(teamCallbackSettings('langfuse', metadata)).toEqual({ success: false, failure: false, vars: { langfuse_public_key: 'pk', langfuse_secret_key: 'sk-alias' } });
  });

  it('holds none for a callback that lists leave out (/disable_logging), or without lists or variables of its own', () => {
    expect(teamCallbackSettings('langsmith', { callback_settings: { success_callback: [], failure_callback: [], callback_vars: shared } })).toBeUndefined();
    expect(teamCallbackSettings('langsmith', { callback_settings: { success_callback: ['langfuse'], callback_vars: shared } })).toBeUndefined();
    expect(teamCallbackSettings('langsmith', { callback_settings: { callback_vars: { langfuse_public_key: 'pk' } } })).toBeUndefined();
  });

  it('turns a listed callback on for its events; callbacks counts for both', () => {
    expect(teamCallbackSettings('langsmith', { callback_settings: { failure_callback: ['langsmith'], callback_vars: shared } })).toEqual({ success: false, failure: true, vars: { langsmith_api_key: 'ls' } });
    expect(teamCallbackSettings('langfuse', { callback_settings: { callbacks: ['langfuse'] } })).toEqual({ success: true, failure: true, vars: {} });
  });

  it("reads a logging list before callback_settings, each entry's own variables only", () => {
    const metadata = {
      logging: [{ callback_name: 'langsmith', callback_type: 'success', callback_vars: { langsmith_api_key: 'ls', langfuse_host: 'https://evil' } }],
      callback_settings: { callbacks: ['langfuse'] },
    };
    expect(teamCallbackSettings('langsmith', metadata)).toEqual({ success: true, failure: false, vars: { langsmith_api_key: 'ls' } });
    expect(teamCallbackSettings('langfuse', metadata)).toBeUndefined();
  });
});

describe('keyCallbackSettings', () => {
  it("reads a key's logging list only (unset or null callback_type: both events)", () => {
    const metadata = { logging: [{ callback_name: 'langfuse', callback_type: null, callback_vars: { langfuse_secret_key: 'own', langfuse_secret: 'alias' } }] };
    expect(keyCallbackSettings('langfuse', metadata)).toEqual({ success: true, failure: true, vars: { langfuse_secret_key: 'own' } });
    expect(keyCallbackSettings('langsmith', { callback_settings: { callbacks: ['langsmith'] } })).toBeUndefined();
  });
});
