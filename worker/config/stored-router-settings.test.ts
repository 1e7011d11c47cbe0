import { describe, expect, it } from 'vitest';
import { routerSettingsSchema } from './router-settings-schema.ts';
import { noEffectOf, overlayRouterSettings, type RouterSettings } from './stored-router-settings.ts';

// LiteLLM_Config's router_settings row over config.yaml's router_settings, by LiteLLM's merge rules.

const fromFile = routerSettingsSchema.parse({
  routing_strategy: 'least-busy',
  num_retries: 2,
  timeout: 30,
  fallbacks: [{ 'group-a': ['group-c'] }],
  model_group_alias: { old: 'group-a', hidden: { model: 'group-b', hidden: true } },
  retry_policy: { RateLimitErrorRetries: 1, TimeoutErrorRetries: 2 },
  provider_budget_config: { openai: { budget_limit: 10, time_period: '1d' } },
}) as RouterSettings;
const snapshot = structuredClone(fromFile);

describe('overlayRouterSettings', () => {
  it('lets each key the row sets win, keeps the others, and merges mappings one level (the row\'s entries winning)', () => {
    const { settings, applied, ignored } = overlayRouterSettings(fromFile, {
      routing_strategy: 'simple-shuffle',
      num_retries: '5',
      model_group_alias: { new: 'group-b', old: 'group-b' },
      retry_policy: { TimeoutErrorRetries: 0 },
      allowed_fails: 4,
    });
    expect(ignored).toEqual([]);
    expect(applied).toEqual(['routing_strategy', 'num_retries', 'model_group_alias', 'retry_policy', 'allowed_fails']);
    expect(settings).toEqual({
      ...snapshot,
      routing_strategy: 'simple-shuffle',
      num_retries: 5,
      allowed_fails: 4,
      model_group_alias: { old: 'group-b', hidden: { model: 'group-b', hidden: true }, new: 'group-b' },
      retry_policy: { RateLimitErrorRetries: 1, TimeoutErrorRetries: 0 },
    });
    // config.yaml's own object is never changed: removing the row gives it back as it was.
    expect(fromFile).toEqual(snapshot);
  });

  it('replaces a list whole, an empty one too; a null keeps config.yaml\'s value', () => {
    expect(overlayRouterSettings(fromFile, { fallbacks: [{ 'group-a': ['group-b'] }] }).settings.fallbacks).toEqual([{ 'group-a': ['group-b'] }]);
    expect(overlayRouterSettings(fromFile, { fallbacks: [] }).settings.fallbacks).toEqual([]);
    const kept = overlayRouterSettings(fromFile, { fallbacks: null, timeout: null });
    expect(kept.settings).toBe(fromFile);
    expect(kept.applied).toEqual([]);
  });

  it('removes just the entry a mapping of the row sets to null, the mapping\'s other entries applying', () => {
    const { settings, applied, ignored } = overlayRouterSettings(fromFile, {
      retry_policy: { TimeoutErrorRetries: null, BadRequestErrorRetries: 0 },
      model_group_alias: { old: null },
      routing_strategy_args: { ttl: null },
    });
    expect(ignored).toEqual([]);
    expect(applied).toEqual(['retry_policy', 'model_group_alias', 'routing_strategy_args']);
    expect(settings.retry_policy).toEqual({ RateLimitErrorRetries: 1, BadRequestErrorRetries: 0 });
    expect(settings.model_group_alias).toEqual({ hidden: { model: 'group-b', hidden: true } });
    expect(settings.routing_strategy_args).toEqual({});
  });

  it('names what the row brings that the router ignores, as config.yaml\'s warnings do, not config.yaml\'s own', () => {
    const withBadKey = { ...fromFile, retry_policy: { ...fromFile.retry_policy, RateLimitRetries: 1 } } as RouterSettings;
    const { settings, applied } = overlayRouterSettings(withBadKey, {
      retry_policy: { TimeoutRetries: 3 },
      model_group_affinity_config: { 'group-a': ['session_affinity', 'prompt_caching'] },
      optional_pre_call_checks: ['forward_client_headers_by_model_group'],
    });
    const noEffect = noEffectOf(withBadKey, settings, {});
    // Applied as config.yaml's would be: the router finds nothing under those names.
    expect(applied).toEqual(['retry_policy', 'model_group_affinity_config', 'optional_pre_call_checks']);
    expect(settings.retry_policy?.TimeoutRetries).toBe(3);
    expect(noEffect.map((why) => why.split(': ')[0])).toEqual(['model_group_affinity_config.group-a', 'optional_pre_call_checks', 'retry_policy.TimeoutRetries']);
    expect(noEffect[0]).toContain('"prompt_caching" applies proxy-wide only');
    // Header groups named in litellm_settings: that check does something.
    const named = overlayRouterSettings(fromFile, { optional_pre_call_checks: ['forward_client_headers_by_model_group'] }).settings;
    expect(noEffectOf(fromFile, named, { model_group_settings: { forward_client_headers_to_llm_api: ['group-a'] } })).toEqual([]);
  });

  it('reads the row\'s JSON string as LiteLLM writes it too', () => {
    expect(overlayRouterSettings(fromFile, JSON.stringify({ num_retries: 0 })).settings.num_retries).toBe(0);
  });

  it('ignores a key that fails config.yaml\'s schema, keeping config.yaml\'s value for it, while the row\'s other keys apply', () => {
    const { settings, applied, ignored } = overlayRouterSettings(fromFile, {
      routing_strategy: 'fastest-please',
      fallbacks: [{ 'group-a': 'group-b' }],
      num_retries: 7,
    });
    expect(settings.routing_strategy).toBe('least-busy');
    expect(settings.fallbacks).toEqual([{ 'group-a': ['group-c'] }]);
    expect(settings.num_retries).toBe(7);
    expect(applied).toEqual(['num_retries']);
    expect(ignored.map((why) => why.split(':')[0])).toEqual(['routing_strategy', 'fallbacks[0].group-a']);
  });

  it('names the keys it ignores, never their values (a row may hold secrets)', () => {
    const secret = 'sk-do-not-log-0123456789';
    const { settings, ignored } = overlayRouterSettings(fromFile, {
      redis_password: secret, provider_budget_config: { openai: { budget_limit: 1 } }, default_litellm_params: { api_key: secret },
      no_such_setting: secret, timeout: secret,
    });
    expect(settings).toBe(fromFile);
    expect(ignored.map((why) => why.split(':')[0])).toEqual(['redis_password', 'provider_budget_config', 'default_litellm_params', 'no_such_setting', 'timeout']);
    expect(ignored.join('\n')).not.toContain(secret);
    expect(settings.provider_budget_config).toEqual({ openai: { budget_limit: 10, time_period: '1d' } });
  });

  it('ignores enable_pre_call_checks, naming why: the checks are always on', () => {
    const { settings, applied, ignored } = overlayRouterSettings(fromFile, { enable_pre_call_checks: false, num_retries: 3 });
    expect(applied).toEqual(['num_retries']);
    expect(ignored).toEqual([expect.stringMatching(/^enable_pre_call_checks: always on in Tollgate/)]);
    expect(settings).not.toHaveProperty('enable_pre_call_checks');
  });

  it('takes no inherited name for a setting: `constructor` and `toString` are unknown keys, named as such', () => {
    const { settings, applied, ignored } = overlayRouterSettings(fromFile, JSON.parse('{"constructor": {"name": "x"}, "toString": 1, "num_retries": 4}'));
    expect(applied).toEqual(['num_retries']);
    expect(ignored).toEqual(['constructor: not a router setting Tollgate knows', 'toString: not a router setting Tollgate knows']);
    expect(settings.num_retries).toBe(4);
  });

  it('ignores a row that is not a mapping whole', () => {
    for (const value of [['num_retries', 3], 'not json', 42]) {
      const { settings, ignored } = overlayRouterSettings(fromFile, value);
      expect(settings).toBe(fromFile);
      expect(ignored).toHaveLength(1);
    }
  });
});
