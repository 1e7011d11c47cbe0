import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate.ts';
import type { TollgateConfig } from '../config/schema.ts';
import { forwardsByGroup, groupForwardsHeaders } from './header-groups.ts';

const base = { model_list: [{ model_name: 'm', litellm_params: { model: 'mock/m' } }, { model_name: 'byok/*', litellm_params: { model: 'openai/*' } }] };

function loaded(raw: Record<string, unknown>): { config: TollgateConfig; warnings: string[] } {
  const result = validateConfig({ ...base, ...raw }, {});
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return { config: result.config, warnings: result.warnings };
}

describe('forwarding client headers by model group', () => {
  it('loads litellm_settings.model_group_settings without a warning, and matches names exactly or by * pattern', () => {
    const { config, warnings } = loaded({ litellm_settings: { model_group_settings: { forward_client_headers_to_llm_api: ['m', 'byok/*'] } } });
    expect(warnings).toEqual([]);
    expect(forwardsByGroup(config)).toBe(true);
    expect(groupForwardsHeaders(config, ['m'])).toBe(true);
    expect(groupForwardsHeaders(config, ['byok/*', 'byok/gpt-4o'])).toBe(true);
    expect(groupForwardsHeaders(config, ['byok.gpt'])).toBe(false);
    expect(groupForwardsHeaders(config, ['mm', 'other'])).toBe(false);
  });

  it('nothing named: no group forwards', () => {
    const { config } = loaded({ router_settings: { model_group_affinity_config: { m: ['session_affinity'] } } });
    expect(forwardsByGroup(config)).toBe(false);
    expect(groupForwardsHeaders(config, ['m'])).toBe(false);
  });

  it('model_group_affinity_config listing forward_client_headers_by_model_group names no group, and says so', () => {
    const { config, warnings } = loaded({ router_settings: { model_group_affinity_config: { m: ['forward_client_headers_by_model_group'] } } });
    expect(forwardsByGroup(config)).toBe(false);
    expect(groupForwardsHeaders(config, ['m'])).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/^router_settings\.model_group_affinity_config\.m: "forward_client_headers_by_model_group" has no effect here/)]);
  });

  it('refuses a list that is not one, by its path', () => {
    const result = validateConfig({ ...base, litellm_settings: { model_group_settings: { forward_client_headers_to_llm_api: 'm' } } }, {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(/model_group_settings\.forward_client_headers_to_llm_api.*expected a list of strings/);
  });

  it('warns that the pre-call check names no group by itself, and is quiet once model_group_settings does', () => {
    expect(loaded({ router_settings: { optional_pre_call_checks: ['forward_client_headers_by_model_group'] } }).warnings).toEqual([
      'router_settings.optional_pre_call_checks: "forward_client_headers_by_model_group" names no model group by itself (no effect): list the groups in litellm_settings.model_group_settings.forward_client_headers_to_llm_api',
    ]);
    expect(loaded({
      router_settings: { optional_pre_call_checks: ['forward_client_headers_by_model_group', 'encrypted_content_affinity'] },
      litellm_settings: { model_group_settings: { forward_client_headers_to_llm_api: ['m'] } },
    }).warnings).toEqual([]);
  });
});
