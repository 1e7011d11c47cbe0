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
      'general_settings.alerting[0]: Invalid option: expected one of "slack"|"email"|"webhook"|"pagerduty"',
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
