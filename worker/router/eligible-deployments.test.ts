import { describe, expect, it } from 'vitest';
import type { DeploymentRef } from '../models/deployments.ts';
import { deploymentsForTags, eligibleDeployments, routingTags } from './eligible-deployments.ts';

const d = (id: string, params: Record<string, unknown>) => ({ id, group: 'g', provider: 'mock', model: id, params, info: {} }) as unknown as DeploymentRef;
const a = d('a', { tags: ['teamA'], region_name: 'eu' });
const ab = d('ab', { tags: ['teamA', 'teamB'], region_name: 'us' });
const def = d('def', { tags: ['default'], region_name: 'eu' });
const ids = (list: DeploymentRef[] | unknown) => (Array.isArray(list) ? list.map((x: DeploymentRef) => x.id) : list);

describe('deploymentsForTags', () => {
  it('matches any tag, or every tag with match_any off; defaults serve the rest', () => {
    expect(ids(deploymentsForTags([a, ab, def], ['teamB', 'x'], true))).toEqual(['ab']);
    expect(ids(deploymentsForTags([a, ab, def], ['teamA', 'teamB'], false))).toEqual(['ab']);
    expect(ids(deploymentsForTags([a, ab, def], ['teamA', 'x'], false))).toEqual(['def']);
    expect(ids(deploymentsForTags([a, ab, def], [], true))).toEqual(['def']);
    expect(ids(deploymentsForTags([a, ab], [], true))).toEqual(['a', 'ab']);
    expect(deploymentsForTags([a, ab], ['x'], true)).toBeUndefined();
  });
});

describe('eligibleDeployments', () => {
  it('keeps the region first, then the tags, and says why when none is left', () => {
    const on = { enable_tag_filtering: true };
    expect(ids(eligibleDeployments([a, ab, def], { region: 'eu', tags: ['teamA'] }, on, 'g', 'g'))).toEqual(['a']);
    // The region's deployments only: ab (us) matches teamB but is not in the EU; the EU default serves.
    expect(ids(eligibleDeployments([a, ab, def], { region: 'eu', tags: ['teamB'] }, on, 'g', 'g'))).toEqual(['def']);
    expect((eligibleDeployments([a, ab], { region: 'ap' }, on, 'g', 'g') as Error).message).toContain('allowed_model_region=ap');
    expect((eligibleDeployments([a, ab], { tags: ['x'] }, on, 'req', 'g') as Error).message).toBe('Not allowed to access model due to tags configuration. Passed model=req and tags=["x"]');
    // Tag filtering off: tags change nothing.
    expect(ids(eligibleDeployments([a, ab, def], { tags: ['x'] }, {}, 'g', 'g'))).toEqual(['a', 'ab', 'def']);
  });
});

describe('routingTags', () => {
  it('joins the request\'s tags with its key\'s (column and metadata) and its team\'s', () => {
    const key = { tags: ['k1'], metadata: { tags: ['k2', 7] }, team: { metadata: { tags: ['t1', 'k1'] } } };
    expect(routingTags(['r1'], key)).toEqual(['r1', 'k1', 'k2', 't1']);
    expect(routingTags(['r1'], undefined)).toEqual(['r1']);
  });
});
