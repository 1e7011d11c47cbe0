import OpenAI from 'openai';
import { expect } from 'vitest';
import { seedKey, seedTeam, sha256 } from './keys.ts';
import { query } from './pg-client.ts';
import { TEST_MASTER_KEY, type TestStack } from './stack.ts';

// LiteLLM's admin answers are loose JSON; tests pick fields out of them freely.
export type Json = Record<string, any>;

/** One mock model answering "pong", UTC budget resets, the master key from the environment. */
export const ADMIN_CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

/** ADMIN_CONFIG plus a second model, so a key's model list can be seen to refuse one. */
export const KEYS_CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "pong"}
  - model_name: other-model
    litellm_params: {model: mock/other-model}
  - model_name: free-gpt
    litellm_params: {model: mock/free-gpt, mock_response: "free", input_cost_per_token: 0, output_cost_per_token: 0}
litellm_settings: {timezone: UTC}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

/** The keys of a LiteLLM_TeamTable row as /team/new, /team/update and /team/block answer it. */
export const TEAM_FIELDS = [
  'admins', 'blocked', 'budget_duration', 'budget_id', 'budget_limits', 'budget_reset_at', 'created_at', 'max_budget', 'max_parallel_requests', 'members',
  'members_with_roles', 'metadata', 'model_aliases', 'model_max_budget', 'model_rpm_limit', 'model_spend', 'model_tpm_limit', 'models',
  'organization_id', 'rpm_limit', 'soft_budget', 'spend', 'team_alias', 'team_id', 'tpm_limit', 'updated_at',
];

/** The keys of a LiteLLM_BudgetTable row, alone (/budget/new) or nested as litellm_budget_table. */
export const BUDGET_FIELDS = ['allowed_models', 'budget_duration', 'budget_id', 'budget_reset_at', 'created_at', 'created_by', 'max_budget', 'max_parallel_requests',
  'model_max_budget', 'rpm_limit', 'soft_budget', 'tpm_limit', 'updated_at', 'updated_by'];

export interface AdminRequest {
  /** Defaults to GET without a body and POST with one. */
  method?: string;
  headers?: Record<string, string>;
}

/**
 * Calls on one test file's admin API and database. The stack is started in
 * `beforeAll`, after this runs at module load, hence the getter.
 *
 * @example
 * let stack: TestStack;
 * const { call, ok, rows } = adminClient(() => stack);
 * beforeAll(async () => { stack = await startTestStack({ configYaml: ADMIN_CONFIG }); });
 */
export function adminClient(stack: () => TestStack) {
  /** A body that is a string goes as is, so tests can send malformed JSON. A null key sends no authorization. */
  async function call(path: string, body?: unknown, key: string | null = TEST_MASTER_KEY, request: AdminRequest = {}) {
    const res = await fetch(`${stack().url}${path}`, {
      method: request.method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json', ...request.headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() as Json };
  }

  /** `call` that expects a 200 and returns the body. */
  async function ok(path: string, body?: unknown, key: string | null = TEST_MASTER_KEY, request: AdminRequest = {}) {
    const res = await call(path, body, key, request);
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body;
  }

  /** Every plain key `generate` was given, to prove none reaches the database or the audit log. */
  const plainKeys: string[] = [];

  /** POST /key/generate that expects a 200 and remembers the plain key. */
  async function generate(body: Json = {}, key = TEST_MASTER_KEY): Promise<Json> {
    const res = await call('/key/generate', body, key);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    plainKeys.push(res.body.key);
    return res.body;
  }

  const rows = (sql: string, params: unknown[] = []) => query<Json>(stack().databaseUrl, sql, params);
  const audits = (objectId: string) => rows('SELECT * FROM "LiteLLM_AuditLog" WHERE object_id = $1 ORDER BY updated_at', [objectId]);
  const count = async (table: string) => Number((await rows(`SELECT count(*) AS n FROM "${table}"`))[0]?.n);
  const keyRow = async (token: string) => (await rows('SELECT * FROM "LiteLLM_VerificationToken" WHERE token = $1', [token]))[0];
  /** One chat completion through the gateway, so a test can see whether an admin change lets a key through. */
  const chat = (key: string, model = 'mock-gpt') => new OpenAI({ baseURL: `${stack().url}/v1`, apiKey: key, maxRetries: 0 })
    .chat.completions.create({ model, messages: [{ role: 'user', content: 'ping' }] });

  /** Every plain key `generate` gave out (and `extra`) is absent from the whole audit log; the log's text, for more checks. */
  async function auditLogFreeOfPlainKeys(extra: string[] = []): Promise<string> {
    const all = (await rows('SELECT row_to_json(a)::text AS j FROM "LiteLLM_AuditLog" a')).map((r) => r.j as string).join('\n');
    for (const key of [...plainKeys, ...extra, TEST_MASTER_KEY]) expect(all).not.toContain(key);
    return all;
  }

  return { call, ok, generate, plainKeys, rows, audits, count, keyRow, chat, auditLogFreeOfPlainKeys };
}

/** The teams, users and budget the key suites share (KEYS_CONFIG): team-a (admin alice), team-b (admin bob, member alice), root, alice, budget-1. */
export async function seedKeyFixture(rows: (sql: string) => Promise<unknown>): Promise<void> {
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, admins, members_with_roles) VALUES
    ('team-a', 'A', '{alice}', '[]'), ('team-b', 'B', '{}', '[{"role":"admin","user_id":"bob"},{"role":"user","user_id":"alice"}]')`);
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('root', 'proxy_admin'), ('alice', 'internal_user')`);
  await rows(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget) VALUES ('budget-1', 42)`);
}

// The spend-log fixture shared by the /spend/logs and /global/spend/* files.

export const SPEND_CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0.5, output_cost_per_token: 0.25}
`;

export type SpendKeyName = 'a1' | 'a2' | 'b' | 'none' | 'viewer';
export type SpendKeys = Record<SpendKeyName, string>;

export interface SpendRow {
  id: string;
  key: SpendKeyName;
  team: string | null;
  model: string;
  spend: number;
  prompt: number;
  completion: number;
  at: string;
  user: string;
  endUser?: string;
}

// Spend values are exact in binary, so sums compare with toEqual. r6 and r7 fall outside 2026-01-01..02.
export const SPEND_ROWS: SpendRow[] = [
  { id: 'r1', key: 'a1', team: 'team-a', model: 'gpt-4o', spend: 1, prompt: 60, completion: 40, at: '2026-01-01T10:00:00Z', user: 'u1', endUser: 'c1' },
  { id: 'r2', key: 'a2', team: 'team-a', model: 'gpt-4o-mini', spend: 0.5, prompt: 30, completion: 20, at: '2026-01-01T23:59:59.999Z', user: 'u2', endUser: 'c2' },
  { id: 'r3', key: 'b', team: 'team-b', model: 'gpt-4o', spend: 0.25, prompt: 10, completion: 10, at: '2026-01-01T12:00:00Z', user: 'u3' },
  { id: 'r4', key: 'a1', team: 'team-a', model: 'gpt-4o', spend: 2, prompt: 150, completion: 50, at: '2026-01-02T00:00:00Z', user: 'u1', endUser: 'c1' },
  { id: 'r5', key: 'none', team: null, model: 'gpt-4o-mini', spend: 0.125, prompt: 5, completion: 5, at: '2026-01-02T08:00:00Z', user: 'u4' },
  { id: 'r6', key: 'b', team: 'team-b', model: 'gpt-4o', spend: 4, prompt: 300, completion: 100, at: '2026-01-03T09:00:00Z', user: 'u3' },
  { id: 'r7', key: 'a1', team: 'team-a', model: 'gpt-4o', spend: 8, prompt: 1, completion: 1, at: '2025-12-31T23:59:59.999Z', user: 'u1', endUser: 'c1' },
];

export async function insertSpendRow(databaseUrl: string, keys: SpendKeys, r: SpendRow): Promise<void> {
  await query(databaseUrl, `INSERT INTO "LiteLLM_SpendLogs"
      (request_id, call_type, api_key, spend, prompt_tokens, completion_tokens, total_tokens, "startTime", "endTime", model, model_group, team_id, "user", end_user)
      VALUES ($1, 'acompletion', $2, $3, $4, $5, $6, $7, $7, $8, $8, $9, $10, $11)`,
  [r.id, sha256(keys[r.key]), r.spend, r.prompt, r.completion, r.prompt + r.completion, r.at, r.model, r.team, r.user, r.endUser ?? null]);
}

/** Two teams, an admin viewer, the five keys and SPEND_ROWS; returns the plain keys. */
export async function seedSpend(databaseUrl: string): Promise<SpendKeys> {
  await seedTeam(databaseUrl, { id: 'team-a', alias: 'Alpha' });
  await seedTeam(databaseUrl, { id: 'team-b', alias: 'Bravo' });
  await query(databaseUrl, 'INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ($1, $2)', ['viewer-user', 'proxy_admin_viewer']);
  const keys: SpendKeys = {
    a1: await seedKey(databaseUrl, { teamId: 'team-a', alias: 'alpha-1', userId: 'u1' }),
    a2: await seedKey(databaseUrl, { teamId: 'team-a', userId: 'u2' }),
    b: await seedKey(databaseUrl, { teamId: 'team-b', alias: 'bravo', userId: 'u3' }),
    none: await seedKey(databaseUrl, { userId: 'u4' }),
    viewer: await seedKey(databaseUrl, { userId: 'viewer-user' }),
  };
  for (const r of SPEND_ROWS) await insertSpendRow(databaseUrl, keys, r);
  return keys;
}
