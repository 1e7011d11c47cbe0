import { describe, expect, it, vi } from 'vitest';
import type { TollgateConfig } from '../config/schema.ts';
import { log } from '../telemetry/log.ts';
import { fileRouterSettings, StoredRouterSettings } from './stored-router-settings.ts';

// The isolate's config gets the stored row laid over its router settings; config.yaml's stay reachable.

describe('fileRouterSettings', () => {
  it('gives config.yaml\'s router settings while a stored row is laid over the config\'s, and after', () => {
    const fromFile = { num_retries: 1, fallbacks: [{ a: ['b'] }] };
    const config = { router_settings: fromFile, litellm_settings: {} } as unknown as TollgateConfig;
    expect(fileRouterSettings(config)).toBe(fromFile);
    const stored = new StoredRouterSettings(config);
    stored.apply({ num_retries: 4 });
    expect(config.router_settings.num_retries).toBe(4);
    expect(fileRouterSettings(config)).toBe(fromFile);
    // Another overlay built for the same config starts from config.yaml's, not from the row laid over them.
    new StoredRouterSettings(config).apply(null);
    expect(config.router_settings).toBe(fromFile);
  });
});

describe('StoredRouterSettings.apply', () => {
  it('warns of what the row brings that the router ignores, judged with the config\'s litellm_settings', () => {
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    try {
      const row = { optional_pre_call_checks: ['forward_client_headers_by_model_group'] };
      const bare = { router_settings: {}, litellm_settings: {} } as unknown as TollgateConfig;
      new StoredRouterSettings(bare).apply(row);
      expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([expect.stringContaining('ignored by the router, as in config.yaml: optional_pre_call_checks: "forward_client_headers_by_model_group" names no model group')]);
      warn.mockClear();
      const named = { router_settings: {}, litellm_settings: { model_group_settings: { forward_client_headers_to_llm_api: ['group-a'] } } } as unknown as TollgateConfig;
      new StoredRouterSettings(named).apply(row);
      expect(named.router_settings.optional_pre_call_checks).toEqual(['forward_client_headers_by_model_group']);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});
