import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually } from './support/keys.ts';
import { exec } from './support/pg-client.ts';
import { asker, failure } from './support/router-stack.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// Router settings stored in LiteLLM_Config's router_settings row (the admin UI's router settings and fallbacks pages
// write it through /config/update) laid over config.yaml's, with store_model_in_db, as LiteLLM re-reads the row: the
// row is written here with SQL, in LiteLLM's format (param_value a JSON object), and the gateway routes by it within
// seconds, no restart.

let failing: FakeUpstream;
let healthy: FakeUpstream;

const configYaml = (storeModelInDb: boolean) => `
model_list:
  - model_name: group-a
    litellm_params: {model: openai/gpt-4o, api_base: "${failing.url}/v1", api_key: sk-group-a}
  - model_name: group-b
    litellm_params: {model: openai/gpt-4o, api_base: "${healthy.url}/v1", api_key: sk-group-b}
router_settings:
  num_retries: 0
  disable_cooldowns: true
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
${storeModelInDb ? '  store_model_in_db: true\n' : ''}`;

const writeRow = (stack: TestStack, value: unknown) => exec(stack.databaseUrl,
  `INSERT INTO "LiteLLM_Config" (param_name, param_value) VALUES ('router_settings', '${JSON.stringify(value).replace(/'/g, "''")}')
   ON CONFLICT (param_name) DO UPDATE SET param_value = EXCLUDED.param_value`);

/** A chat call's status (the OpenAI client throws on an error: its status is kept). */
const statusOf = async (call: Promise<unknown>) => call.then(() => 200, (err: { status?: number }) => err.status ?? 0);

beforeAll(async () => {
  [failing, healthy] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
});
afterAll(async () => {
  await failing?.close();
  await healthy?.close();
});

describe('with store_model_in_db', () => {
  let stack: TestStack;
  let client: OpenAI;
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: configYaml(true) });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => stack?.stop());
  beforeEach(() => {
    failing.reset();
    healthy.reset();
    failing.setDefault(failure(500));
  });
  const ask = asker(() => client);
  /** Waits until a call to group-a answers with `status` (the row's change has landed in the isolate). */
  const groupAAnswers = (status: number) => eventually(async () => (await statusOf(ask('group-a')) === status ? true : undefined), 20_000);

  it('routes by the row: its fallbacks, model_group_alias and num_retries over config.yaml\'s; removing it gives config.yaml\'s back', async () => {
    // config.yaml's settings: no fallbacks, no retries, no alias.
    expect(await statusOf(ask('group-a'))).toBe(500);
    expect(failing.requests).toHaveLength(1);
    expect(await statusOf(ask('alias-b'))).not.toBe(200);

    await writeRow(stack, { fallbacks: [{ 'group-a': ['group-b'] }], model_group_alias: { 'alias-b': 'group-b' }, num_retries: 2, timeout: null });
    await groupAAnswers(200);

    failing.reset();
    failing.setDefault(failure(500));
    healthy.reset();
    const { response } = await ask('group-a');
    expect(response.status).toBe(200);
    // num_retries: 2 from the row: three attempts at group-a, then its fallback.
    expect(failing.requests).toHaveLength(3);
    expect(healthy.requests).toHaveLength(1);
    const aliased = await ask('alias-b');
    expect(aliased.response.headers.get('x-litellm-model-group')).toBe('group-b');

    await exec(stack.databaseUrl, `DELETE FROM "LiteLLM_Config" WHERE param_name = 'router_settings'`);
    await groupAAnswers(500);
    failing.reset();
    failing.setDefault(failure(500));
    expect(await statusOf(ask('group-a'))).toBe(500);
    expect(failing.requests).toHaveLength(1);
    expect(await statusOf(ask('alias-b'))).not.toBe(200);
  }, 90_000);

  it('ignores a key the schema refuses, keeping config.yaml\'s for it, while the row\'s good keys apply and the gateway serves', async () => {
    await writeRow(stack, { fallbacks: [{ 'group-a': ['group-b'] }] });
    await groupAAnswers(200);

    // A malformed fallbacks list (and an unknown strategy) next to a good alias.
    await writeRow(stack, { fallbacks: [{ 'group-a': 'group-b' }], routing_strategy: 'fastest-please', model_group_alias: { 'alias-b': 'group-b' } });
    await groupAAnswers(500);
    expect((await ask('alias-b')).response.headers.get('x-litellm-model-group')).toBe('group-b');
    expect((await ask('group-b')).response.status).toBe(200);

    // A row that is not a mapping at all is ignored whole.
    await writeRow(stack, ['fallbacks']);
    await eventually(async () => (await statusOf(ask('alias-b')) !== 200 ? true : undefined), 20_000);
    expect(await statusOf(ask('group-a'))).toBe(500);
    expect((await ask('group-b')).response.status).toBe(200);
    await exec(stack.databaseUrl, `DELETE FROM "LiteLLM_Config" WHERE param_name = 'router_settings'`);
  }, 90_000);

  it('routes a new isolate\'s first call by the row, and unsets just the alias a row sets to null', async () => {
    await writeRow(stack, { fallbacks: [{ 'group-a': ['group-b'] }], model_group_alias: { 'alias-b': 'group-b', 'alias-c': 'group-b' } });
    // A new isolate: its first call, to a config.yaml group, waits for the isolate's first read of the row.
    await stack.restartRuntime();
    failing.reset();
    failing.setDefault(failure(500));
    healthy.reset();
    expect(await statusOf(ask('group-a'))).toBe(200);
    expect(healthy.requests).toHaveLength(1);

    await writeRow(stack, { model_group_alias: { 'alias-b': null, 'alias-c': 'group-b' } });
    await eventually(async () => (await statusOf(ask('alias-b')) !== 200 ? true : undefined), 20_000);
    expect((await ask('alias-c')).response.headers.get('x-litellm-model-group')).toBe('group-b');
    await exec(stack.databaseUrl, `DELETE FROM "LiteLLM_Config" WHERE param_name = 'router_settings'`);
  }, 90_000);
});

describe('without store_model_in_db', () => {
  let stack: TestStack;
  let client: OpenAI;
  beforeAll(async () => {
    failing.reset();
    failing.setDefault(failure(500));
    stack = await startTestStack({ configYaml: configYaml(false) });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => stack?.stop());
  const ask = asker(() => client);

  it('never reads the row: config.yaml\'s settings alone', async () => {
    await writeRow(stack, { fallbacks: [{ 'group-a': ['group-b'] }], model_group_alias: { 'alias-b': 'group-b' } });
    // Longer than a refresh interval (2 s) with calls coming, so a gateway reading the row would have applied it.
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      expect(await statusOf(ask('group-a'))).toBe(500);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await statusOf(ask('alias-b'))).not.toBe(200);
  }, 60_000);
});
