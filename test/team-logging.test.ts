/**
 * LiteLLM's team-based logging end to end: `/team/{team_id}/callback` and `/disable_logging` write the team's
 * callback settings, and its keys' next calls follow them (its own Langfuse project, or no callback, the
 * config's Langfuse and OpenTelemetry included) while other teams' keys keep the config's.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../worker/auth/authenticate.ts';
import type { KeyPolicy } from '../worker/auth/key-policy.ts';
import { configSchema } from '../worker/config/schema.ts';
import { langfuseDestination } from '../worker/telemetry/langfuse/logging-settings.ts';
import { otelOn } from '../worker/telemetry/otel/enabled.ts';
import { type FakeLangfuse, startFakeLangfuse } from './fakes/langfuse.ts';
import { attributesOf, type FakeCollector, startFakeCollector } from './fakes/otel-collector.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { adminClient, type Json } from './support/admin.ts';
import { eventually, seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let upstream: FakeUpstream;
let collector: FakeCollector;
let langfuse: FakeLangfuse;
let teamLangfuse: FakeLangfuse;
let stack: TestStack;
const { call, ok, rows, audits, count } = adminClient(() => stack);
/** Keys of teams tl-a and tl-b, and of tl-a's admin (alice) and member (carol). */
const keys = { a: '', b: '', alice: '', carol: '' };

beforeAll(async () => {
  upstream = await startFakeUpstream();
  collector = await startFakeCollector();
  langfuse = await startFakeLangfuse({ publicKey: 'pk-lf-default', secretKey: 'sk-lf-default-secret' });
  teamLangfuse = await startFakeLangfuse({ publicKey: 'pk-lf-team', secretKey: 'sk-lf-team-secret-0001' });
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/FAKE_OPENAI_KEY}
router_settings:
  num_retries: 0
litellm_settings:
  callbacks: ["langfuse", "otel"]
`,
    env: {
      FAKE_OPENAI_KEY: 'sk-upstream-openai-0001',
      LANGFUSE_PUBLIC_KEY: langfuse.publicKey, LANGFUSE_SECRET_KEY: langfuse.secretKey, LANGFUSE_HOST: langfuse.url,
      OTEL_EXPORTER: 'otlp_http', OTEL_ENDPOINT: collector.url,
    },
    runtimeOnlyEnv: { TEAM_LANGFUSE_SECRET: teamLangfuse.secretKey },
  });
  await rows(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, members_with_roles) VALUES
    ('tl-a', 'Team A', '[{"role":"admin","user_id":"tl-alice"},{"role":"user","user_id":"tl-carol"}]'), ('tl-b', 'Team B', '[]')`);
  keys.a = await seedKey(stack.databaseUrl, { teamId: 'tl-a', alias: 'tl-a-key' });
  keys.b = await seedKey(stack.databaseUrl, { teamId: 'tl-b', alias: 'tl-b-key' });
  keys.alice = await seedKey(stack.databaseUrl, { userId: 'tl-alice' });
  keys.carol = await seedKey(stack.databaseUrl, { userId: 'tl-carol' });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([upstream?.close(), collector?.close(), langfuse?.close(), teamLangfuse?.close()]);
});
afterEach(() => {
  expect(langfuse.invalid).toEqual([]);
  expect(teamLangfuse.invalid).toEqual([]);
  expect(collector.malformed).toEqual([]);
});

/** One call with `key` (a failing one with `fail`), returning its call id. */
async function callWith(key: string, fail = false): Promise<string> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  const body = { model: fail ? 'unreachable' : 'gpt-4o', messages: [{ role: 'user' as const, content: 'team logging' }] };
  if (fail) {
    const err = await client.chat.completions.create(body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    return (err as InstanceType<typeof OpenAI.InternalServerError>).headers.get('x-litellm-call-id') ?? '';
  }
  const { response } = await client.chat.completions.create(body).withResponse();
  return response.headers.get('x-litellm-call-id') ?? '';
}
const generation = (fake: FakeLangfuse, id: string) => fake.waitFor((f) => f.generations().find((g) => g.id === id));
const span = (id: string) => collector.spans().find((s) => attributesOf(s)['gen_ai.response.id'] === id);
const spanOf = (id: string) => eventually(async () => span(id));
/** Until `marker`'s generation and span (sent after earlier calls') landed, and a little more. */
async function settled(marker: string): Promise<void> {
  await generation(langfuse, marker);
  await spanOf(marker);
  await new Promise((r) => setTimeout(r, 1500));
}
const inProject = (fake: FakeLangfuse, id: string) => fake.events.some((e) => e.body.id === id);
const teamMetadata = async (id: string) => (await rows('SELECT metadata FROM "LiteLLM_TeamTable" WHERE team_id = $1', [id]))[0]?.metadata as Json;
const langfuseVars = (secret: string) => ({ langfuse_public_key: 'pk-lf-team', langfuse_secret_key: secret, langfuse_host: teamLangfuse.url });

describe('POST /team/{team_id}/callback', () => {
  it("sends the team's keys' calls to the team's own Langfuse project from the next call on, and answers as LiteLLM does", async () => {
    const before = await callWith(keys.a);
    await generation(langfuse, before);

    const added = await ok('/team/tl-a/callback', { callback_name: 'langfuse', callback_vars: langfuseVars(teamLangfuse.secretKey) }, keys.alice);
    expect(added).toMatchObject({
      status: 'success',
      data: {
        team_id: 'tl-a', team_alias: 'Team A',
        metadata: { callback_settings: { success_callback: ['langfuse'], failure_callback: ['langfuse'], callback_vars: langfuseVars('...0001') } },
      },
    });
    expect(JSON.stringify(added)).not.toContain(teamLangfuse.secretKey);
    expect((await teamMetadata('tl-a')).callback_settings.callback_vars.langfuse_secret_key).toBe(teamLangfuse.secretKey);
    const [audit] = (await audits('tl-a')).slice(-1);
    expect(audit).toMatchObject({ action: 'updated', table_name: 'LiteLLM_TeamTable', updated_values: { metadata: { callback_settings: { callback_vars: { langfuse_secret_key: '[redacted]' } } } } });
    expect(JSON.stringify(audit)).not.toContain(teamLangfuse.secretKey);

    const ok1 = await callWith(keys.a);
    const failed = await callWith(keys.a, true);
    expect(await generation(teamLangfuse, ok1)).toMatchObject({ name: 'litellm:tl-a-key' });
    expect(await generation(teamLangfuse, failed)).toMatchObject({ level: 'ERROR' });
    expect(teamLangfuse.requests.every((r) => r.authorized)).toBe(true);
    // The team's callbacks replace the config's: not the default project, and no span (the team did not list otel).
    await settled(await callWith(keys.b));
    for (const id of [ok1, failed]) {
      expect(inProject(langfuse, id)).toBe(false);
      expect(span(id)).toBeUndefined();
    }

    // Listed again for an event it already has: LiteLLM's 400.
    const again = await call('/team/tl-a/callback', { callback_name: 'langfuse', callback_type: 'success' }, keys.alice);
    expect(again).toMatchObject({ status: 400, body: { error: { param: 'callback_name', message: 'callback_name = langfuse already exists in success_callback, for team_id = tl-a. Existing success_callback = ["langfuse"]' } } });
  });

  it('refuses, writing nothing: a plain member, os.environ/ values from a team admin, unknown callbacks and variables, masks, unknown teams', async () => {
    await ok('/team/new', { team_id: 'tl-c', members_with_roles: [{ role: 'admin', user_id: 'tl-alice' }, { role: 'user', user_id: 'tl-carol' }] });
    const metadataBefore = await teamMetadata('tl-c');
    const auditsBefore = await count('LiteLLM_AuditLog');
    const refused = async (path: string, body: unknown, key: string, status: number, param?: string) => {
      const res = await call(path, body, key);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      if (param) expect(res.body.error.param).toBe(param);
      return res.body.error.message as string;
    };
    const member = await refused('/team/tl-c/callback', { callback_name: 'langfuse', callback_vars: {} }, keys.carol, 403);
    expect(member).toBe('Call not allowed. User not proxy admin OR team admin. route=/team/{team_id}/callback, team_id=tl-c');
    await refused('/team/tl-c/disable_logging', {}, keys.carol, 403);
    await refused('/team/tl-c/callback', undefined, keys.carol, 403);
    expect(await refused('/team/tl-c/callback', { callback_name: 'langfuse', callback_vars: langfuseVars('os.environ/TEAM_LANGFUSE_SECRET') }, keys.alice, 403, 'callback_vars'))
      .toBe('Only proxy admins can name os.environ/ values in metadata.logging or metadata.callback_settings');
    expect(await refused('/team/tl-c/callback', { callback_name: 'langsmith', callback_vars: {} }, keys.alice, 400, 'callback_name')).toMatch(/^callback_name = langsmith is not a callback Tollgate runs for a team; it runs "langfuse" .* and "otel"/);
    await refused('/team/tl-c/callback', { callback_name: 'otel', callback_vars: { langfuse_host: teamLangfuse.url } }, keys.alice, 400, 'callback_vars');
    await refused('/team/tl-c/callback', { callback_name: 'langfuse', callback_vars: { langsmith_api_key: 'x' } }, keys.alice, 422);
    await refused('/team/tl-c/callback', { callback_name: 'langfuse', callback_type: 'always' }, keys.alice, 422, 'callback_type');
    await refused('/team/tl-c/callback', { callback_name: 'langfuse', callback_vars: langfuseVars('...0001') }, keys.alice, 400, 'callback_vars.langfuse_secret_key');
    await refused('/team/tl-c/callback', { callback_name: 'langfuse', callback_vars: langfuseVars('os.environ/LITELLM_MASTER_KEY') }, TEST_MASTER_KEY, 422, 'callback_vars');
    // Only a proxy admin learns that a team does not exist.
    expect(await refused('/team/no-such-team/callback', { callback_name: 'langfuse' }, TEST_MASTER_KEY, 404)).toBe('Team id = no-such-team does not exist.');
    await refused('/team/no-such-team/disable_logging', {}, TEST_MASTER_KEY, 404);
    await refused('/team/no-such-team/callback', undefined, TEST_MASTER_KEY, 404);
    await refused('/team/no-such-team/callback', { callback_name: 'langfuse' }, keys.alice, 403);
    expect(await teamMetadata('tl-c')).toEqual(metadataBefore);
    expect(await count('LiteLLM_AuditLog')).toBe(auditsBefore);

    // The master key may name the admin Worker's environment.
    const byAdmin = await ok('/team/tl-c/callback', { callback_name: 'langfuse', callback_type: 'success', callback_vars: langfuseVars('os.environ/TEAM_LANGFUSE_SECRET') });
    expect(byAdmin.data.metadata.callback_settings).toEqual({ success_callback: ['langfuse'], failure_callback: [], callback_vars: langfuseVars('os.environ/TEAM_LANGFUSE_SECRET') });
  });
});

describe('GET /team/{team_id}/callback', () => {
  it("shows the team's callbacks with the secret masked, an os.environ/ reference as written; to admins of the team only", async () => {
    expect(await ok('/team/tl-a/callback', undefined, keys.alice)).toEqual({
      status: 'success',
      data: { team_id: 'tl-a', success_callbacks: ['langfuse'], failure_callbacks: ['langfuse'], callback_vars: langfuseVars('...0001') },
    });
    expect((await ok('/team/tl-c/callback')).data).toEqual({ team_id: 'tl-c', success_callbacks: ['langfuse'], failure_callbacks: [], callback_vars: langfuseVars('os.environ/TEAM_LANGFUSE_SECRET') });
    expect((await ok('/team/tl-b/callback')).data).toEqual({ team_id: 'tl-b', success_callbacks: [], failure_callbacks: [], callback_vars: {} });
    expect((await call('/team/tl-a/callback', undefined, keys.a)).status).toBe(403);

    // A team admin's variables replace the stored ones whole: a host of theirs never pairs with the admin's secret.
    const moved = await ok('/team/tl-c/callback', { callback_name: 'langfuse', callback_type: 'failure', callback_vars: { langfuse_host: 'http://127.0.0.1:9' } }, keys.alice);
    expect(moved.data.metadata.callback_settings.callback_vars).toEqual({ langfuse_host: 'http://127.0.0.1:9' });
  });
});

describe('POST /team/{team_id}/disable_logging', () => {
  it("logs the team's keys' calls to no callback, the config's included, while other teams' keys keep the config's", async () => {
    const res = await ok('/team/tl-a/disable_logging', undefined, keys.alice, { method: 'POST' });
    expect(res).toEqual({ status: 'success', message: 'Logging disabled for team tl-a', data: { team_id: 'tl-a', success_callbacks: [], failure_callbacks: [] } });
    expect((await teamMetadata('tl-a')).callback_settings).toMatchObject({ success_callback: [], failure_callback: [] });
    const audited = await audits('tl-a');
    expect(audited.slice(-1)[0]).toMatchObject({ action: 'updated' });
    await ok('/team/tl-a/disable_logging', undefined, keys.alice, { method: 'POST' });
    expect(await audits('tl-a')).toHaveLength(audited.length);

    const silent = [await callWith(keys.a), await callWith(keys.a, true)];
    const other = await callWith(keys.b);
    await settled(other);
    expect(await generation(langfuse, other)).toMatchObject({ name: 'litellm:tl-b-key' });
    for (const id of silent) {
      expect(inProject(langfuse, id) || inProject(teamLangfuse, id)).toBe(false);
      expect(span(id)).toBeUndefined();
    }

    // Listing otel again brings the team's spans back, and only those.
    await ok('/team/tl-a/callback', { callback_name: 'otel' }, keys.alice);
    const traced = await callWith(keys.a);
    await spanOf(traced);
    await settled(await callWith(keys.b));
    expect(inProject(langfuse, traced) || inProject(teamLangfuse, traced)).toBe(false);
  });
});

describe("which calls a team's callback lists send", () => {
  const config = configSchema.parse({ litellm_settings: { callbacks: ['langfuse', 'otel'] } });
  const team = (callbackSettings: unknown) => ({ id: 't', alias: null, models: [], blocked: false, organizationId: null, metadata: { callback_settings: callbackSettings }, modelAliases: {} });
  const caller = (settings: unknown, keyMetadata: Record<string, unknown> = {}): Caller => ({ kind: 'key', token: 'hash', policy: { metadata: keyMetadata, team: team(settings) } as unknown as KeyPolicy });

  it('replace the config\'s callbacks per event; a team without lists, or a key with logging of its own, keeps them', () => {
    const off = caller({ success_callback: [], failure_callback: [], callback_vars: { langfuse_public_key: 'pk' } });
    for (const failed of [false, true]) {
      expect(langfuseDestination(config, off, failed)).toBeUndefined();
      expect(otelOn(config, off, failed)).toBe(false);
    }
    const successOnly = caller({ success_callback: ['langfuse'], failure_callback: [], callback_vars: { langfuse_public_key: 'pk' } });
    expect(langfuseDestination(config, successOnly, false)).toEqual({ source: 'team', teamId: 't' });
    expect(langfuseDestination(config, successOnly, true)).toBeUndefined();
    expect(otelOn(config, caller({ callbacks: ['otel'] }), true)).toBe(true);
    expect(otelOn(configSchema.parse({}), caller({ callbacks: ['otel'] }), false)).toBe(false);
    const unlisted = caller({ callback_vars: { langfuse_public_key: 'pk' } });
    expect(langfuseDestination(config, unlisted, true)).toEqual({ source: 'team', teamId: 't' });
    expect(otelOn(config, unlisted, true)).toBe(true);
    const ownLogging = caller({ success_callback: [] }, { logging: [{ callback_name: 'otel' }] });
    expect(langfuseDestination(config, ownLogging, false)).toEqual({ source: 'env' });
    expect(otelOn(config, ownLogging, false)).toBe(true);
  });
});
