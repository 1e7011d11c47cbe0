import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, type Json } from './support/admin.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// upperbound_key_generate_params on the bulk updates, and on a key's temporary budget increase.

let stack: TestStack;
const { call, generate, rows, keyRow } = adminClient(() => stack);

const OVER = (field: string, value: unknown, max: unknown) => `${field} is over max limit set in config - user_value=${value}; max_value=${max}`;
const OVER_TEMP = (maxBudget: number, increase: number, max: number) =>
  `max_budget + temp_budget_increase is over max limit set in config - user_value=${maxBudget} + ${increase}; max_value=${max}`;
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString();

function expectRefused(res: { status: number; body: Json }, message: string, param: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error).toMatchObject({ type: 'bad_request_error', message, param });
}

beforeAll(async () => {
  stack = await startTestStack({ configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
litellm_settings:
  timezone: UTC
  upperbound_key_generate_params: {max_budget: 10, rpm_limit: 50}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
` });
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins) VALUES ('team-c', 'C', '{cadmin}')`);
});
afterAll(async () => stack?.stop());

describe('ceilings on the bulk updates', () => {
  it('refuses each key of a /key/bulk_update over a ceiling on its own, applying the others', async () => {
    const a = await generate({ max_budget: 5 });
    const b = await generate({ max_budget: 5 });
    const res = await call('/key/bulk_update', { keys: [{ key: a.key, max_budget: 11 }, { key: b.key, max_budget: 9 }] });
    expect(res.status).toBe(200);
    expect(res.body.failed_updates).toEqual([{ key: a.token, key_info: null, failed_reason: OVER('max_budget', 11, 10) }]);
    expect(res.body.successful_updates.map((u: Json) => [u.key, u.key_info.max_budget])).toEqual([[b.token, 9]]);
    expect((await keyRow(a.token))?.max_budget).toBe(5);
    expect((await keyRow(b.token))?.max_budget).toBe(9);
  });

  it("refuses a /team/key/bulk_update over a ceiling, or clearing one, on every key, for the team's admin and the master key", async () => {
    const admin = await seedKey(stack.databaseUrl, { userId: 'cadmin' });
    const a = await generate({ team_id: 'team-c', user_id: 'cadmin', max_budget: 5 });
    const b = await generate({ team_id: 'team-c', user_id: 'cadmin', max_budget: 6 });
    const failed = (reason: string) => [a, b].map((k) => ({ key: k.token, key_info: null, failed_reason: reason }));
    for (const [fields, reason, key] of [
      [{ max_budget: 20 }, OVER('max_budget', 20, 10), admin],
      [{ rpm_limit: null }, OVER('rpm_limit', 'None', 50), admin],
      [{ max_budget: 11 }, OVER('max_budget', 11, 10), undefined],
    ] as const) {
      const res = await call('/team/key/bulk_update', { team_id: 'team-c', all_keys_in_team: true, update_fields: fields }, key);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ total_requested: 2, successful_updates: [] });
      expect(res.body.failed_updates).toEqual(expect.arrayContaining(failed(reason)));
    }
    expect([(await keyRow(a.token))?.max_budget, (await keyRow(b.token))?.max_budget]).toEqual([5, 6]);
    const within = await call('/team/key/bulk_update', { team_id: 'team-c', key_ids: [a.key, b.key], update_fields: { max_budget: 10, rpm_limit: 50 } }, admin);
    expect(within.body.failed_updates).toEqual([]);
    expect(within.body.successful_updates.map((u: Json) => u.key_info)).toEqual([a, b].map(() => expect.objectContaining({ max_budget: 10, rpm_limit: 50 })));
  });
});

describe('temp_budget_increase under the max_budget ceiling', () => {
  it('refuses an increase that lifts the budget a key is held to over the ceiling, on /key/update, /key/bulk_update and /team/key/bulk_update', async () => {
    const k = await generate({ max_budget: 5, team_id: 'team-c' });
    const stored = await keyRow(k.token);
    expectRefused(await call('/key/update', { key: k.key, temp_budget_increase: 6, temp_budget_expiry: tomorrow() }), OVER_TEMP(5, 6, 10), 'temp_budget_increase');
    // The max_budget the update sets is the one counted.
    expectRefused(await call('/key/update', { key: k.key, max_budget: 8, temp_budget_increase: 3, temp_budget_expiry: tomorrow() }), OVER_TEMP(8, 3, 10), 'temp_budget_increase');
    const bulk = await call('/key/bulk_update', { keys: [{ key: k.key, temp_budget_increase: 20, temp_budget_expiry: tomorrow() }] });
    expect(bulk.body.failed_updates).toEqual([{ key: k.token, key_info: null, failed_reason: OVER_TEMP(5, 20, 10) }]);
    const team = await call('/team/key/bulk_update', { team_id: 'team-c', key_ids: [k.key], update_fields: { temp_budget_increase: 5.5, temp_budget_expiry: tomorrow() } });
    expect(team.body.failed_updates).toEqual([{ key: k.token, key_info: null, failed_reason: OVER_TEMP(5, 5.5, 10) }]);
    expect(await keyRow(k.token)).toEqual(stored);
    // Up to the ceiling is allowed.
    const res = await call('/key/update', { key: k.key, temp_budget_increase: 5, temp_budget_expiry: tomorrow() });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.metadata).toMatchObject({ temp_budget_increase: 5 });
  });

  it('counts the increase a key has while it lasts when max_budget is raised, on /key/update and /key/regenerate', async () => {
    const k = await generate({ max_budget: 4 });
    expect((await call('/key/update', { key: k.key, temp_budget_increase: 5, temp_budget_expiry: tomorrow() })).status).toBe(200);
    expectRefused(await call('/key/update', { key: k.key, max_budget: 6 }), OVER_TEMP(6, 5, 10), 'max_budget');
    expectRefused(await call(`/key/${encodeURIComponent(k.key)}/regenerate`, { max_budget: 7 }), OVER_TEMP(7, 5, 10), 'max_budget');
    expect((await keyRow(k.token))?.max_budget).toBe(4);
    expect((await call('/key/update', { key: k.key, max_budget: 5 })).status).toBe(200);
    // Once the increase has expired (or is cleared) it no longer counts.
    await rows(`UPDATE "LiteLLM_VerificationToken" SET metadata = metadata || '{"temp_budget_expiry": "2020-01-01T00:00:00Z"}' WHERE token = $1`, [k.token]);
    expect((await call('/key/update', { key: k.key, max_budget: 10 })).status).toBe(200);
  });
});
