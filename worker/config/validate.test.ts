import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PENDING_KEYS } from './support.ts';
import { validateConfig } from './validate.ts';

const reference = parse(readFileSync(new URL('../../test/fixtures/reference-guide.yaml', import.meta.url), 'utf8'));
const guideEnv = {
  AZURE_OPENAI_ENDPOINT_UAE: 'https://mycompany-uae.openai.azure.com',
  AZURE_OPENAI_API_KEY_UAE: 'azure-secret',
  AWS_REGION_NAME: 'me-south-1',
  ANTHROPIC_API_KEY: 'anthropic-secret',
  REDIS_HOST: 'litellm-redis-master.data.svc.cluster.local',
  REDIS_PORT: '6379',
  REDIS_PASSWORD: 'redis-secret',
  LITELLM_MASTER_KEY: 'sk-master-1234',
  DATABASE_URL: 'postgres://u:p@db/litellm',
};

function errorsOf(raw: unknown, env: Record<string, string> = {}): string[] {
  const result = validateConfig(raw, env);
  if (result.ok) throw new Error(`expected errors, got a valid config (warnings: ${result.warnings.join('; ')})`);
  return result.errors;
}

const model = (litellm_params: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({ model_list: [{ model_name: 'm', litellm_params, ...extra }] });

describe('the reference guide config', () => {
  it('loads unchanged, with every os.environ value resolved from the environment', () => {
    const result = validateConfig(reference, guideEnv);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const { config } = result;
    expect(config.model_list.map((d) => d.model_name)).toEqual(['gpt-4o-uae-primary', 'claude-sonnet-bedrock-me', 'claude-sonnet-fallback']);
    expect(config.model_list[0]?.litellm_params).toEqual({
      model: 'azure/gpt-4o', api_base: 'https://mycompany-uae.openai.azure.com', api_key: 'azure-secret', api_version: '2024-08-01-preview',
    });
    expect(config.model_list[1]?.litellm_params.aws_region_name).toBe('me-south-1');
    expect(config.router_settings).toMatchObject({
      routing_strategy: 'latency-based-routing', num_retries: 2, timeout: 60, allowed_fails: 3, cooldown_time: 30, redis_port: 6379,
      fallbacks: [{ 'gpt-4o-uae-primary': ['claude-sonnet-bedrock-me'] }, { 'claude-sonnet-bedrock-me': ['claude-sonnet-fallback'] }],
    });
    expect(config.litellm_settings.cache_params).toMatchObject({ type: 'redis', port: 6379, ttl: 600, supported_call_types: ['acompletion', 'aembedding'] });
    expect(config.general_settings).toMatchObject({
      master_key: 'sk-master-1234', store_model_in_db: true, alerting: ['slack'], alerting_threshold: 300,
      budget_duration: '30d', max_budget: 50000, redact_messages_in_exceptions: true,
    });
  });

  it('loads without its environment, warning about each unset variable by path', () => {
    const result = validateConfig(reference, {});
    expect(result.ok).toBe(true);
    expect(result.warnings).toContain('model_list[0].litellm_params.api_key: os.environ/AZURE_OPENAI_API_KEY_UAE is not set');
    expect(result.warnings).toContain('general_settings.master_key: os.environ/LITELLM_MASTER_KEY is not set');
  });

  it('reports settings it accepts but does not act on yet, instead of dropping them silently', () => {
    const result = validateConfig(reference, guideEnv);
    // Every pending setting the guide uses is named (the list shrinks as features land).
    for (const [path, why] of Object.entries(PENDING_KEYS)) {
      const [section, key] = path.split('.') as [string, string];
      if (key in ((reference as Record<string, Record<string, unknown>>)[section] ?? {})) expect(result.warnings).toContain(`${path}: ${why}`);
    }
    expect(result.warnings.some((w) => w.startsWith('router_settings.fallbacks: '))).toBe(false);
    expect(result.warnings.some((w) => w.startsWith('litellm_settings.cache_params: Redis is reached over its REST API'))).toBe(true);
    expect(result.warnings.some((w) => w.startsWith('router_settings.redis_host: not needed'))).toBe(true);
    // The secrets the environment supplied never appear in a warning.
    for (const w of result.warnings) expect(w).not.toMatch(/secret|sk-master/);
  });

  it('names each LiteLLM setting it takes but does not act on, and stays quiet about the ones it does', () => {
    const config = {
      ...model({ model: 'openai/gpt-4o' }),
      router_settings: { enable_pre_call_checks: true, routing_strategy_args: { ttl: 60, lowest_latency_buffer: 0.5 } },
      litellm_settings: { store_audit_logs: false },
      general_settings: { disable_spend_logs: true, public_routes: ['/v1/models'], background_health_checks: true, health_check_interval: 300, alerting: ['slack', 'email'] },
      environment_variables: { SLACK_WEBHOOK_URL: 'https://hooks.slack.invalid/x', LANGFUSE_PUBLIC_KEY: 'pk-lf-1' },
    };
    const result = validateConfig(config, {});
    expect(result.ok).toBe(true);
    for (const path of ['router_settings.routing_strategy_args.ttl', 'general_settings.alerting', 'environment_variables.LANGFUSE_PUBLIC_KEY']) {
      expect(result.warnings.filter((w) => w.startsWith(`${path}: `)), path).toHaveLength(1);
    }
    // Acted on (auth/public-routes.ts): nothing to warn about.
    expect(result.warnings.filter((w) => w.startsWith('general_settings.public_routes'))).toEqual([]);
    expect(result.warnings.filter((w) => w.startsWith('environment_variables.SLACK_WEBHOOK_URL'))).toEqual([]);
    // Context windows are always checked before a call: `true` is acted on, `false` is named.
    expect(result.warnings.filter((w) => w.startsWith('router_settings.enable_pre_call_checks') || w.includes('health_check') || w.includes('lowest_latency_buffer:') || w.includes('disable_spend_logs') || w.includes('store_audit_logs'))).toEqual([]);
    const badBuffer = validateConfig({ ...model({ model: 'openai/gpt-4o' }), router_settings: { routing_strategy_args: { lowest_latency_buffer: 'wide' } } }, {});
    expect(badBuffer.ok).toBe(false);
    const unchecked = validateConfig({ ...model({ model: 'openai/gpt-4o' }), router_settings: { enable_pre_call_checks: false } }, {});
    expect(unchecked.ok && unchecked.warnings.filter((w) => w.startsWith('router_settings.enable_pre_call_checks: always on'))).toHaveLength(1);
    expect(result.warnings.join('\n')).not.toContain('"slack"');
    const quiet = validateConfig({ ...model({ model: 'openai/gpt-4o' }), litellm_settings: { store_audit_logs: true }, general_settings: { alerting: ['slack'], enforce_user_param: true, litellm_key_header_name: 'X-Key' } }, {});
    expect(quiet.ok && quiet.warnings).toEqual([]);
  });
});

describe('config errors', () => {
  it('names an unknown provider by path', () => {
    const raw = { model_list: [
      { model_name: 'a', litellm_params: { model: 'mock/a' } },
      { model_name: 'b', litellm_params: { model: 'openai/gpt-4o' } },
      { model_name: 'c', litellm_params: { model: 'azzure/gpt-4o' } },
    ] };
    expect(errorsOf(raw)).toEqual(['model_list[2].litellm_params.model: unknown provider "azzure"']);
  });

  it('lists every problem at once, each by path', () => {
    const raw = {
      model_list: [
        { litellm_params: { model: 'mock/x', rpm: 'many', api_base: 'not a url' } },
        { model_name: 'y', litellm_params: {} },
        { model_name: 'z', litellm_params: { model: 'mystery-model' } },
      ],
      router_settings: { routing_strategy: 'fastest', num_retries: -1, fallbacks: { a: 'b' } },
      litellm_settings: { drop_params: 'yes please', cache_params: { type: 'memcached' } },
      general_settings: { master_key: 'plain', budget_duration: '30 days', alerting: ['pager'] },
    };
    expect(errorsOf(raw)).toEqual([
      'model_list[0].model_name: is required',
      'model_list[0].litellm_params.api_base: expected an http(s) URL',
      'model_list[0].litellm_params.rpm: expected a whole number',
      'model_list[1].litellm_params.model: is required',
      'model_list[2].litellm_params.model: cannot tell the provider of "mystery-model"; write it with a provider prefix such as "openai/mystery-model"',
      'router_settings.routing_strategy: expected one of simple-shuffle, least-busy, usage-based-routing, usage-based-routing-v2, latency-based-routing, cost-based-routing',
      'router_settings.fallbacks: expected a list of {model_group: [fallbacks]}',
      'router_settings.num_retries: must not be negative',
      'litellm_settings.drop_params: expected true or false',
      'litellm_settings.cache_params.type: expected "local" or "redis" (Redis is reached over Upstash REST)',
      'general_settings.master_key: must start with "sk-"',
      'general_settings.alerting[0]: Invalid option: expected one of "slack"|"email"|"webhook"',
      'general_settings.budget_duration: expected a duration like "30s", "30m", "30h", "30d", "1w" or "1mo"',
    ]);
  });

  it('rejects a config that is not a mapping, and a model_list that is not a list', () => {
    expect(errorsOf(['a', 'b'])).toEqual(['(root): expected a mapping with model_list, router_settings, litellm_settings, general_settings']);
    expect(errorsOf({ model_list: { name: 'x' } })).toEqual(['model_list: expected a list of models']);
  });

  it('checks os.environ values once resolved: a non-numeric port from the environment is an error', () => {
    const raw = model({ model: 'mock/m', rpm: 'os.environ/RPM' });
    expect(validateConfig(raw, { RPM: '60' })).toMatchObject({ ok: true, config: { model_list: [{ litellm_params: { rpm: 60 } }] } });
    expect(errorsOf(raw, { RPM: 'sixty' })).toEqual(['model_list[0].litellm_params.rpm: expected a whole number']);
  });

  it('takes booleans as LiteLLM users write them in env vars', () => {
    const raw = { general_settings: { store_model_in_db: 'os.environ/STORE_MODEL_IN_DB' } };
    expect(validateConfig(raw, { STORE_MODEL_IN_DB: 'True' })).toMatchObject({ ok: true, config: { general_settings: { store_model_in_db: true } } });
  });
});

describe('config warnings', () => {
  it('reports keys Tollgate does not know, with their path, and keeps model_info custom keys', () => {
    const raw = {
      model_list: [{ model_name: 'm', litellm_params: { model: 'mock/m', fancy_param: 1 }, model_info: { owner: 'ml-team' } }],
      router_settings: { mystery_setting: true },
      something_else: {},
    };
    const result = validateConfig(raw, {});
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.warnings).toEqual([
      'model_list[0].litellm_params.fancy_param: not supported by Tollgate yet (ignored)',
      'router_settings.mystery_setting: not supported by Tollgate yet (ignored)',
      'something_else: not supported by Tollgate yet (ignored)',
    ]);
    expect(result.config.model_list[0]?.model_info).toEqual({ owner: 'ml-team' });
  });

  it('loads the caps on calls in flight without a warning', () => {
    const result = validateConfig({
      model_list: [{ model_name: 'm', litellm_params: { model: 'mock/m', max_parallel_requests: 4 } }],
      router_settings: { default_max_parallel_requests: 10 },
      general_settings: { global_max_parallel_requests: 100 },
    }, {});
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.warnings).toEqual([]);
    expect(result.config.general_settings.global_max_parallel_requests).toBe(100);
    expect(result.config.router_settings.default_max_parallel_requests).toBe(10);
  });

  it('warns when a fallback names a model group that is not in model_list', () => {
    const raw = { model_list: [{ model_name: 'a', litellm_params: { model: 'mock/a' } }], router_settings: { fallbacks: [{ a: ['b'] }] } };
    const result = validateConfig(raw, {});
    expect(result.warnings).toContain('router_settings.fallbacks[0]: model group "b" is not in model_list (it must be added through /model/new)');
  });

  it('warns about retry_policy and allowed_fails_policy keys that name no LiteLLM error class', () => {
    const raw = {
      model_list: [{ model_name: 'a', litellm_params: { model: 'mock/a' } }],
      router_settings: { retry_policy: { RateLimitErrorRetries: 2, RateLimitRetries: 1 }, allowed_fails_policy: { TimeoutErrorAllowedFails: 5, TimeoutAllowedFails: 5 } },
    };
    const result = validateConfig(raw, {});
    const policyWarnings = result.warnings.filter((w) => w.includes('_policy'));
    expect(policyWarnings).toHaveLength(2);
    expect(policyWarnings[0]).toMatch(/^router_settings\.retry_policy\.RateLimitRetries: not a LiteLLM error class \(ignored; expected one of BadRequestErrorRetries, .*RateLimitErrorRetries/);
    expect(policyWarnings[1]).toMatch(/^router_settings\.allowed_fails_policy\.TimeoutAllowedFails: not a LiteLLM error class/);
  });

  it('takes budget routing as LiteLLM writes it (provider, deployment and tag budgets), quietly, and names a budget without a limit', () => {
    const config = {
      model_list: [{ model_name: 'm', litellm_params: { model: 'openai/gpt-4o', max_budget: 10, budget_duration: '1d' } }],
      router_settings: { provider_budget_config: { openai: { budget_limit: 100, time_period: '1d' }, azure: { budget_limit: '0.5', time_period: '1mo' } } },
      litellm_settings: { tag_budget_config: { 'product:chat-bot': { max_budget: 10, budget_duration: '7d' } } },
    };
    const result = validateConfig(config, {});
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.warnings).toEqual([]);
    expect(result.config.router_settings.provider_budget_config?.azure).toEqual({ budget_limit: 0.5, time_period: '1mo' });
    // Misspelt fields, providers Tollgate does not serve, and budgets that never reset are named.
    const odd = validateConfig({
      model_list: [{ model_name: 'm', litellm_params: { model: 'openai/gpt-4o', budget_duration: '1d' } }, { model_name: 'n', litellm_params: { model: 'openai/gpt-4o', max_budget: 5 } }],
      router_settings: { provider_budget_config: { open_ai: { budget_limit: 1, time_period: '1d' }, openai: { budget_limit: 1, timeperiod: '1d' } } },
      litellm_settings: { tag_budget_config: { team: { max_budget: 1 } } },
    }, {});
    if (!odd.ok) throw new Error(odd.errors.join('\n'));
    expect(odd.warnings).toHaveLength(6);
    expect(odd.warnings).toEqual(expect.arrayContaining([
      'litellm_settings.tag_budget_config.team: no budget_duration: this budget never resets',
      'model_list[0].litellm_params.budget_duration: no max_budget beside it (ignored)',
      'model_list[1].litellm_params.max_budget: no budget_duration: this deployment\'s budget never resets',
      expect.stringMatching(/^router_settings\.provider_budget_config\.open_ai: not a provider Tollgate serves \(ignored: no deployment's calls count in it; expected one of openai, /),
      'router_settings.provider_budget_config.openai.timeperiod: not supported by Tollgate yet (ignored)',
      'router_settings.provider_budget_config.openai: no time_period: this budget never resets (LiteLLM requires one, e.g. 1d or 30d)',
    ]));
    expect(errorsOf({ ...model({ model: 'openai/gpt-4o' }), router_settings: { provider_budget_config: { openai: { time_period: '1d' } } } }))
      .toEqual(['router_settings.provider_budget_config.openai: expected budget_limit (or max_budget)']);
    expect(errorsOf({ ...model({ model: 'openai/gpt-4o', max_budget: 1, budget_duration: 'daily' }) }))
      .toEqual(['model_list[0].litellm_params.budget_duration: expected a duration like "30s", "30m", "30h", "30d", "1w" or "1mo"']);
  });

  it('accepts an empty file', () => {
    expect(validateConfig(null, {})).toMatchObject({ ok: true, config: { model_list: [] } });
  });
});
