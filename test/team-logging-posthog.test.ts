/**
 * Key and team based logging for `posthog` (LiteLLM's posthog_api_key / posthog_api_url in team_logging): a team's
 * own callback_vars send its calls to its own PostHog project, with its own project key in the batch's body,
 * instead of the config's project; other teams keep the config's. The environment's POSTHOG_API_KEY never reaches
 * a team's URL: a URL other than the config's without a key of its own is refused when stored.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakePosthog, startFakePosthog } from './fakes/posthog.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { adminClient } from './support/admin.ts';
import { callbackModels } from './support/callback-config.ts';
import { eventually } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

const ENV_KEY = 'phc_envProjectKey0123456789abcdef';
const TEAM_KEY = 'phc_teamAProjectKey0123456789abcd';
const UPSTREAM_KEY = 'sk-upstream-openai-teamlog-posthog-0001';

let upstream: FakeUpstream;
let envPosthog: FakePosthog;
let teamPosthog: FakePosthog;
let stack: TestStack;
const admin = adminClient(() => stack);
const { ok } = admin;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  envPosthog = await startFakePosthog({ apiKey: ENV_KEY });
  teamPosthog = await startFakePosthog({ apiKey: TEAM_KEY });
  stack = await startTestStack({
    configYaml: `${callbackModels(upstream.url)}litellm_settings:\n  callbacks: ["posthog"]\n`,
    env: { FAKE_OPENAI_KEY: UPSTREAM_KEY, POSTHOG_API_KEY: ENV_KEY, POSTHOG_API_URL: envPosthog.url },
  });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([envPosthog?.close(), teamPosthog?.close(), upstream?.close()]);
});
afterEach(() => {
  expect(envPosthog.malformed).toEqual([]);
  expect(teamPosthog.malformed).toEqual([]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Every batch a fake PostHog was sent, taken for its project or not. */
const allBatches = (fake: FakePosthog) => [...fake.batches, ...fake.dropped];
/** The event a fake PostHog took for its project for one call (its span id is the call id). */
const eventOf = (fake: FakePosthog, callId: string) => fake.events().find((e) => e.properties?.$ai_span_id === callId);
const sentFor = (fake: FakePosthog, callId: string) => allBatches(fake).some((b) => b.events.some((e) => e.properties?.$ai_span_id === callId));

async function teamWithKey(id: string): Promise<string> {
  await ok('/team/new', { team_id: id });
  return (await admin.generate({ team_id: id })).key as string;
}

async function chatWith(key: string): Promise<string> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'team logging' }] }).withResponse();
  return response.headers.get('x-litellm-call-id') ?? '';
}

describe('team based posthog logging', () => {
  it("sends a team's calls to its own PostHog project with its key; another team's to the config's; the key shown masked", async () => {
    const keyA = await teamWithKey('tlp-a');
    const keyB = await teamWithKey('tlp-b');
    await ok('/team/tlp-a/callback', { callback_name: 'posthog', callback_vars: { posthog_api_key: TEAM_KEY, posthog_api_url: teamPosthog.url } });

    const [callA, callB] = await Promise.all([chatWith(keyA), chatWith(keyB)]);
    expect(await eventually(async () => eventOf(teamPosthog, callA))).toMatchObject({ event: '$ai_generation', properties: { $ai_model: 'gpt-4o' } });
    await eventually(async () => eventOf(envPosthog, callB));
    await sleep(1500);
    // Instead of the config's project, never besides it; and never the other way round.
    expect(sentFor(envPosthog, callA)).toBe(false);
    expect(sentFor(teamPosthog, callB)).toBe(false);
    expect(teamPosthog.batches.find((b) => b.events.some((e) => e.properties?.$ai_span_id === callA))!.apiKey).toBe(TEAM_KEY);
    expect(teamPosthog.dropped).toEqual([]);
    expect(JSON.stringify(allBatches(teamPosthog))).not.toContain(ENV_KEY);
    expect(JSON.stringify(allBatches(envPosthog))).not.toContain(TEAM_KEY);
    for (const s of [keyA, keyB, UPSTREAM_KEY]) expect(JSON.stringify([...allBatches(teamPosthog), ...allBatches(envPosthog)])).not.toContain(s);

    const shown = await ok('/team/tlp-a/callback');
    expect(shown.data).toMatchObject({
      success_callbacks: ['posthog'], failure_callbacks: ['posthog'],
      callback_vars: { posthog_api_key: `...${TEAM_KEY.slice(-4)}`, posthog_api_url: teamPosthog.url },
    });
    const info = await ok('/team/info?team_id=tlp-a');
    expect(info.team_info.metadata.callback_settings.callback_vars.posthog_api_key).toBe(`...${TEAM_KEY.slice(-4)}`);
    expect(JSON.stringify([shown, info])).not.toContain(TEAM_KEY);
    await admin.auditLogFreeOfPlainKeys([TEAM_KEY]);
  });

  it("refuses to store a URL other than the config's without a key of its own (the config's key never goes there); the config's URL written otherwise is the config's project", async () => {
    const key = await teamWithKey('tlp-nokey');
    const refused = async (path: string, body: unknown, param: string) => {
      const res = await admin.call(path, body);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.param).toBe(param);
      expect(res.body.error.message).toContain('needs a posthog_api_key of its own');
    };
    const urlOnly = { posthog_api_url: teamPosthog.url };
    const entry = { callback_name: 'posthog', callback_vars: urlOnly };
    await refused('/team/tlp-nokey/callback', { callback_name: 'posthog', callback_vars: urlOnly }, 'callback_vars.posthog_api_key');
    await refused('/team/update', { team_id: 'tlp-nokey', metadata: { callback_settings: { callbacks: ['posthog'], callback_vars: urlOnly } } }, 'metadata.callback_settings.callback_vars.posthog_api_key');
    await refused('/key/generate', { metadata: { logging: [entry] } }, 'metadata.logging[0].callback_vars.posthog_api_key');
    await refused('/key/update', { key, metadata: { logging: [entry] } }, 'metadata.logging[0].callback_vars.posthog_api_key');
    expect((await ok('/team/info?team_id=tlp-nokey')).team_info.metadata).not.toHaveProperty('callback_settings');

    // The config's URL with a trailing slash is the config's: its calls go there with the config's key.
    await ok('/team/tlp-nokey/callback', { callback_name: 'posthog', callback_vars: { posthog_api_url: `${envPosthog.url}/` } });
    const before = allBatches(teamPosthog).length;
    const callId = await chatWith(key);
    await eventually(async () => eventOf(envPosthog, callId));
    expect(envPosthog.batches.find((b) => b.events.some((e) => e.properties?.$ai_span_id === callId))!.apiKey).toBe(ENV_KEY);
    expect(allBatches(teamPosthog).length).toBe(before);
  });

  it("keeps a key sent back as shown with the URL it was stored for; /key/health tests a key's own project", async () => {
    const key = (await admin.generate({ metadata: { logging: [{ callback_name: 'posthog', callback_vars: { posthog_api_key: TEAM_KEY, posthog_api_url: teamPosthog.url } }] } })).key as string;
    const entry = (await ok(`/key/info?key=${encodeURIComponent(key)}`)).info.metadata.logging[0];
    expect(entry.callback_vars).toEqual({ posthog_api_key: `...${TEAM_KEY.slice(-4)}`, posthog_api_url: teamPosthog.url });
    const moved = await admin.call('/key/update', { key, metadata: { logging: [{ ...entry, callback_vars: { ...entry.callback_vars, posthog_api_url: envPosthog.url } }] } });
    expect(moved.status, JSON.stringify(moved.body)).toBe(400);
    expect(moved.body.error.message).toContain('keeps the host it was stored for');
    // Sent back unchanged, the stored key stays: the key's calls still reach its project with it.
    await ok('/key/update', { key, metadata: { logging: [entry] } });
    const callId = await chatWith(key);
    await eventually(async () => eventOf(teamPosthog, callId));
    expect(sentFor(envPosthog, callId)).toBe(false);

    const before = teamPosthog.batches.length;
    const health = await ok('/key/health', {}, key);
    expect(health).toMatchObject({ key: 'healthy', logging_callbacks: { callbacks: ['posthog'], status: 'healthy' } });
    expect(teamPosthog.batches.length).toBe(before + 1);
    expect(teamPosthog.batches.at(-1)!.apiKey).toBe(TEAM_KEY);
    expect(JSON.stringify([health, allBatches(envPosthog)])).not.toContain(TEAM_KEY);
  });

  it('refuses a posthog_api_url that is not http(s), a variable of another callback, and names posthog among those served', async () => {
    await teamWithKey('tlp-bad');
    const refused = async (body: unknown, param: string) => {
      const res = await admin.call('/team/tlp-bad/callback', body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.param).toBe(param);
      return res.body.error.message as string;
    };
    expect(await refused({ callback_name: 'posthog', callback_vars: { posthog_api_key: TEAM_KEY, posthog_api_url: 'ftp://ph.example' } }, 'callback_vars.posthog_api_url'))
      .toContain('must be an http(s) URL');
    expect(await refused({ callback_name: 'posthog', callback_vars: { posthog_api_key: TEAM_KEY, posthog_api_url: `${teamPosthog.url}/?region=eu` } }, 'callback_vars.posthog_api_url'))
      .toContain('must not have a query or fragment');
    await refused({ callback_name: 'posthog', callback_vars: { langsmith_api_key: 'lsv2_x' } }, 'callback_vars.langsmith_api_key');
    expect(await refused({ callback_name: 'datadog' }, 'callback_name')).toContain('"posthog" (the team\'s own PostHog project (posthog_api_key, posthog_api_url)');
    expect((await ok('/team/info?team_id=tlp-bad')).team_info.metadata).not.toHaveProperty('callback_settings');
  });
});
