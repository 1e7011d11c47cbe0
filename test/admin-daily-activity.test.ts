import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, ADMIN_CONFIG } from './support/admin.ts';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's daily activity reports (the admin UI's usage pages) from the
 * daily rollups the spend-log consumer writes: per day, the metrics and the
 * breakdowns by model, provider, key and entity, paged over rollup rows.
 */

let stack: TestStack;
const { call: admin, ok } = adminClient(() => stack);
const today = new Date().toISOString().slice(0, 10);
let key: string;
let cost = 0;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: ADMIN_CONFIG.replace('mock_response: "pong"}', 'mock_response: "pong", input_cost_per_token: 0.001, output_cost_per_token: 0.001}') });
  await seedTeam(stack.db.url, { id: 'team-search', alias: 'Search' });
  await query(stack.db.url, `UPDATE "LiteLLM_TeamTable" SET members_with_roles = '[{"user_id": "u-ann", "role": "user"}]' WHERE team_id = 'team-search'`);
  await seedTeam(stack.db.url, { id: 'team-other', alias: 'Other' });
  await query(stack.db.url, `INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('u-ann', 'internal_user')`);
  key = await seedKey(stack.db.url, { alias: 'ann-key', teamId: 'team-search', userId: 'u-ann' });
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: `hello ${i}` }], user: 'cust-1', metadata: { tags: ['search-ui'] } }),
    });
    expect(res.status).toBe(200);
    cost += Number(res.headers.get('x-litellm-response-cost'));
  }
  // The rollups are written by the spend-log consumer, after the calls.
  await eventually(async () => ((await admin(`/team/daily/activity?start_date=${today}&end_date=${today}`)).body.metadata?.total_api_requests === 2 ? true : undefined));
});
afterAll(async () => stack?.stop());

const range = `start_date=${today}&end_date=${today}`;

describe('daily activity', () => {
  it('folds a team\'s day into metrics and breakdowns by model, provider, key and team, as LiteLLM\'s usage page reads them', async () => {
    const body = await ok(`/team/daily/activity?${range}&team_ids=team-search`);
    expect(body.results).toHaveLength(1);
    const [day] = body.results;
    expect(day.date).toBe(today);
    expect(day.metrics).toMatchObject({ api_requests: 2, successful_requests: 2, failed_requests: 0 });
    expect(day.metrics.spend).toBeCloseTo(cost, 10);
    expect(day.metrics.total_tokens).toBe(day.metrics.prompt_tokens + day.metrics.completion_tokens);
    expect(day.breakdown.entities['team-search']).toMatchObject({ metadata: { team_alias: 'Search' }, metrics: { api_requests: 2 } });
    expect(day.breakdown.api_keys[sha256(key)]).toMatchObject({ metadata: { key_alias: 'ann-key', team_id: 'team-search', user_id: 'u-ann', key_exists: true }, metrics: { api_requests: 2 } });
    expect(day.breakdown.model_groups['mock-gpt'].api_key_breakdown[sha256(key)].metrics.api_requests).toBe(2);
    expect(day.breakdown.providers.mock.metrics.spend).toBeCloseTo(cost, 10);
    expect(body.metadata).toMatchObject({ total_api_requests: 2, total_successful_requests: 2, page: 1, total_pages: 1, has_more: false });
    expect(body.metadata.total_spend).toBeCloseTo(cost, 10);
  });

  it('reports tags, customers (also as /end_user) and organizations from their own rollups, filtered by id', async () => {
    expect((await ok(`/tag/daily/activity?${range}&tags=search-ui`)).metadata.total_api_requests).toBe(2);
    expect((await ok(`/tag/daily/activity?${range}&tags=other`)).results).toEqual([]);
    for (const path of ['/customer/daily/activity', '/end_user/daily/activity']) {
      const body = await ok(`${path}?${range}&end_user_ids=cust-1`);
      expect(body.results[0].breakdown.entities['cust-1'].metrics.api_requests).toBe(2);
    }
    expect((await ok(`/organization/daily/activity?${range}`)).results).toEqual([]);
  });

  it('pages over rollup rows, and wants both dates', async () => {
    // The master key's call is a second rollup row of the tag's day (another api_key).
    await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], metadata: { tags: ['search-ui'] } }),
    });
    await eventually(async () => ((await ok(`/tag/daily/activity?${range}`)).metadata.total_api_requests === 3 ? true : undefined));
    const first = await ok(`/tag/daily/activity?${range}&page_size=1`);
    expect(first.metadata).toMatchObject({ page: 1, total_pages: 2, has_more: true });
    const second = await ok(`/tag/daily/activity?${range}&page_size=1&page=2`);
    expect(second.metadata).toMatchObject({ page: 2, has_more: false });
    expect(first.metadata.total_api_requests + second.metadata.total_api_requests).toBe(3);
    // The aggregated report (LiteLLM's newer usage pages): the whole range at once, whatever page_size says.
    const whole = await ok(`/tag/daily/activity/aggregated?${range}&page_size=1`);
    expect(whole.metadata).toMatchObject({ total_api_requests: 3, page: 1, total_pages: 1, has_more: false });
    expect(whole.results[0].metrics.api_requests).toBe(3);
    const missing = await admin('/tag/daily/activity?start_date=2026-01-01');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toBe('Please provide start_date and end_date');
  });

  it('shows an internal user its own activity and its own teams\' only', async () => {
    const own = await ok(`/user/daily/activity?${range}`, undefined, key);
    expect(Object.keys(own.results[0].breakdown.entities)).toEqual(['u-ann']);
    expect((await admin(`/user/daily/activity?${range}&user_id=someone-else`, undefined, key)).status).toBe(403);
    const teams = await ok(`/team/daily/activity?${range}`, undefined, key);
    expect(Object.keys(teams.results[0].breakdown.entities)).toEqual(['team-search']);
    expect((await admin(`/team/daily/activity?${range}&team_ids=team-search,team-other`, undefined, key)).status).toBe(403);
    // An organization it administers (none here: nothing to see), and no other.
    expect((await ok(`/organization/daily/activity?${range}`, undefined, key)).results).toEqual([]);
    await query(stack.db.url, `INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias) VALUES ('org-1', 'One'), ('org-2', 'Two')`);
    await query(stack.db.url, `INSERT INTO "LiteLLM_OrganizationMembership" (user_id, organization_id, user_role) VALUES ('u-ann', 'org-1', 'org_admin'), ('u-ann', 'org-2', 'internal_user')`);
    expect((await ok(`/organization/daily/activity?${range}&organization_ids=org-1`, undefined, key)).results).toEqual([]);
    expect((await admin(`/organization/daily/activity?${range}&organization_ids=org-2`, undefined, key)).status).toBe(403);
    expect((await admin(`/customer/daily/activity?${range}`, undefined, key)).status).toBe(403);
    expect((await admin(`/tag/daily/activity/aggregated?${range}`, undefined, key)).status).toBe(403);
    // Another key's activity is not its own user's: nothing.
    expect((await ok(`/user/daily/activity?${range}&api_key=${sha256(TEST_MASTER_KEY)}`, undefined, key)).results).toEqual([]);
    // A key of no user sees no user's activity.
    const userless = await seedKey(stack.db.url);
    expect((await admin(`/user/daily/activity?${range}`, undefined, userless)).status).toBe(403);
    expect((await admin(`/tag/daily/activity?${range}&page=1e17`)).status).toBe(422);
  });
});
