import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../scripts/lib/build.ts';
import { nextBudgetReset } from '../worker/limits/windows.ts';
import { adminClient, type Json } from './support/admin.ts';
import { freshDatabase } from './support/database.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { exec, query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// LiteLLM's budget_limits on keys and teams: validated, stored in their own column, answered with each window's end.

/** UTC+4 all year: a window aligned in UTC would end four hours off. */
const ZONE = 'Asia/Dubai';
const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong", input_cost_per_token: 0.001, output_cost_per_token: 0.001}
litellm_settings: {timezone: ${ZONE}}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

let stack: TestStack;
const { call, ok, generate, rows, audits, count, keyRow, chat } = adminClient(() => stack);

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('alice', 'internal_user')`);
});
afterAll(async () => stack?.stop());

/** Expects the end of a `duration` window opened between `before` and now. */
function expectEnd(resetAt: string, duration: string, before: Date, zone = ZONE) {
  const [earliest, latest] = [before, new Date()].map((at) => nextBudgetReset(duration, at, zone)!.getTime());
  expect(Date.parse(resetAt), `${duration} ends ${resetAt}`).toBeGreaterThanOrEqual(earliest!);
  expect(Date.parse(resetAt), `${duration} ends ${resetAt}`).toBeLessThanOrEqual(latest!);
}

/** Checks an answered list against what was asked: same windows, each ending at its next boundary. */
function expectWindows(answered: Json[] | null, asked: { budget_duration: string; max_budget: number }[], before: Date) {
  expect(answered?.map(({ reset_at: _, ...w }) => w)).toEqual(asked);
  for (const [i, w] of (answered ?? []).entries()) {
    expectEnd(w.reset_at, asked[i]!.budget_duration, before);
    expect(Date.parse(w.reset_at)).toBeGreaterThan(Date.now());
  }
}

const DAILY_AND_MONTHLY = [{ budget_duration: '24h', max_budget: 10 }, { budget_duration: '30d', max_budget: 100 }];

/** Bodies each refused with a 422 naming the field (LiteLLM's validation error), whatever else they hold. */
const INVALID: [unknown, string][] = [
  [[{ budget_duration: 'daily', max_budget: 1 }], 'budget_limits.0.budget_duration'],
  [[{ budget_duration: '0d', max_budget: 1 }], 'budget_limits.0.budget_duration'],
  [[{ budget_duration: '99999d', max_budget: 1 }], 'budget_limits.0.budget_duration'],
  [[{ budget_duration: '1d', max_budget: -1 }], 'budget_limits.0.max_budget'],
  [[{ budget_duration: '1d', max_budget: 'ten' }], 'budget_limits.0.max_budget'],
  [[{ budget_duration: '1d' }], 'budget_limits.0.max_budget'],
  [{ budget_duration: '1d', max_budget: 1 }, 'budget_limits'],
  [['1d'], 'budget_limits.0'],
  [[{ budget_duration: '1d', max_budget: 1 }, { budget_duration: '1d', max_budget: 2 }], 'budget_limits.1.budget_duration'],
  [[{ budget_duration: '7d', max_budget: 1 }, { budget_duration: '1w', max_budget: 2 }], 'budget_limits.1.budget_duration'],
  [Array.from({ length: 11 }, (_, i) => ({ budget_duration: `${i + 1}h`, max_budget: 1 })), 'budget_limits'],
];

async function expectRefused(path: string, body: Json) {
  for (const [value, param] of INVALID) {
    const res = await call(path, { ...body, budget_limits: value });
    expect(res.status, JSON.stringify(value)).toBe(422);
    expect(res.body.error).toMatchObject({ type: 'validation_error', code: '422', param });
  }
}

describe('budget_limits on keys', () => {
  it('/key/generate stores the windows in their own column with their ends, not in metadata; a client reset_at is ignored', async () => {
    const before = new Date();
    const body = await generate({ metadata: { env: 'test' }, budget_limits: [{ ...DAILY_AND_MONTHLY[0], reset_at: '2000-01-01T00:00:00Z' }, DAILY_AND_MONTHLY[1]] });
    expectWindows(body.budget_limits, DAILY_AND_MONTHLY, before);
    expect(body.metadata).toEqual({ env: 'test' });
    const row = await keyRow(body.token);
    expect(row!.budget_limits).toEqual(body.budget_limits);
    expect(row!.metadata).toEqual({ env: 'test' });
    const [audit] = await audits(body.token);
    expect(audit!.updated_values.budget_limits).toEqual(body.budget_limits);

    const info = await ok(`/key/info?key=${body.key}`);
    expect(info.info.budget_limits).toEqual(body.budget_limits);
    expect((await ok('/v2/key/info', { keys: [body.key] })).info[0].budget_limits).toEqual(body.budget_limits);
    const listed = await ok(`/key/list?return_full_object=true&key_hash=${body.token}`);
    expect(listed.keys[0].budget_limits).toEqual(body.budget_limits);
    expect((await generate()).budget_limits).toBeNull();
  });

  it('answers an end that has passed as the next one, without writing it', async () => {
    const before = new Date();
    const { key, token } = await generate({ budget_limits: [{ budget_duration: '1d', max_budget: 5 }, { budget_duration: '2h', max_budget: 1 }] });
    const stale = [{ budget_duration: '1d', max_budget: 5, reset_at: '2020-01-01T00:00:00.000Z' }, { budget_duration: '2h', max_budget: 1, reset_at: '2020-01-01T00:00:00.000Z' }];
    await rows('UPDATE "LiteLLM_VerificationToken" SET budget_limits = $1 WHERE token = $2', [JSON.stringify(stale), token]);
    expectWindows((await ok(`/key/info?key=${key}`)).info.budget_limits, [{ budget_duration: '1d', max_budget: 5 }, { budget_duration: '2h', max_budget: 1 }], before);
    expect((await keyRow(token))!.budget_limits).toEqual(stale);
  });

  it('/key/update replaces the list (a window kept keeps its end), null clears it, [] is none; regenerate keeps it', async () => {
    const { key, token, budget_limits: first } = await generate({ budget_limits: [{ budget_duration: '2h', max_budget: 1 }] });
    await new Promise((r) => setTimeout(r, 20));
    const before = new Date();
    const changed = await ok('/key/update', { key, budget_limits: [{ budget_duration: '2h', max_budget: 3 }, { budget_duration: '7d', max_budget: 20 }] });
    expect(changed.budget_limits[0]).toEqual({ budget_duration: '2h', max_budget: 3, reset_at: first[0].reset_at });
    expectWindows(changed.budget_limits.slice(1), [{ budget_duration: '7d', max_budget: 20 }], before);
    expect((await ok('/key/update', { key, key_alias: 'windowed' })).budget_limits).toEqual(changed.budget_limits);
    const rotated = await ok(`/key/${key}/regenerate`, {});
    expect(rotated.budget_limits).toEqual(changed.budget_limits);
    expect((await ok('/key/update', { key: rotated.key, budget_limits: [] })).budget_limits).toEqual([]);
    expect((await ok('/key/update', { key: rotated.key, budget_limits: null })).budget_limits).toBeNull();
    expect((await keyRow(sha256(rotated.key)))!.budget_limits).toBeNull();
    expect(await keyRow(token)).toBeUndefined();
  });

  it('refuses bad lists with a 422 naming the entry, writing nothing', async () => {
    const keys = await count('LiteLLM_VerificationToken');
    const auditRows = await count('LiteLLM_AuditLog');
    await expectRefused('/key/generate', {});
    expect(await count('LiteLLM_VerificationToken')).toBe(keys);
    const { key, token } = await generate({ budget_limits: [{ budget_duration: '1d', max_budget: 1 }] });
    const stored = (await keyRow(token))!.budget_limits;
    await expectRefused('/key/update', { key, key_alias: 'never-written' });
    expect(await keyRow(token)).toMatchObject({ budget_limits: stored, key_alias: null });
    expect(await count('LiteLLM_AuditLog')).toBe(auditRows + 1);
  });

  it("takes effect on the key's next call: its limiter re-reads the windows", async () => {
    const { key } = await generate();
    expect((await chat(key)).choices[0]?.message.content).toBe('pong');
    await ok('/key/update', { key, budget_limits: [{ budget_duration: '1d', max_budget: 0 }] });
    await expect(chat(key)).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });
});

describe('budget_limits on teams', () => {
  it('/team/new, /team/update, /team/info and /team/list answer the windows with their ends', async () => {
    const before = new Date();
    const created = await ok('/team/new', { team_id: 'team-windows', budget_limits: DAILY_AND_MONTHLY });
    expectWindows(created.budget_limits, DAILY_AND_MONTHLY, before);
    expect((await rows('SELECT budget_limits FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['team-windows']))[0]!.budget_limits).toEqual(created.budget_limits);
    expect((await ok('/team/info?team_id=team-windows')).team_info.budget_limits).toEqual(created.budget_limits);
    const listed = (await ok('/team/list')).find((t: Json) => t.team_id === 'team-windows');
    expect(listed.budget_limits).toEqual(created.budget_limits);
    expect((await ok('/team/new', {})).budget_limits).toBeNull();

    const updated = await ok('/team/update', { team_id: 'team-windows', budget_limits: [{ budget_duration: '30d', max_budget: 50 }] });
    expect(updated.data.budget_limits).toEqual([{ ...created.budget_limits[1], max_budget: 50 }]);
    expect((await ok('/team/update', { team_id: 'team-windows', team_alias: 'w' })).data.budget_limits).toEqual(updated.data.budget_limits);
    expect((await ok('/team/update', { team_id: 'team-windows', budget_limits: null })).data.budget_limits).toBeNull();
    const audit = (await audits('team-windows')).filter((a) => a.action === 'updated');
    expect(audit[0]!.updated_values.budget_limits).toEqual(updated.data.budget_limits);
  });

  it('refuses bad lists with a 422 naming the entry, writing nothing', async () => {
    const teams = await count('LiteLLM_TeamTable');
    await expectRefused('/team/new', {});
    expect(await count('LiteLLM_TeamTable')).toBe(teams);
    await ok('/team/new', { team_id: 'team-refuses', budget_limits: [{ budget_duration: '1d', max_budget: 1 }] });
    const auditRows = await count('LiteLLM_AuditLog');
    await expectRefused('/team/update', { team_id: 'team-refuses', team_alias: 'never-written' });
    const [row] = await rows('SELECT team_alias, budget_limits FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['team-refuses']);
    expect(row).toMatchObject({ team_alias: null, budget_limits: [{ budget_duration: '1d', max_budget: 1 }] });
    expect(await count('LiteLLM_AuditLog')).toBe(auditRows);
  });

  it('lets a team admin add and lower windows, not raise or remove one', async () => {
    await ok('/team/new', { team_id: 'team-admin-windows', budget_limits: [{ budget_duration: '1d', max_budget: 5 }], members_with_roles: [{ role: 'admin', user_id: 'alice' }] });
    const alice = await seedKey(stack.databaseUrl, { userId: 'alice' });
    const lowered = await ok('/team/update', { team_id: 'team-admin-windows', budget_limits: [{ budget_duration: '1d', max_budget: 4 }, { budget_duration: '7d', max_budget: 9 }] }, alice);
    expect(lowered.data.budget_limits.map((w: Json) => w.max_budget)).toEqual([4, 9]);
    const raise = await call('/team/update', { team_id: 'team-admin-windows', budget_limits: [{ budget_duration: '1d', max_budget: 6 }] }, alice);
    expect(raise.status).toBe(403);
    expect(raise.body.error.message).toBe("Only a proxy admin can raise a team's 1d budget limit. Current max_budget=4.0, requested=6.0.");
    for (const budgetLimits of [null, [], [{ budget_duration: '7d', max_budget: 9 }]]) {
      expect((await call('/team/update', { team_id: 'team-admin-windows', budget_limits: budgetLimits }, alice)).status).toBe(403);
    }
  });
});

describe('migration 0004_budget_limits', () => {
  const files = readdirSync(join(ROOT, 'drizzle/migrations')).filter((f) => f.endsWith('.sql')).sort();
  const apply = (url: string, file: string) => exec(url, readFileSync(join(ROOT, 'drizzle/migrations', file), 'utf8').replaceAll('--> statement-breakpoint', ''));

  it("moves keys' metadata.budget_limits into the column: well-formed windows, each with its next end in UTC", async () => {
    const db = await freshDatabase();
    try {
      const last = files.indexOf('0004_budget_limits.sql');
      for (const file of files.slice(0, last)) await apply(db.url, file);
      const seed = (token: string, metadata: Json) => query(db.url, 'INSERT INTO "LiteLLM_VerificationToken" (token, metadata) VALUES ($1, $2)', [token.repeat(64), metadata]);
      await seed('a', { env: 'x', budget_limits: [{ budget_duration: '24h', max_budget: 10 }, { budget_duration: '2h', max_budget: 1, reset_at: 'whenever' }] });
      await seed('b', { budget_limits: [{ budget_duration: 'monthly', max_budget: 1 }, { budget_duration: '1w', max_budget: -1 }, { budget_duration: '1mo', max_budget: 'x' },
        { budget_duration: '7d', max_budget: 3 }, { budget_duration: '1w', max_budget: 4 }, 'junk'] });
      await seed('c', { budget_limits: [] });
      await seed('d', { env: 'y' });
      const before = new Date();
      for (const file of files.slice(last)) await apply(db.url, file);
      const moved = new Map((await query<Json>(db.url, 'SELECT token, metadata, budget_limits FROM "LiteLLM_VerificationToken"')).map((r) => [r.token[0], r]));
      expect(moved.get('a')).toMatchObject({ metadata: { env: 'x' } });
      const [daily, plain] = moved.get('a')!.budget_limits;
      expect(daily).toEqual({ budget_duration: '24h', max_budget: 10, reset_at: expect.any(String) });
      expectEnd(daily.reset_at, '24h', before, 'UTC');
      expectEnd(plain.reset_at, '2h', before, 'UTC');
      expect(moved.get('b')).toMatchObject({ metadata: {}, budget_limits: [{ budget_duration: '7d', max_budget: 3, reset_at: expect.any(String) }] });
      expectEnd(moved.get('b')!.budget_limits[0].reset_at, '7d', before, 'UTC');
      expect(moved.get('c')).toMatchObject({ metadata: {}, budget_limits: [] });
      expect(moved.get('d')).toMatchObject({ metadata: { env: 'y' }, budget_limits: null });
    } finally {
      await db.drop();
    }
  });
});
