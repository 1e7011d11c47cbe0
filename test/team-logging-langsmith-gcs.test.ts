/**
 * Key and team based logging for `langsmith` and `gcs_bucket` (LiteLLM's team_logging): a team's or key's
 * own callback_vars send its calls to its own LangSmith project or GCS bucket with its own credentials,
 * instead of the config's destination; other keys keep the config's. The secrets stay in Postgres (masked in
 * every answer) and are read by the admin Worker when it posts; a wrong credential holds back only its own
 * team's payloads; a value that cannot be used is a 400 that changes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeGcs, startFakeGcs } from './fakes/gcs-bucket.ts';
import { type FakeLangsmith, startFakeLangsmith } from './fakes/langsmith.ts';
import type { Json } from './support/admin.ts';
import { eventually } from './support/keys.ts';
import { batchOf, runOf, sleep, useLangsmithTeamsStack } from './support/langsmith-teams-stack.ts';

const ENV_KEY = 'lsv2_pt_env-langsmith-key-0001';
const TEAM_KEY = 'lsv2_pt_team-a-langsmith-key-0002';
const UPSTREAM_KEY = 'sk-upstream-openai-teamlog-0001';

let envLangsmith: FakeLangsmith;
let teamLangsmith: FakeLangsmith;
let gcs: FakeGcs;
// gcs_bucket is not in the config: a key's own settings turn it on for that key, as in LiteLLM.
const { admin, chatWith, teamWithKey } = useLangsmithTeamsStack({
  envKey: ENV_KEY, upstreamKey: UPSTREAM_KEY,
  fakes: async () => ({ team: await startFakeLangsmith({ apiKey: TEAM_KEY }), gcs: await startFakeGcs({ bucket: 'key-bucket' }) }),
  env: (f) => ({ GCS_API_BASE: f.gcs.url }),
}, (s) => ({ envLangsmith, fakes: { team: teamLangsmith, gcs } } = s));
const { ok } = admin;

afterEach(() => {
  expect(envLangsmith.malformed).toEqual([]);
  expect(teamLangsmith.malformed).toEqual([]);
  expect(gcs.rejected).toEqual([]);
});

const langsmithVars = (apiKey: string, project: string) => ({ langsmith_api_key: apiKey, langsmith_project: project, langsmith_base_url: teamLangsmith.url });

describe('team based langsmith logging', () => {
  it("sends a team's calls to its own LangSmith project with its key; another team's to the config's; the key shown masked", async () => {
    const keyA = await teamWithKey('tlg-a');
    const keyB = await teamWithKey('tlg-b');
    await ok('/team/tlg-a/callback', { callback_name: 'langsmith', callback_vars: langsmithVars(TEAM_KEY, 'team-a-project') });

    const [callA, callB] = await Promise.all([chatWith(keyA), chatWith(keyB)]);
    const runA = await eventually(async () => runOf(teamLangsmith, callA));
    expect(runA).toMatchObject({ session_name: 'team-a-project', run_type: 'llm', inputs: { metadata: { user_api_key_team_id: 'tlg-a' } } });
    expect(batchOf(teamLangsmith, callA)!.headers['x-api-key']).toBe(TEAM_KEY);
    const runB = await eventually(async () => runOf(envLangsmith, callB));
    expect(runB).toMatchObject({ session_name: 'env-project' });
    expect(batchOf(envLangsmith, callB)!.headers['x-api-key']).toBe(ENV_KEY);
    await sleep(1500);
    // Instead of the config's destination, never besides it; and never the other way round.
    expect(runOf(envLangsmith, callA)).toBeUndefined();
    expect(runOf(teamLangsmith, callB)).toBeUndefined();
    for (const batch of [...envLangsmith.batches, ...teamLangsmith.batches]) for (const s of [keyA, keyB, UPSTREAM_KEY]) expect(batch.raw).not.toContain(s);
    expect(JSON.stringify(envLangsmith.batches)).not.toContain(TEAM_KEY);

    const shown = await ok('/team/tlg-a/callback');
    expect(shown.data).toMatchObject({
      success_callbacks: ['langsmith'], failure_callbacks: ['langsmith'],
      callback_vars: { langsmith_api_key: `...${TEAM_KEY.slice(-4)}`, langsmith_project: 'team-a-project', langsmith_base_url: teamLangsmith.url },
    });
    const info = await ok('/team/info?team_id=tlg-a');
    expect(info.team_info.metadata.callback_settings.callback_vars.langsmith_api_key).toBe(`...${TEAM_KEY.slice(-4)}`);
    expect(JSON.stringify([shown, info])).not.toContain(TEAM_KEY);
  });

  it("holds back only the team whose key LangSmith refuses; the others' runs arrive and it goes nowhere else", async () => {
    const keyA = await teamWithKey('tlg-good');
    const keyC = await teamWithKey('tlg-wrong');
    const keyB = await teamWithKey('tlg-plain');
    await ok('/team/tlg-good/callback', { callback_name: 'langsmith', callback_vars: langsmithVars(TEAM_KEY, 'good-project') });
    await ok('/team/tlg-wrong/callback', { callback_name: 'langsmith', callback_vars: langsmithVars('lsv2_pt_wrong-key-0003', 'wrong-project') });
    const [callC, callA, callB] = await Promise.all([chatWith(keyC), chatWith(keyA), chatWith(keyB)]);
    const started = Date.now();
    await eventually(async () => runOf(teamLangsmith, callA));
    await eventually(async () => runOf(envLangsmith, callB));
    // Delivered on the first attempt, not after the refused team's retry backoff.
    expect(Date.now() - started).toBeLessThan(10_000);
    // Team C's runs were tried with team C's own key at team C's server (refused there), and went nowhere else.
    await eventually(async () => (teamLangsmith.unauthorized.includes('lsv2_pt_wrong-key-0003') ? true : undefined));
    expect(envLangsmith.unauthorized).toEqual([]);
    await sleep(2000);
    expect(runOf(teamLangsmith, callC)).toBeUndefined();
    expect(runOf(envLangsmith, callC)).toBeUndefined();
    expect(runOf(teamLangsmith, callA)).toBeDefined();
    // The refusal was a retry of that team's runs only: team A's were sent once.
    expect(teamLangsmith.runs().filter((r) => r.inputs?.id === callA)).toHaveLength(1);
  });
});

describe('key based gcs_bucket logging', () => {
  it("uploads a key's calls to its own bucket with its own service account (gcs_bucket not in the config); the account masked; /key/health tests it", async () => {
    const generated = await admin.generate({
      metadata: { logging: [{ callback_name: 'gcs_bucket', callback_type: 'success', callback_vars: { gcs_bucket_name: 'key-bucket/keylogs', gcs_path_service_account: gcs.account.json } }] },
    });
    const key = generated.key as string;
    const privateKey = (JSON.parse(gcs.account.json) as { private_key: string }).private_key;
    expect(JSON.stringify(generated)).not.toContain(privateKey);
    const callId = await chatWith(key);
    const object = await eventually(async () => gcs.objects.find((o) => (JSON.parse(o.body) as Json).id === callId));
    const payload = JSON.parse(object.body) as Json;
    expect(object.bucket).toBe('key-bucket');
    expect(object.name).toBe(`keylogs/${new Date(payload.startTime * 1000).toISOString().slice(0, 10)}/${payload.response.id}`);
    expect(object.headers.authorization).toMatch(/^Bearer ya29\./);
    expect(gcs.tokenChecks.every((c) => c.ok)).toBe(true);
    // The config's langsmith still logs this key's calls (it names no LangSmith settings of its own).
    await eventually(async () => runOf(envLangsmith, callId));
    expect(JSON.stringify(gcs.objects)).not.toContain(privateKey);

    const info = await ok(`/key/info?key=${encodeURIComponent(key)}`);
    const shownVars = info.info.metadata.logging[0].callback_vars;
    expect(shownVars.gcs_bucket_name).toBe('key-bucket/keylogs');
    expect(shownVars.gcs_path_service_account).toMatch(/^(\.\.\.[\s\S]{4}|\*{4})$/);
    expect(JSON.stringify(info)).not.toContain(privateKey);
    const audit = (await admin.rows('SELECT row_to_json(a)::text AS j FROM "LiteLLM_AuditLog" a')).map((r) => r.j as string).join('\n');
    for (const secret of [privateKey.slice(40, 80), TEAM_KEY]) expect(audit).not.toContain(secret);

    const before = gcs.objects.length;
    const health = await ok('/key/health', {}, key);
    expect(health).toMatchObject({ key: 'healthy', logging_callbacks: { callbacks: ['gcs_bucket'], status: 'healthy' } });
    expect(gcs.objects.length).toBe(before + 1);
  });

  it('reports a key whose bucket refuses its account as unhealthy, without the secret', async () => {
    const key = (await admin.generate({
      metadata: { logging: [{ callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'other-bucket', gcs_path_service_account: gcs.account.json } }] },
    })).key as string;
    const health = await ok('/key/health', {}, key);
    expect(health).toMatchObject({ key: 'unhealthy', logging_callbacks: { status: 'unhealthy' } });
    expect(health.logging_callbacks.details).toContain('gcs_bucket: the test payload was not taken: HTTP 404');
    expect(JSON.stringify(health)).not.toContain('PRIVATE KEY');
  });
});
