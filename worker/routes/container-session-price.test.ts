import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate.ts';
import { buildCatalog } from '../models/deployments.ts';
import { sessionPrice } from '../cost/container-price.ts';

/** The deployment of a one-entry config, as the containers route sees it. */
async function deploymentOf(entry: Record<string, unknown>) {
  const result = validateConfig({ model_list: [{ model_name: 'ci', ...entry }] }, {});
  if (!result.ok) throw new Error(result.errors.join('\n'));
  const catalog = await buildCatalog(result.config);
  const deployment = catalog.groups.get('ci')?.[0];
  if (!deployment) throw new Error('no deployment');
  return { deployment, warnings: result.warnings };
}

describe('container session price', () => {
  it('takes code_interpreter_cost_per_session from litellm_params without a warning', async () => {
    const { deployment, warnings } = await deploymentOf({ litellm_params: { model: 'openai/gpt-4o', api_key: 'sk-x', code_interpreter_cost_per_session: 0.05 } });
    expect(warnings).toEqual([]);
    expect(sessionPrice(deployment, undefined)).toBeCloseTo(0.05);
    expect(sessionPrice(deployment, '4g')).toBeCloseTo(0.2);
  });

  it('prefers model_info over litellm_params, and defaults to 0.03 per 1 GB session', async () => {
    const both = await deploymentOf({
      litellm_params: { model: 'openai/gpt-4o', api_key: 'sk-x', code_interpreter_cost_per_session: 0.05 },
      model_info: { code_interpreter_cost_per_session: 0.07 },
    });
    expect(sessionPrice(both.deployment, '1g')).toBeCloseTo(0.07);
    const none = await deploymentOf({ litellm_params: { model: 'openai/gpt-4o', api_key: 'sk-x' } });
    expect(sessionPrice(none.deployment, '16g')).toBeCloseTo(0.48);
  });

  it('refuses a negative price in litellm_params', () => {
    const result = validateConfig({ model_list: [{ model_name: 'ci', litellm_params: { model: 'openai/gpt-4o', code_interpreter_cost_per_session: -1 } }] }, {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain('code_interpreter_cost_per_session');
  });
});
