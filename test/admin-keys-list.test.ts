import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS_CONFIG, adminClient, seedKeyFixture, type Json } from './support/admin.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// Listing keys: /key/list and /key/aliases, each scoped to what the caller may see.

let stack: TestStack;
const { call, generate, rows } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: KEYS_CONFIG });
  await seedKeyFixture(rows);
});
afterAll(async () => stack?.stop());

describe('GET /key/list', () => {
  it('pages hashes or full objects, sorted and filtered', async () => {
    const made = [];
    for (const alias of ['l-c', 'l-a', 'l-b']) made.push(await generate({ key_alias: alias, user_id: 'lister' }));
    const page1 = await call('/key/list?user_id=lister&size=2&sort_by=key_alias&sort_order=asc');
    expect(page1).toMatchObject({ status: 200, body: { total_count: 3, current_page: 1, total_pages: 2 } });
    const byAlias = Object.fromEntries(made.map((m) => [m.key_alias, m.token]));
    expect(page1.body.keys).toEqual([byAlias['l-a'], byAlias['l-b']]);
    const page2 = await call('/key/list?user_id=lister&size=2&page=2&sort_by=key_alias&sort_order=asc&return_full_object=true');
    expect(page2.body.keys).toHaveLength(1);
    expect(page2.body.keys[0]).toMatchObject({ token: byAlias['l-c'], key_alias: 'l-c', user_id: 'lister' });
    expect((await call(`/key/list?key_alias=l-b`)).body.keys).toEqual([byAlias['l-b']]);
    expect((await call('/key/list?size=101')).status).toBe(422);
    const own = await call('/key/list', undefined, made[0]?.key);
    expect(own.body.total_count).toBe(3);
    expect((await call('/key/list?user_id=someone-else', undefined, made[0]?.key)).status).toBe(403);
  });

  it('shows a team admin their team\'s keys', async () => {
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    await generate({ team_id: 'team-a', user_id: 'someone' });
    const team = await call('/key/list?team_id=team-a&return_full_object=true&size=100', undefined, alice);
    expect(team.status).toBe(200);
    expect(team.body.keys.every((k: Json) => k.team_id === 'team-a')).toBe(true);
    const [{ n }] = await rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken" WHERE user_id = 'alice' OR team_id = 'team-a'`) as [Json];
    expect((await call('/key/list?include_team_keys=true', undefined, alice)).body.total_count).toBe(n);
  });
});

describe('GET /key/aliases', () => {
  it('pages the distinct aliases of the keys the caller may list, searched in any case', async () => {
    for (const [alias, user] of [['Zeta_Search', 'aliaser'], ['alpha-search', 'aliaser'], ['gamma-search', 'other-aliaser'], ['beta%search', 'other-aliaser']]) {
      await generate({ key_alias: alias, user_id: user });
    }
    const searched = await call('/key/aliases?search=SEARCH&size=3');
    expect(searched).toMatchObject({ status: 200, body: { aliases: ['alpha-search', 'beta%search', 'gamma-search'], total_count: 4, current_page: 1, total_pages: 2 } });
    expect((await call('/key/aliases?search=SEARCH&size=3&page=2')).body.aliases).toEqual(['Zeta_Search']);
    // LIKE's own characters are themselves: `%` matches only a percent sign, `_` only an underscore.
    expect((await call('/key/aliases?search=%25')).body.aliases).toEqual(['beta%search']);
    expect((await call('/key/aliases?search=a_s')).body.aliases).toEqual(['Zeta_Search']);
    // Another user's key sees the aliases of its own user's keys only.
    const own = (await generate({ user_id: 'aliaser' })).key;
    expect((await call('/key/aliases?search=search', undefined, own)).body.aliases).toEqual(['alpha-search', 'Zeta_Search']);
    expect((await call('/key/aliases?team_id=team-a', undefined, own)).body.aliases).toEqual([]);
    expect((await call('/key/aliases?size=101')).status).toBe(422);
    // A value Postgres cannot take (a NUL in a text) is the request's fault: a 400, not a 500.
    const nul = await call('/key/aliases?search=a%00b');
    expect(nul.status).toBe(400);
    expect(nul.body.error.message).toMatch(/^Invalid value in the request: .*0x00/);
  });
});
