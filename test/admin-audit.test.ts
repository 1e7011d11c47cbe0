import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../scripts/lib/build.ts';
import { freshDatabase } from './support/database.ts';
import { exec, query } from './support/pg-client.ts';
import { ADMIN_CONFIG, adminClient, type Json } from './support/admin.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's audit-log reads, `GET /audit` and `GET /audit/{id}`, over the
 * entries the admin API's own writes leave (a team, a key in it, its update
 * and block), through the gateway as a client calls them.
 */

let stack: TestStack;
const { call, ok, rows, generate, plainKeys } = adminClient(() => stack);
let teamId: string;
let key: string;
let started: string;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: ADMIN_CONFIG });
  await rows(`INSERT INTO "LiteLLM_UserTable" (user_id, user_role) VALUES ('viewer', 'proxy_admin_viewer'), ('plain', 'internal_user')`);
  started = new Date(Date.now() - 1000).toISOString();
  teamId = (await ok('/team/new', { team_alias: 'audited' })).team_id;
  key = (await generate({
    team_id: teamId, key_alias: 'audited-key',
    metadata: { logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-audit', langfuse_secret_key: 'sk-lf-audit-secret' } }] },
  })).key;
  await ok('/key/update', { key, max_budget: 5 }, undefined, { headers: { 'litellm-changed-by': 'alice@example.com' } });
  await ok('/key/block', { key });
});
afterAll(async () => stack?.stop());

const audit = async (query: string, caller?: string) => ok(`/audit${query}`, undefined, caller) as Promise<{ audit_logs: Json[]; total: number; page: number; page_size: number; total_pages: number }>;

describe('GET /audit', () => {
  it('pages through the entries, newest first, with LiteLLM\'s totals', async () => {
    const all = await audit('?page_size=100');
    expect(all.total).toBe(4);
    expect(all.audit_logs.map((e) => [e.action, e.table_name])).toEqual([
      ['blocked', 'LiteLLM_VerificationToken'], ['updated', 'LiteLLM_VerificationToken'], ['created', 'LiteLLM_VerificationToken'], ['created', 'LiteLLM_TeamTable'],
    ]);
    const second = await audit('?page=2&page_size=3');
    expect(second).toMatchObject({ total: 4, page: 2, page_size: 3, total_pages: 2 });
    expect(second.audit_logs.map((e) => e.id)).toEqual([all.audit_logs[3]?.id]);
    // Oldest first on request.
    expect((await audit('?sort_order=asc&page_size=1')).audit_logs[0]).toMatchObject({ action: 'created', table_name: 'LiteLLM_TeamTable', object_id: teamId });
    // The entries carry no key, plain or hashed, in their values.
    const text = JSON.stringify(all);
    for (const plain of plainKeys) expect(text).not.toContain(plain);
    // Nor the key's own Langfuse secret.
    expect(text).toContain('pk-lf-audit');
    expect(text).not.toContain('sk-lf-audit-secret');
  });

  it('filters by action, table, object, who changed it, its key and its team', async () => {
    const updated = await audit('?action=updated&table_name=LiteLLM_VerificationToken');
    expect(updated.total).toBe(1);
    const entry = updated.audit_logs[0] as Json;
    expect(entry).toMatchObject({ object_id: sha256(key), changed_by: 'alice@example.com', changed_by_api_key: sha256(TEST_MASTER_KEY) });
    expect(entry.before_value.max_budget).toBeNull();
    expect(entry.updated_values.max_budget).toBe(5);
    expect(new Date(entry.updated_at).toISOString()).toBe(entry.updated_at);

    expect((await audit('?changed_by=alice@example.com')).audit_logs.map((e) => e.id)).toEqual([entry.id]);
    expect((await audit(`?object_id=${teamId}`)).audit_logs.map((e) => e.action)).toEqual(['created']);
    // A key's entries, by the key itself or its hash.
    const ofKey = await audit(`?object_key_hash=${encodeURIComponent(key)}&sort_order=asc`);
    expect(ofKey.audit_logs.map((e) => e.action)).toEqual(['created', 'updated', 'blocked']);
    expect((await audit(`?object_key_hash=${sha256(key)}`)).total).toBe(3);
    // A team's: its own entry, and those whose values name it (the key created in it, and updated; its block names only `blocked`).
    const ofTeam = await audit(`?object_team_id=${teamId}&sort_by=table_name&sort_order=asc`);
    expect(ofTeam.audit_logs.map((e) => [e.table_name, e.action])).toEqual([
      ['LiteLLM_TeamTable', 'created'], ['LiteLLM_VerificationToken', 'created'], ['LiteLLM_VerificationToken', 'updated'],
    ]);
    expect((await audit('?action=deleted')).total).toBe(0);
  });

  it('filters by when: an instant, or a whole day', async () => {
    expect((await audit(`?start_date=${encodeURIComponent(started)}`)).total).toBe(4);
    expect((await audit(`?end_date=${encodeURIComponent(started)}`)).total).toBe(0);
    // The entries' day (the suite may cross midnight UTC: each day is the day of `started` or the one after).
    const today = new Date(Date.now()).toISOString().slice(0, 10);
    const yesterday = new Date(Date.parse(started) - 86_400_000).toISOString().slice(0, 10);
    expect((await audit(`?end_date=${today}`)).total).toBe(4);
    expect((await audit(`?start_date=${yesterday}&end_date=${yesterday}`)).total).toBe(0);
    expect((await audit(`?start_date=${new Date(Date.now() + 60_000).toISOString()}`)).total).toBe(0);
    // An offset moves the instant: the same moment four hours ahead on the clock in UTC+4.
    const inDubai = new Date(Date.parse(started) + 4 * 3_600_000).toISOString().slice(0, 19);
    expect((await audit(`?start_date=${encodeURIComponent(`${inDubai}+04:00`)}`)).total).toBe(4);
    expect((await audit(`?end_date=${encodeURIComponent(`${inDubai}+04:00`)}`)).total).toBe(0);
  });

  it('refuses bad parameters with a 422 naming them', async () => {
    for (const [query, param] of [['?page_size=1000', 'page_size'], ['?page=0', 'page'], ['?sort_by=password', 'sort_by'], ['?start_date=yesterday', 'start_date'],
      ['?start_date=1', 'start_date'], ['?end_date=2026-02-30', 'end_date'], ['?end_date=March%207%2C%202026', 'end_date'], ['?page=1000000000000000000', 'page']]) {
      const res = await call(`/audit${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body.error.param).toBe(param);
    }
  });

  it('is for admins and viewers only', async () => {
    const viewer = await seedKey(stack.databaseUrl, { userId: 'viewer' });
    const plain = await seedKey(stack.databaseUrl, { userId: 'plain' });
    expect((await audit('', viewer)).total).toBe(4);
    const refused = await call('/audit', undefined, plain);
    expect(refused.status).toBe(403);
    expect((await call(`/audit/${(await audit('')).audit_logs[0]?.id}`, undefined, plain)).status).toBe(403);
    expect((await call('/audit', undefined, null)).status).toBe(401);
  });
});

describe('GET /audit/{id}', () => {
  it('answers one entry, and a 404 for an id that names none', async () => {
    const [newest] = (await audit('?page_size=1')).audit_logs;
    expect(await ok(`/audit/${newest?.id}`)).toEqual(newest);
    const missing = await call('/audit/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('Audit log with ID 00000000-0000-4000-8000-000000000000 not found');
    expect((await call('/audit/not-an-id')).status).toBe(404);
  });

  it('is in /openapi.json with its query parameters', async () => {
    const { paths } = await (await fetch(`${stack.url}/openapi.json`)).json() as { paths: Record<string, Record<string, Json>> };
    expect(paths['/audit/{id}']?.get).toBeDefined();
    expect((paths['/audit']?.get?.parameters as Json[]).map((p) => p.name)).toEqual(expect.arrayContaining(['page', 'page_size', 'object_key_hash', 'sort_by']));
  });
});

describe('migration 0006_redact_audit_langfuse_secrets', () => {
  it("replaces the Langfuse secrets earlier audit rows kept, wherever they sit, and leaves the rest", async () => {
    const files = readdirSync(join(ROOT, 'drizzle/migrations')).filter((f) => f.endsWith('.sql')).sort();
    const apply = (url: string, file: string) => exec(url, readFileSync(join(ROOT, 'drizzle/migrations', file), 'utf8').replaceAll('--> statement-breakpoint', ''));
    const db = await freshDatabase();
    try {
      const at = files.indexOf('0006_redact_audit_langfuse_secrets.sql');
      for (const file of files.slice(0, at)) await apply(db.url, file);
      const logging = (secret: string) => ({ metadata: { logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'pk-lf-1', langfuse_secret_key: secret } }] } });
      const insert = (id: string, before: unknown, after: unknown) => query(db.url, `INSERT INTO "LiteLLM_AuditLog" (id, action, table_name, object_id, before_value, updated_values)
        VALUES ($1, 'updated', 'LiteLLM_VerificationToken', 'obj', $2::json, $3::json)`, [id, JSON.stringify(before), JSON.stringify(after)]);
      await insert('00000000-0000-4000-8000-000000000001', logging('sk-lf-old'), logging('sk-lf-with-"quote"-and-\\-backslash'));
      await insert('00000000-0000-4000-8000-000000000002', { metadata: { callback_settings: { callback_vars: { langfuse_secret: 'sk-lf-team' } } } }, { max_budget: 5 });
      await insert('00000000-0000-4000-8000-000000000003', null, { key_alias: 'langfuse_secret_key is only text here' });
      for (const file of files.slice(at)) await apply(db.url, file);
      const rows = await query<{ id: string; before_value: unknown; updated_values: unknown }>(db.url, 'SELECT id, before_value, updated_values FROM "LiteLLM_AuditLog" ORDER BY id');
      expect(rows.map((r) => [r.before_value, r.updated_values])).toEqual([
        [logging('[redacted]'), logging('[redacted]')],
        [{ metadata: { callback_settings: { callback_vars: { langfuse_secret: '[redacted]' } } } }, { max_budget: 5 }],
        [null, { key_alias: 'langfuse_secret_key is only text here' }],
      ]);
      expect(JSON.stringify(rows)).not.toMatch(/sk-lf-(old|with|team)/);
    } finally {
      await db.drop();
    }
  });
});
