import { describe, expect, it } from 'vitest';
import { validateConfig } from './validate.ts';

function errorsOf(raw: unknown, env: Record<string, string> = {}): string[] {
  const result = validateConfig(raw, env);
  if (result.ok) throw new Error(`expected errors, got a valid config (warnings: ${result.warnings.join('; ')})`);
  return result.errors;
}

const model = (litellm_params: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({ model_list: [{ model_name: 'm', litellm_params, ...extra }] });

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

  it('takes service_callback: [prometheus_system] (LiteLLM\'s service metrics) without a warning, and warns of other services', () => {
    const on = validateConfig({ ...model({ model: 'mock/m' }), litellm_settings: { service_callback: ['prometheus_system'] } }, {});
    if (!on.ok) throw new Error(on.errors.join('\n'));
    expect(on.warnings).toEqual([]);
    const other = validateConfig({ ...model({ model: 'mock/m' }), litellm_settings: { service_callback: ['prometheus_system', 'datadog'] } }, {});
    if (!other.ok) throw new Error(other.errors.join('\n'));
    expect(other.warnings).toEqual(['litellm_settings.service_callback: "datadog" is not supported by Tollgate yet (ignored; supported: prometheus_system)']);
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

  it('warns of fallback entries the router cannot use, in router_settings and litellm_settings, as a stored row is refused them', () => {
    const raw = {
      model_list: [{ model_name: 'a', litellm_params: { model: 'mock/a' } }, { model_name: 'b', litellm_params: { model: 'mock/b' } }],
      router_settings: { fallbacks: [{ a: ['b'] }, {}], context_window_fallbacks: [{ a: [] }, { ' ': ['b'] }], default_fallbacks: ['b', ''] },
      litellm_settings: { content_policy_fallbacks: [{ a: ['b', ' '] }] },
    };
    const result = validateConfig(raw, {});
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.warnings.filter((w) => !w.includes('is not in model_list'))).toEqual([
      'router_settings.fallbacks[1]: names no model group (ignored; expected {model_group: [fallbacks]})',
      'router_settings.context_window_fallbacks[0].a: names no fallback model group (the group gets none from this list)',
      'router_settings.context_window_fallbacks[1]: a model group name is blank (ignored: no call names it)',
      'router_settings.default_fallbacks[1]: a fallback model group name is blank (no model group answers to it)',
      'litellm_settings.content_policy_fallbacks[0].a: a fallback model group name is blank (no model group answers to it)',
    ]);
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
