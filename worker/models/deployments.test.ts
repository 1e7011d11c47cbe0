import { describe, expect, it } from 'vitest';
import type { TollgateConfig } from '../config/schema.ts';
import { buildCatalog, type DeploymentRef, pickDeployment } from './deployments.ts';

const deployment = (id: string, params: Record<string, unknown>): DeploymentRef =>
  ({ id, group: 'g', provider: 'openai', model: 'gpt-4o', params: { model: 'openai/gpt-4o', ...params }, info: {} }) as unknown as DeploymentRef;

/** How often each deployment is picked for `n` evenly spread rolls. */
function shares(deployments: DeploymentRef[], n = 1000): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const picked = pickDeployment(deployments, () => (i + 0.5) / n)!;
    counts[picked.id] = (counts[picked.id] ?? 0) + 1;
  }
  return counts;
}

describe('simple-shuffle', () => {
  it('weighs by weight, then rpm, then tpm, as LiteLLM does; uniformly when none is set', () => {
    expect(shares([deployment('a', { weight: 1 }), deployment('b', { weight: 3 })])).toEqual({ a: 250, b: 750 });
    expect(shares([deployment('a', { rpm: 100 }), deployment('b', { rpm: 300 })])).toEqual({ a: 250, b: 750 });
    expect(shares([deployment('a', { tpm: 10_000 }), deployment('b', { tpm: 40_000 })])).toEqual({ a: 200, b: 800 });
    // weight wins over rpm for the whole group; a deployment without it gets nothing.
    expect(shares([deployment('a', { weight: 1, rpm: 1 }), deployment('b', { rpm: 1000 })])).toEqual({ a: 1000 });
    expect(shares([deployment('a', {}), deployment('b', {})])).toEqual({ a: 500, b: 500 });
  });

  it('picks the only deployment, and nothing from none', () => {
    const only = deployment('only', { weight: 0 });
    expect(pickDeployment([only])).toBe(only);
    expect(pickDeployment([])).toBeUndefined();
  });
});

describe('deployment ids', () => {
  it('are LiteLLM-style hashes of the entry, which a budget changed in config.yaml leaves as they were', async () => {
    const idOf = async (params: Record<string, unknown>) => {
      const catalog = await buildCatalog({ model_list: [{ model_name: 'g', litellm_params: { model: 'openai/gpt-4o', ...params } }] } as unknown as TollgateConfig);
      return catalog.groups.get('g')![0]!.id;
    };
    const plain = await idOf({});
    // The spend counted under a deployment's budget stays its own when the budget is raised or lowered.
    expect(await idOf({ max_budget: 10, budget_duration: '1d' })).toBe(plain);
    expect(await idOf({ max_budget: 20, budget_duration: '30d' })).toBe(plain);
    expect(await idOf({ api_base: 'https://elsewhere.example/v1' })).not.toBe(plain);
  });
});
