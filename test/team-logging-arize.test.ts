/**
 * Key and team based logging for `arize` (LiteLLM's team_logging with arize_api_key / arize_space_id /
 * arize_space_key): a team's calls are exported to the config's Arize endpoint with the team's own space and key
 * headers instead of the environment's; another team's with the environment's; a team whose key Arize refuses
 * holds back only its own spans; the variables are masked when shown and checked when written.
 */
import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { FakeCollector } from './fakes/otel-collector.ts';
import { adminClient, type Json } from './support/admin.ts';
import { eventually, seedKey } from './support/keys.ts';
import { byCall, spanAt, useOtelVendorsStack } from './support/otel-vendors-stack.ts';
import type { TestStack } from './support/stack.ts';

const ENV_SPACE = 'env-space-0001';
const ENV_KEY = 'arize-env-secret-0001';
const TEAM_SPACE = 'team-a-space-0002';
const TEAM_KEY = 'arize-team-a-secret-0002';
const REFUSED_KEY = 'arize-refused-secret-0003';

/** Whether the collector takes REFUSED_KEY after all (its owner fixed it on Arize's side). */
let refusedKeyAccepted = false;
let az: FakeCollector;
let stack: TestStack;
useOtelVendorsStack({
  // The collector refuses one key, as Arize answers a wrong key: 401.
  collectors: { az: { accepts: (h: Record<string, string>) => h.api_key !== REFUSED_KEY || refusedKeyAccepted } },
  settings: 'litellm_settings:\n  callbacks: ["arize"]\n',
  env: (c) => ({ ARIZE_SPACE_ID: ENV_SPACE, ARIZE_API_KEY: ENV_KEY, ARIZE_HTTP_ENDPOINT: `${c.az.url}/v1` }),
}, (s) => ({ stack, collectors: { az } } = s));

const admin = adminClient(() => stack);
const { ok, call } = admin;

async function teamWithKey(id: string): Promise<string> {
  await ok('/team/new', { team_id: id });
  return (await admin.generate({ team_id: id })).key as string;
}

async function chatWith(key: string): Promise<string> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'arize team logging' }] }).withResponse();
  return response.headers.get('x-litellm-call-id') ?? '';
}

const headersOf = async (callId: string) => {
  const span = await spanAt(az, callId);
  return az.requests.find((r) => r.spans.includes(span))!.headers;
};
const teamMetadata = async (id: string) => (await admin.rows('SELECT metadata FROM "LiteLLM_TeamTable" WHERE team_id = $1', [id]))[0]?.metadata as Json;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('arize settings of a team or key', () => {
  it("exports a team's spans with its own space and key, another team's with the environment's; the key shown masked", async () => {
    const keyA = await teamWithKey('tla-a');
    const keyB = await teamWithKey('tla-b');
    await ok('/team/tla-a/callback', { callback_name: 'arize', callback_vars: { arize_api_key: TEAM_KEY, arize_space_id: TEAM_SPACE } });

    const [callA, callB] = await Promise.all([chatWith(keyA), chatWith(keyB)]);
    expect(await headersOf(callA)).toMatchObject({ space_id: TEAM_SPACE, api_key: TEAM_KEY });
    expect(await headersOf(callB)).toMatchObject({ space_id: ENV_SPACE, api_key: ENV_KEY });
    await sleep(1000);
    // Once each, to the team's space instead of the environment's, never both.
    expect(byCall(az, callA)).toHaveLength(1);
    expect(byCall(az, callB)).toHaveLength(1);
    for (const r of az.requests) for (const s of [TEAM_KEY, ENV_KEY, keyA, keyB]) expect(r.raw).not.toContain(s);

    const shown = await ok('/team/tla-a/callback');
    expect(shown.data).toMatchObject({
      success_callbacks: ['arize'], failure_callbacks: ['arize'],
      callback_vars: { arize_api_key: `...${TEAM_KEY.slice(-4)}`, arize_space_id: `...${TEAM_SPACE.slice(-4)}` },
    });
    const info = await ok('/team/info?team_id=tla-a');
    expect(JSON.stringify([shown, info])).not.toContain(TEAM_KEY);
    expect(await admin.auditLogFreeOfPlainKeys([TEAM_KEY])).not.toContain(TEAM_KEY);
  });

  it("holds back only the spans of the team whose key Arize refuses; the others' arrive", async () => {
    const keyBad = await teamWithKey('tla-refused');
    const keyGood = await teamWithKey('tla-good');
    await ok('/team/tla-refused/callback', { callback_name: 'arize', callback_vars: { arize_api_key: REFUSED_KEY, arize_space_key: 'refused-space-0003' } });
    await ok('/team/tla-good/callback', { callback_name: 'arize', callback_vars: { arize_api_key: TEAM_KEY, arize_space_key: 'good-space-0004' } });
    const plain = (await admin.generate({})).key as string;
    const refusedBefore = az.refused.length;

    const [bad, good, env] = await Promise.all([chatWith(keyBad), chatWith(keyGood), chatWith(plain)]);
    expect(await headersOf(good)).toMatchObject({ space_id: 'good-space-0004', api_key: TEAM_KEY });
    expect(await headersOf(env)).toMatchObject({ space_id: ENV_SPACE, api_key: ENV_KEY });
    await eventually(async () => (az.refused.length > refusedBefore ? true : undefined));
    // Refused with the team's own key only: never sent with the environment's instead.
    expect(az.refused.slice(refusedBefore).every((h) => h.api_key === REFUSED_KEY && h.space_id === 'refused-space-0003')).toBe(true);
    expect(byCall(az, bad)).toEqual([]);
    // Kept for a retry, not dropped: once Arize takes the key, the retry delivers the spans, with the team's own key.
    refusedKeyAccepted = true;
    try {
      await eventually(async () => (byCall(az, bad).length ? true : undefined), 20_000);
      expect(await headersOf(bad)).toMatchObject({ space_id: 'refused-space-0003', api_key: REFUSED_KEY });
    } finally {
      refusedKeyAccepted = false;
    }
  }, 40_000);

  it('refuses a stored arize key, LangSmith key or service account sent back as shown toward another space, project or bucket after /disable_logging', async () => {
    await ok('/team/new', { team_id: 'tla-moved', members_with_roles: [{ role: 'admin', user_id: 'tla-moved-admin' }] });
    // The attack is a team admin's (a proxy admin could set any space anyway).
    const teamAdmin = await seedKey(stack.databaseUrl, { userId: 'tla-moved-admin' });
    const account = JSON.stringify({ client_email: 'sa@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n' });
    await ok('/team/tla-moved/callback', { callback_name: 'arize', callback_vars: { arize_api_key: TEAM_KEY, arize_space_id: TEAM_SPACE } });
    await ok('/team/tla-moved/callback', { callback_name: 'langsmith', callback_vars: { langsmith_api_key: 'lsv2_team-moved-0005', langsmith_project: 'team-project', langsmith_base_url: 'https://smith.team.example' } });
    await ok('/team/tla-moved/callback', { callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'team-bucket', gcs_path_service_account: account } });
    await ok('/team/tla-moved/disable_logging', {});
    const before = await teamMetadata('tla-moved');
    const shown = (await ok('/team/info?team_id=tla-moved', undefined, teamAdmin)).team_info.metadata as Json;
    const vars = shown.callback_settings.callback_vars as Json;
    expect(vars.arize_api_key).toBe(`...${TEAM_KEY.slice(-4)}`);
    for (const change of [{ arize_space_id: 'attacker-space' }, { arize_space_key: 'attacker-space' }, { langsmith_project: 'other-team' }, { langsmith_base_url: 'https://evil.example' }, { gcs_bucket_name: 'other-bucket' }]) {
      const res = await call('/team/update', { team_id: 'tla-moved', metadata: { ...shown, callback_settings: { ...shown.callback_settings, callback_vars: { ...vars, ...change } } } }, teamAdmin);
      expect(res.status, `${JSON.stringify(change)}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.message).toContain('keeps the host it was stored for');
    }
    expect(await teamMetadata('tla-moved')).toEqual(before);
    // Turned on again, the team's spans still go to its own space.
    await ok('/team/tla-moved/callback', { callback_name: 'arize' });
    expect((await teamMetadata('tla-moved')).callback_settings.callback_vars).toMatchObject({ arize_space_id: TEAM_SPACE });
  });

  it('refuses an arize or LangSmith value that cannot be sent as a header, writing nothing', async () => {
    await teamWithKey('tla-header');
    const before = await teamMetadata('tla-header');
    for (const [name, vars] of [
      ['arize', { arize_api_key: 'key-with-\u00e9', arize_space_id: TEAM_SPACE }],
      ['arize', { arize_api_key: TEAM_KEY, arize_space_key: 'space\r\nx-injected: 1' }],
      ['arize', { arize_api_key: TEAM_KEY, arize_space_id: 'space-\u2603' }],
      ['langsmith', { langsmith_api_key: 'lsv2_bad\nkey' }],
    ] as const) {
      const res = await call('/team/tla-header/callback', { callback_name: name, callback_vars: vars });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', code: '400' });
      expect(res.body.error.message).toContain('sent as a header');
    }
    const res = await call('/key/generate', { metadata: { logging: [{ callback_name: 'arize', callback_vars: { arize_api_key: 'k\u00ff', arize_space_id: 's' } }] } });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('metadata.logging[0].callback_vars.arize_api_key');
    expect(await teamMetadata('tla-header')).toEqual(before);
  });

  it('refuses a bad or foreign variable, and a masked key moved to another space, writing nothing', async () => {
    await teamWithKey('tla-bad');
    const before = await teamMetadata('tla-bad');
    const keysBefore = await admin.count('LiteLLM_VerificationToken');
    const refused = async (path: string, body: unknown, param: string) => {
      const res = await call(path, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'bad_request_error', param, code: '400' });
      return res.body.error.message as string;
    };
    await refused('/team/tla-bad/callback', { callback_name: 'arize', callback_vars: { arize_api_key: TEAM_KEY, langsmith_base_url: 'https://evil.example' } }, 'callback_vars.langsmith_base_url');
    await refused('/team/update', { team_id: 'tla-bad', metadata: { logging: [{ callback_name: 'arize', callback_vars: { arize_api_key: ' ' } }] } }, 'metadata.logging[0].callback_vars.arize_api_key');
    await refused('/team/update', { team_id: 'tla-bad', metadata: { logging: [{ callback_name: 'langsmith', callback_vars: { arize_api_key: TEAM_KEY } }] } }, 'metadata.logging[0].callback_vars.arize_api_key');
    await refused('/key/generate', { metadata: { logging: [{ callback_name: 'arize', callback_vars: { arize_api_key: 12345 } }] } }, 'metadata.logging[0].callback_vars.arize_api_key');
    // Half of Arize's pair would fail every export: the key and a space come together, or neither.
    await refused('/team/tla-bad/callback', { callback_name: 'arize', callback_vars: { arize_api_key: TEAM_KEY } }, 'callback_vars.arize_space_id');
    await refused('/team/tla-bad/callback', { callback_name: 'arize', callback_vars: { arize_space_key: TEAM_SPACE } }, 'callback_vars.arize_api_key');
    await refused('/key/generate', { metadata: { logging: [{ callback_name: 'arize', callback_vars: { arize_api_key: TEAM_KEY } }] } }, 'metadata.logging[0].callback_vars.arize_space_id');
    expect(await refused('/team/update', { team_id: 'tla-bad', metadata: { callback_settings: { callbacks: ['arize'], callback_vars: { arize_space_id: TEAM_SPACE } } } }, 'metadata.callback_settings.callback_vars.arize_api_key'))
      .toContain('together, or neither; arize_api_key is missing');
    expect(await teamMetadata('tla-bad')).toEqual(before);
    expect(await admin.count('LiteLLM_VerificationToken')).toBe(keysBefore);

    // A key's arize key sent back as shown keeps the space it was stored with.
    const key = (await admin.generate({ metadata: { logging: [{ callback_name: 'arize', callback_vars: { arize_api_key: TEAM_KEY, arize_space_id: TEAM_SPACE } }] } })).key as string;
    const info = await ok(`/key/info?key=${encodeURIComponent(key)}`);
    const entry = info.info.metadata.logging[0];
    expect(entry.callback_vars.arize_api_key).toBe(`...${TEAM_KEY.slice(-4)}`);
    const hashed = createHash('sha256').update(key).digest('hex');
    const stored = async () => (await admin.rows('SELECT metadata FROM "LiteLLM_VerificationToken" WHERE token = $1', [hashed]))[0]?.metadata;
    const keyBefore = await stored();
    const moved = await call('/key/update', { key, metadata: { logging: [{ ...entry, callback_vars: { ...entry.callback_vars, arize_space_id: 'attacker-space' } }] } });
    expect(moved.status, JSON.stringify(moved.body)).toBe(400);
    expect(moved.body.error.message).toContain('keeps the host it was stored for');
    expect(await stored()).toEqual(keyBefore);
    // The key's own calls go to its space.
    expect(await headersOf(await chatWith(key))).toMatchObject({ space_id: TEAM_SPACE, api_key: TEAM_KEY });

    // /key/health tries the key's own space and key at the config's endpoint.
    const healthy = await ok('/key/health', {}, key);
    expect(healthy.logging_callbacks).toMatchObject({ callbacks: ['arize'], status: 'healthy' });
    const wrong = (await admin.generate({ metadata: { logging: [{ callback_name: 'arize', callback_vars: { arize_api_key: REFUSED_KEY, arize_space_id: 'refused-space-0003' } }] } })).key as string;
    const unhealthy = await ok('/key/health', {}, wrong);
    expect(unhealthy.logging_callbacks).toMatchObject({ callbacks: ['arize'], status: 'unhealthy', details: expect.stringContaining('401') });
    expect(JSON.stringify(unhealthy)).not.toContain(REFUSED_KEY);
  });
});
