import { describe, expect, it } from 'vitest';
import { routerSettingsSchema } from '../../../worker/config/router-settings-schema.ts';
import { unknownFallbackGroups } from '../../../worker/config/router-checks.ts';
import { FILE_ONLY_ROUTER_SETTINGS } from '../../../worker/config/stored-router-settings.ts';
import { checkConfigUpdate, STORED_ROUTER_FIELDS } from './stored-sections.ts';

const noGroups = {};
const check = (body: Record<string, unknown>) => checkConfigUpdate(body, noGroups);

describe('checkConfigUpdate', () => {
  it('stores router settings as config.yaml reads them (a number given as a string becomes one)', () => {
    const result = check({ router_settings: { routing_strategy: 'least-busy', num_retries: '4', fallbacks: [{ a: ['b'] }] } });
    expect(result).toEqual({ ok: true, set: { routing_strategy: 'least-busy', num_retries: 4, fallbacks: [{ a: ['b'] }] }, removed: [] });
  });

  it('takes a null section for no change, as LiteLLM (exclude_none), and a null router setting for its removal', () => {
    expect(check({ general_settings: null, router_settings: { num_retries: null, timeout: 5 } })).toEqual({ ok: true, set: { timeout: 5 }, removed: ['num_retries'] });
    // Any stored key may be removed, one the gateway ignores (a LiteLLM-written redis_password) too.
    expect(check({ router_settings: { redis_password: null } })).toEqual({ ok: true, set: {}, removed: ['redis_password'] });
    expect(check({ router_settings: null })).toEqual({ ok: true, set: {}, removed: [] });
    expect(check({ router_settings: {} })).toEqual({ ok: true, set: {}, removed: [] });
  });

  it('takes no inherited name for a section or a setting', () => {
    for (const name of ['constructor', 'toString', '__proto__']) {
      const body = JSON.parse(`{"${name}": {"a": 1}, "router_settings": {"${name}": 1}}`);
      const result = check(body);
      expect(result).toMatchObject({ ok: false, status: 400 });
      if (!result.ok) expect(result.message).not.toContain('function');
    }
  });

  it('refuses values the gateway would take but ignore, naming their path', () => {
    expect(check({ router_settings: { retry_policy: { TimeoutErrorRetries: 2, TypoRetries: 1 } } })).toMatchObject({
      ok: false, status: 400, param: 'router_settings.retry_policy.TypoRetries', message: expect.stringContaining('not a LiteLLM error class'),
    });
    expect(check({ router_settings: { allowed_fails_policy: { RateLimitErrorRetries: 1 } } })).toMatchObject({ ok: false, status: 400, param: 'router_settings.allowed_fails_policy.RateLimitErrorRetries' });
    expect(check({ router_settings: { model_group_affinity_config: { gpt: ['prompt_caching'] } } })).toMatchObject({ ok: false, status: 400, param: 'router_settings.model_group_affinity_config.gpt' });
    expect(check({ router_settings: { optional_pre_call_checks: ['forward_client_headers_by_model_group'] } })).toMatchObject({ ok: false, status: 400, param: 'router_settings.optional_pre_call_checks' });
    const named = { model_group_settings: { forward_client_headers_to_llm_api: ['gpt'] } };
    expect(checkConfigUpdate({ router_settings: { optional_pre_call_checks: ['forward_client_headers_by_model_group'] } }, named)).toMatchObject({ ok: true });
    expect(check({ router_settings: { retry_policy: { TimeoutErrorRetries: 2 }, model_group_affinity_config: { gpt: ['session_affinity'] } } })).toMatchObject({ ok: true });
  });

  it('refuses every field that would change nothing, with a 400 naming each and where it is set', () => {
    const result = check({
      general_settings: { max_parallel_requests: 5, email_settings: {} },
      litellm_settings: { drop_params: true },
      environment_variables: { OPENAI_API_KEY: 'sk-secret-value' },
      router_settings: { num_retries: 2, redis_host: 'r', default_litellm_params: {} },
      model_list: [],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status).toBe(400);
    expect(result.param).toBe('general_settings.max_parallel_requests');
    for (const field of ['general_settings.max_parallel_requests', 'litellm_settings.drop_params', 'environment_variables.OPENAI_API_KEY', 'router_settings.redis_host', 'router_settings.default_litellm_params', 'model_list']) {
      expect(result.message).toContain(field);
    }
    expect(result.message).toContain('PATCH /email/event_settings');
    expect(result.message).toContain('set it there');
    expect(result.message).not.toContain('sk-secret-value');
  });

  it('refuses router settings and strategy arguments Tollgate does not act on', () => {
    expect(check({ router_settings: { model_group_retry_policy: {} } })).toMatchObject({
      ok: false, status: 400, param: 'router_settings.model_group_retry_policy', message: expect.stringContaining('not a router setting Tollgate knows'),
    });
    expect(check({ router_settings: { enable_pre_call_checks: false } })).toMatchObject({ ok: false, status: 400, message: expect.stringContaining('always on in Tollgate') });
    expect(check({ router_settings: { routing_strategy_args: { ttl: 10 } } })).toMatchObject({ ok: false, status: 400, param: 'router_settings.routing_strategy_args.ttl' });
    expect(check({ router_settings: { routing_strategy_args: { lowest_latency_buffer: 0.5 } } })).toMatchObject({ ok: true });
  });

  it("answers a 422 naming the field for a value config.yaml's schema refuses", () => {
    expect(check({ router_settings: { routing_strategy: 'fastest' } })).toMatchObject({ ok: false, status: 422, param: 'router_settings.routing_strategy' });
    expect(check({ router_settings: { num_retries: 'many' } })).toMatchObject({ ok: false, status: 422, param: 'router_settings.num_retries' });
    expect(check({ router_settings: { fallbacks: [{ a: 'b' }] } })).toMatchObject({ ok: false, status: 422, param: 'router_settings.fallbacks[0].a' });
    expect(check({ router_settings: 'least-busy' })).toMatchObject({ ok: false, status: 422, param: 'router_settings' });
  });

  it('refuses a fallback entry that names nothing usable', () => {
    expect(check({ router_settings: { fallbacks: [{}] } })).toMatchObject({ ok: false, status: 422, param: 'router_settings.fallbacks[0]' });
    expect(check({ router_settings: { fallbacks: [{ a: [] }] } })).toMatchObject({ ok: false, status: 422, param: 'router_settings.fallbacks[0].a' });
    expect(check({ router_settings: { context_window_fallbacks: [{ a: [' '] }] } })).toMatchObject({ ok: false, status: 422 });
    expect(check({ router_settings: { default_fallbacks: ['b', ''] } })).toMatchObject({ ok: false, status: 422, param: 'router_settings.default_fallbacks[1]' });
  });

  it('stores only router settings the gateway takes from the row', () => {
    const known = Object.keys(routerSettingsSchema.shape);
    for (const field of Object.keys(STORED_ROUTER_FIELDS)) {
      expect(known).toContain(field);
      expect(FILE_ONLY_ROUTER_SETTINGS).not.toHaveProperty(field);
    }
    expect(check({ router_settings: { provider_budget_config: { openai: { budget_limit: 1 } } } })).toMatchObject({ ok: false, status: 400, param: 'router_settings.provider_budget_config' });
  });

  it('stores every router setting the gateway takes from the row (none is forgotten)', () => {
    const taken = Object.keys(routerSettingsSchema.shape).filter((f) => !Object.hasOwn(FILE_ONLY_ROUTER_SETTINGS, f) && f !== 'enable_pre_call_checks');
    expect(taken.filter((f) => !Object.hasOwn(STORED_ROUTER_FIELDS, f))).toEqual([]);
  });
});

describe('checkConfigUpdate of router_settings', () => {
  it('checks a whole mapping as it would be stored', () => {
    expect(checkConfigUpdate({ router_settings: { fallbacks: [{ a: ['b'] }], num_retries: '2' } }, noGroups)).toEqual({ ok: true, set: { fallbacks: [{ a: ['b'] }], num_retries: 2 }, removed: [] });
    expect(checkConfigUpdate({ router_settings: { fallbacks: [{ a: [] }] } }, noGroups)).toMatchObject({ ok: false, status: 422, param: 'router_settings.fallbacks[0].a' });
    expect(checkConfigUpdate({ router_settings: { fallbacks: [], redis_host: 'r' } }, noGroups)).toMatchObject({ ok: false, status: 400, param: 'router_settings.redis_host' });
  });
});

describe('unknownFallbackGroups', () => {
  it('warns of groups neither config.yaml nor the database serves, as config.yaml is warned', () => {
    expect(unknownFallbackGroups({ fallbacks: [{ a: ['b', 'ghost'] }] }, new Set(['a', 'b']))).toEqual([
      'router_settings.fallbacks[0]: model group "ghost" is not in model_list (it must be added through /model/new)',
    ]);
    expect(unknownFallbackGroups({ fallbacks: [{ a: ['ghost'] }] }, new Set(['a', 'openai/*']))).toEqual([]);
  });
});
