/**
 * LiteLLM's config-defined team-based logging (`litellm_settings.default_team_settings`) end to end: a team
 * listed there has its keys' Langfuse events sent to its own project with its own keys, read by the admin
 * Worker from config.yaml (`os.environ/` values from its environment); every other call goes to the config's
 * default project. The entry behaves as the team's stored `callback_settings` would, below them in LiteLLM's
 * precedence: a key's `metadata.logging`, then the team's stored settings (even emptied by
 * `/team/{id}/disable_logging`) shadow it. Its secret shows nowhere: not in /team/info, errors, spend rows
 * or the config's warnings.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { type FakeLangfuse, startFakeLangfuse } from './fakes/langfuse.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { adminClient } from './support/admin.ts';
import { eventually, seedKey, seedTeam, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

const ALPHA_SECRET = 'sk-lf-alpha-config-secret-0001';
const STORED_SECRET = 'sk-lf-stored-team-secret-0002';

const config = (upstream: string, alpha: string) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/FAKE_OPENAI_KEY}
router_settings:
  num_retries: 0
litellm_settings:
  success_callback: ["langfuse"]
  failure_callback: ["langfuse"]
  default_team_settings:
    - team_id: dts-alpha
      success_callback: ["langfuse"]
      failure_callback: ["langfuse"]
      langfuse_public_key: os.environ/ALPHA_LANGFUSE_PUBLIC_KEY
      langfuse_secret: os.environ/ALPHA_LANGFUSE_SECRET
      langfuse_host: "${alpha}"
    - team_id: dts-stored
      success_callback: ["langfuse"]
      langfuse_public_key: pk-lf-alpha
      langfuse_secret_key: os.environ/ALPHA_LANGFUSE_SECRET
      langfuse_host: "${alpha}"
    - team_id: dts-no-keys
      success_callback: ["langfuse", "datadog"]
`;

let upstream: FakeUpstream;
let main: FakeLangfuse;
let alpha: FakeLangfuse;
let stored: FakeLangfuse;
let stack: TestStack;
const { ok, call, rows } = adminClient(() => stack);

beforeAll(async () => {
  upstream = await startFakeUpstream();
  main = await startFakeLangfuse({ publicKey: 'pk-lf-default', secretKey: 'sk-lf-default-secret' });
  alpha = await startFakeLangfuse({ publicKey: 'pk-lf-alpha', secretKey: ALPHA_SECRET });
  stored = await startFakeLangfuse({ publicKey: 'pk-lf-stored', secretKey: STORED_SECRET });
  stack = await startTestStack({
    configYaml: config(upstream.url, alpha.url),
    env: {
      FAKE_OPENAI_KEY: 'sk-upstream-openai-0001',
      LANGFUSE_PUBLIC_KEY: main.publicKey, LANGFUSE_SECRET_KEY: main.secretKey, LANGFUSE_HOST: main.url,
      ALPHA_LANGFUSE_PUBLIC_KEY: alpha.publicKey, ALPHA_LANGFUSE_SECRET: ALPHA_SECRET,
    },
  });
  for (const id of ['dts-alpha', 'dts-beta', 'dts-stored', 'dts-no-keys']) await seedTeam(stack.db.url, { id, alias: `Team ${id}` });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([upstream?.close(), main?.close(), alpha?.close(), stored?.close()]);
});
afterEach(() => {
  for (const fake of [main, alpha, stored]) expect(fake.invalid).toEqual([]);
});

/** One call with `key` (a failing one with `fail`); its call id and the answer's text. */
async function callWith(key: string, fail = false): Promise<{ id: string; text: string }> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  const body = { model: fail ? 'unreachable' : 'gpt-4o', messages: [{ role: 'user' as const, content: 'team settings' }] };
  if (fail) {
    const err = await client.chat.completions.create(body).catch((e: unknown) => e) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    return { id: err.headers?.get('x-litellm-call-id') ?? '', text: JSON.stringify(err.error ?? {}) + err.message };
  }
  const { data, response } = await client.chat.completions.create(body).withResponse();
  return { id: response.headers.get('x-litellm-call-id') ?? '', text: JSON.stringify(data) };
}

const generation = (fake: FakeLangfuse, id: string) => fake.waitFor((f) => f.generations().find((g) => g.id === id));
const inProject = (fake: FakeLangfuse, id: string) => fake.events.some((e) => e.body.id === id);

/** Each call reached `fake` and no other project; waits until a later call to the default project has arrived. */
async function onlyIn(fake: FakeLangfuse, ids: string[]): Promise<void> {
  for (const id of ids) await generation(fake, id);
  const marker = (await callWith(TEST_MASTER_KEY)).id;
  await generation(main, marker);
  await new Promise((r) => setTimeout(r, 1500));
  for (const other of [main, alpha, stored].filter((f) => f !== fake)) {
    for (const id of ids) expect(inProject(other, id), `${id} also reached another project`).toBe(false);
  }
}

describe('litellm_settings.default_team_settings', () => {
  it("sends a listed team's calls to its own project with its own keys; other teams', teamless keys' and the master key's to the config's", async () => {
    const alphaKey = await seedKey(stack.db.url, { teamId: 'dts-alpha', alias: 'alpha-key' });
    const served = await callWith(alphaKey);
    const failed = await callWith(alphaKey, true);
    expect(await generation(alpha, served.id)).toMatchObject({ name: 'litellm:alpha-key', level: 'DEFAULT' });
    expect(await generation(alpha, failed.id)).toMatchObject({ level: 'ERROR' });
    expect(alpha.requests.length).toBeGreaterThan(0);
    expect(alpha.requests.every((r) => r.authorized)).toBe(true);
    await onlyIn(alpha, [served.id, failed.id]);

    const others = [
      await callWith(await seedKey(stack.db.url, { teamId: 'dts-beta', alias: 'beta-key' })),
      await callWith(await seedKey(stack.db.url, { alias: 'teamless-key' })),
      await callWith(TEST_MASTER_KEY),
    ];
    await onlyIn(main, others.map((c) => c.id));
    // An entry without credentials of its own takes the environment's, for the environment's host.
    await onlyIn(main, [(await callWith(await seedKey(stack.db.url, { teamId: 'dts-no-keys' }))).id]);
  });

  it("yields to a key's own metadata.logging, and to the team's stored settings, even emptied by /disable_logging", async () => {
    const alphaKey = await seedKey(stack.db.url, { teamId: 'dts-alpha' });
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET metadata = $1 WHERE token = $2',
      [JSON.stringify({ logging: [{ callback_name: 'langfuse', callback_type: 'success' }] }), sha256(alphaKey)]);
    await onlyIn(main, [(await callWith(alphaKey)).id]);

    const key = await seedKey(stack.db.url, { teamId: 'dts-stored' });
    await onlyIn(alpha, [(await callWith(key)).id]);
    const vars = { langfuse_public_key: 'pk-lf-stored', langfuse_secret_key: STORED_SECRET, langfuse_host: stored.url };
    await ok('/team/dts-stored/callback', { callback_name: 'langfuse', callback_vars: vars });
    await onlyIn(stored, [(await callWith(key)).id, (await callWith(key, true)).id]);
    await ok('/team/dts-stored/disable_logging', undefined, TEST_MASTER_KEY, { method: 'POST' });
    await onlyIn(main, [(await callWith(key)).id]);
  });

  it('shows its secret nowhere: not in /team/info, the team lists, errors, spend rows or the warnings', async () => {
    const alphaKey = await seedKey(stack.db.url, { teamId: 'dts-alpha', alias: 'alpha-quiet' });
    const served = await callWith(alphaKey);
    const failed = await callWith(alphaKey, true);
    await generation(alpha, failed.id);
    const answers = [
      served.text, failed.text,
      JSON.stringify(await ok('/team/info?team_id=dts-alpha')),
      JSON.stringify(await ok('/team/list')),
      JSON.stringify(await ok('/v2/team/list')),
      JSON.stringify(await call('/team/dts-alpha/callback')),
      JSON.stringify(await ok(`/key/info?key=${alphaKey}`)),
      JSON.stringify(stack.warnings),
    ];
    for (const id of [served.id, failed.id]) answers.push(JSON.stringify(await eventually(() => spendLogRow(stack.db.url, id))));
    answers.push(JSON.stringify(await rows('SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['dts-alpha'])));
    for (const text of answers) expect(text).not.toContain(ALPHA_SECRET);
    expect(answers.join('\n')).not.toContain('sk-lf-alpha-config');
  });

  it("checks entries with the config's usual errors and warnings, quoting no secret", () => {
    const env = { LANGFUSE_HOST: 'https://langfuse.example' };
    const built = validateConfig({ litellm_settings: { default_team_settings: [
      { team_id: 'a', success_callback: ['langfuse', 'datadog'], langfuse_public_key: 'pk', langfuse_secret: 'sk-lf-literal-secret-9', mystery: 1 },
      { team_id: 'a', failure_callback: ['s3'], langfuse_secret_key: 'os.environ/UNSET_TEAM_SECRET' },
    ] } }, env);
    expect(built.ok).toBe(true);
    expect(built.warnings).toEqual(expect.arrayContaining([
      'litellm_settings.default_team_settings[0].mystery: not supported by Tollgate yet (ignored)',
      'litellm_settings.default_team_settings[0].success_callback: callback "datadog" is not sent per team by Tollgate (ignored; supported: langfuse)',
      expect.stringMatching(/^litellm_settings\.default_team_settings\[0\]\.langfuse_secret: compiled into the Worker bundle in plain text/),
      'litellm_settings.default_team_settings[1].langfuse_secret_key: os.environ/UNSET_TEAM_SECRET is not set',
      'litellm_settings.default_team_settings[1]: team "a" is listed before; only its first entry applies',
      expect.stringMatching(/^litellm_settings\.default_team_settings\[1\]: lists no "langfuse" callback/),
      expect.stringMatching(/^litellm_settings\.default_team_settings\[1\]: no langfuse_public_key and langfuse_secret of its own/),
    ]));
    expect(built.warnings.join('\n')).not.toContain('sk-lf-literal-secret-9');
    expect(built.ok && built.config.litellm_settings.default_team_settings?.[1]?.langfuse_secret_key).toBe('os.environ/UNSET_TEAM_SECRET');

    const bad = validateConfig({ litellm_settings: { default_team_settings: [{ langfuse_secret: 'sk-lf-literal-secret-9' }, 'team-b'] } }, env);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors).toEqual([
      'litellm_settings.default_team_settings[0].team_id: is required',
      expect.stringMatching(/^litellm_settings\.default_team_settings\[1\]: /),
    ]);
    expect(JSON.stringify(bad)).not.toContain('sk-lf-literal-secret-9');
  });
});
