import { describe, expect, it } from 'vitest';
import type { TollgateConfig } from '../config/schema.ts';
import { Refreshed } from '../db/refreshed.ts';
import { mustReadCatalog } from './catalog-wait.ts';
import type { DeploymentRef, ModelCatalog } from './deployments.ts';

// Which requests wait for a fresh read of the DB models (and the router settings stored with them) before routing.

const d = (group: string, model: string) => ({ id: group, group, provider: 'openai', model, params: { model: `openai/${model}` }, info: {} }) as unknown as DeploymentRef;
const catalog: ModelCatalog = { groups: new Map([['group-a', [d('group-a', 'gpt-4o')]], ['openai/*', [d('openai/*', '*')]]]), accessGroups: new Map() };
const config = { router_settings: { model_group_alias: { old: 'group-a', gone: 'group-z' } } } as unknown as TollgateConfig;

/** A catalog whose reads are counted and return the same models. */
function counted() {
  const reads = { count: 0 };
  const refreshed = new Refreshed(catalog, 'DB models', async () => {
    reads.count++;
    return catalog;
  });
  return { refreshed, reads };
}
const ctx = { waitUntil: () => undefined };

describe('mustReadCatalog', () => {
  it('waits until the isolate\'s first read has ended, for every request, one naming config.yaml\'s group too', async () => {
    const { refreshed, reads } = counted();
    expect(mustReadCatalog(config, refreshed, 'group-a')).toBe(true);
    expect(mustReadCatalog(config, refreshed, undefined)).toBe(true);
    await refreshed.current(ctx, true);
    expect(reads.count).toBe(1);
    expect(mustReadCatalog(config, refreshed, 'group-a')).toBe(false);
    expect(mustReadCatalog(config, refreshed, undefined)).toBe(false);
  });

  it('lets a name the catalog routes through model_group_alias or a wildcard go without a read of its own', async () => {
    const { refreshed, reads } = counted();
    await refreshed.current(ctx, mustReadCatalog(config, refreshed, 'old'));
    for (const name of ['old', 'openai/gpt-4o-mini', 'group-a']) {
      await refreshed.current(ctx, mustReadCatalog(config, refreshed, name));
    }
    // The first read only: none of these calls waited for another.
    expect(reads.count).toBe(1);
  });

  it('waits for a name nothing routes: no group, an alias to a group there is not, no wildcard', async () => {
    const { refreshed } = counted();
    await refreshed.current(ctx, true);
    expect(mustReadCatalog(config, refreshed, 'group-new')).toBe(true);
    expect(mustReadCatalog(config, refreshed, 'gone')).toBe(true);
  });
});
