import { describe, expect, it } from 'vitest';
import type { TollgateConfig } from '../config/schema.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';
import { reachesDeployment, resolveGroup } from './resolve-group.ts';

// Which deployments a requested model name reaches: its group, an alias's, or a wildcard's made concrete.

const d = (id: string, group: string, model: string) => ({ id, group, provider: 'openai', model, params: { model }, info: {} }) as unknown as DeploymentRef;
const catalog: ModelCatalog = {
  groups: new Map([
    ['group-a', [d('a1', 'group-a', 'openai/gpt-4o')]],
    ['empty', []],
    ['openai/*', [d('w1', 'openai/*', 'openai/*')]],
    ['fixed/*', [d('f1', 'fixed/*', 'openai/gpt-4o-mini')]],
    ['nowhere/*', [d('n1', 'nowhere/*', 'no-such-provider/*')]],
    ['*', [d('s1', '*', '*')]],
  ]),
  accessGroups: new Map(),
};
const config = { router_settings: { model_group_alias: { old: 'group-a', hid: { model: 'group-a', hidden: true }, gone: 'group-z', hollow: 'empty' } } } as unknown as TollgateConfig;

describe('resolveGroup', () => {
  it('makes a wildcard deployment concrete for the name, the most specific pattern first', () => {
    expect(resolveGroup(config, catalog, 'openai/gpt-4.1')).toMatchObject({
      group: 'openai/*', deployments: [{ id: 'w1:gpt-4.1', baseId: 'w1', provider: 'openai', model: 'gpt-4.1', params: { model: 'openai/gpt-4.1' } }],
    });
    expect(resolveGroup(config, catalog, 'anthropic/claude-x')).toMatchObject({
      group: '*', deployments: [{ id: 's1:anthropic/claude-x', provider: 'anthropic', model: 'claude-x', params: { model: 'anthropic/claude-x' } }],
    });
    expect(resolveGroup(config, catalog, 'fixed/anything').deployments).toEqual(catalog.groups.get('fixed/*'));
  });
});

describe('reachesDeployment', () => {
  it('answers as resolveGroup does, for groups, aliases, wildcards and names nothing routes', () => {
    const names = ['group-a', 'old', 'hid', 'gone', 'hollow', 'empty', 'openai/gpt-4.1', 'fixed/x', 'anthropic/claude-x', 'gpt-4o', 'nowhere/x', 'unknown-name', 'no-such-provider/x'];
    const expected = { 'group-a': true, old: true, hid: true, gone: false, hollow: false, empty: false, 'openai/gpt-4.1': true, 'fixed/x': true, 'anthropic/claude-x': true, 'gpt-4o': true, 'nowhere/x': false, 'unknown-name': false, 'no-such-provider/x': false };
    for (const name of names) {
      expect([name, reachesDeployment(config, catalog, name)]).toEqual([name, resolveGroup(config, catalog, name).deployments.length > 0]);
      expect([name, reachesDeployment(config, catalog, name)]).toEqual([name, expected[name as keyof typeof expected]]);
    }
  });
});
