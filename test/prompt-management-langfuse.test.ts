import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLangfuse, startFakeLangfuse } from './fakes/langfuse.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's langfuse prompt integration on /v1/chat/completions: config.yaml prompts fetched from Langfuse's
// prompts API (a fake on loopback), compiled and merged into the call the provider receives.

const PUBLIC_KEY = 'pk-lf-prompts-0001';
const SECRET_KEY = 'sk-lf-prompts-secret-0001';
let fake: FakeUpstream;
let langfuse: FakeLangfuse;
let stack: TestStack;
let client: OpenAI;

type Extra = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming & Record<string, unknown>;
const sent = () => fake.requests.at(-1)!.body as Record<string, unknown>;
const promptRequests = () => langfuse.promptStore.requests;

beforeAll(async () => {
  fake = await startFakeUpstream();
  langfuse = await startFakeLangfuse({ publicKey: PUBLIC_KEY, secretKey: SECRET_KEY });
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: small
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: sk-up}
  - model_name: big
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-up}
prompts:
  - prompt_id: greeting
    litellm_params: {prompt_id: greeting, prompt_integration: langfuse}
  - prompt_id: support
    litellm_params:
      prompt_id: support/chat
      prompt_integration: langfuse
      langfuse_public_key: os.environ/SUPPORT_LF_PUBLIC
      langfuse_secret: os.environ/SUPPORT_LF_SECRET
      langfuse_host: "${langfuse.url}"
  - prompt_id: wrong-keys
    litellm_params: {prompt_integration: langfuse, langfuse_public_key: pk-lf-wrong, langfuse_secret_key: sk-lf-wrong-secret, langfuse_host: "${langfuse.url}"}
  - prompt_id: down
    litellm_params: {prompt_integration: langfuse}
  - prompt_id: hanging
    litellm_params: {prompt_integration: langfuse, timeout: 1}
  - prompt_id: missing
    litellm_params: {prompt_integration: langfuse}
  - prompt_id: elsewhere
    litellm_params: {prompt_integration: langfuse, langfuse_host: "${fake.url}"}
`,
    env: {
      LANGFUSE_HOST: langfuse.url, LANGFUSE_PUBLIC_KEY: PUBLIC_KEY, LANGFUSE_SECRET_KEY: SECRET_KEY,
      SUPPORT_LF_PUBLIC: PUBLIC_KEY, SUPPORT_LF_SECRET: SECRET_KEY,
    },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  langfuse.promptStore.prompts.set('greeting', [
    { version: 1, type: 'text', prompt: 'Say hi to {{name}}.', config: {}, labels: [] },
    { version: 2, type: 'text', prompt: 'Greet {{name}} from {{ city }}; {{unset}} stays.', config: { model: 'big', temperature: 0.3, max_tokens: 40 }, labels: ['production'] },
    { version: 3, type: 'text', prompt: 'Staging greeting for {{name}}.', config: { temperature: 0.9 }, labels: ['staging'] },
  ]);
  langfuse.promptStore.prompts.set('support/chat', [{
    version: 7, type: 'chat', labels: ['production'], config: { top_p: 0.5 },
    prompt: [
      { type: 'chatmessage', role: 'system', content: 'You support {{product}} customers.' },
      { type: 'placeholder', name: 'history' },
      { type: 'chatmessage', role: 'user', content: 'My plan: {{plan}}' },
    ],
  }]);
  langfuse.promptStore.prompts.set('down', 'fail');
  langfuse.promptStore.prompts.set('hanging', 'hang');
});
afterAll(async () => {
  await stack?.stop();
  await langfuse?.close();
  await fake?.close();
});

async function refusal(body: Record<string, unknown>, key = TEST_MASTER_KEY) {
  const before = fake.requests.length;
  const res = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json() as { error: { message: string; type: string; param: string | null } };
  expect(fake.requests.length).toBe(before);
  return { status: res.status, error: json.error };
}

describe('langfuse prompts', () => {
  it("fetches the production version with the project's keys and sends its text as a system message, with its config's model and settings", async () => {
    const answer = await client.chat.completions.create({
      model: 'small', temperature: 1, messages: [{ role: 'user', content: 'Hello!' }], prompt_id: 'greeting', prompt_variables: { name: 'Ada', city: 'Paris' },
    } as Extra);
    expect(answer.choices[0]?.message.content).toBe('echo: Hello!');
    expect(sent()).toEqual({
      model: 'gpt-4o', temperature: 0.3, max_tokens: 40,
      messages: [{ role: 'system', content: 'Greet Ada from Paris; {{unset}} stays.' }, { role: 'user', content: 'Hello!' }],
    });
    expect(promptRequests().at(-1)).toEqual({ name: 'greeting', query: { label: 'production' }, authorization: `Basic ${Buffer.from(`${PUBLIC_KEY}:${SECRET_KEY}`).toString('base64')}` });
  });

  it('takes the version or label the call names', async () => {
    await client.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'v1' }], prompt_id: 'greeting', prompt_version: 1, prompt_variables: { name: 'Bo' } } as Extra);
    expect(sent()).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Say hi to Bo.' }, { role: 'user', content: 'v1' }] });
    await client.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'st' }], prompt_id: 'greeting', prompt_label: 'staging', prompt_variables: { name: 'Cy' } } as Extra);
    expect(sent()).toEqual({ model: 'gpt-4o-mini', temperature: 0.9, messages: [{ role: 'system', content: 'Staging greeting for Cy.' }, { role: 'user', content: 'st' }] });
    expect(promptRequests().slice(-2).map((r) => r.query)).toEqual([{ version: '1' }, { label: 'staging' }]);
    const both = await refusal({ model: 'small', prompt_id: 'greeting', prompt_version: 1, prompt_label: 'staging' });
    expect([both.status, both.error.param]).toEqual([400, 'prompt_version']);
  });

  it("expands a chat prompt's placeholder with the caller's messages, by the url-encoded name its own keys fetch", async () => {
    const history = [{ role: 'user', content: 'It broke on {{product}}' }, { role: 'assistant', content: 'What plan?' }];
    await client.chat.completions.create({
      model: 'small', messages: [{ role: 'user', content: 'Help' }], prompt_id: 'support', prompt_variables: { product: 'Tollgate', plan: 'pro', history },
    } as Extra);
    expect(sent()).toEqual({
      model: 'gpt-4o-mini', top_p: 0.5,
      messages: [
        { role: 'system', content: 'You support Tollgate customers.' },
        { role: 'user', content: 'It broke on Tollgate' }, { role: 'assistant', content: 'What plan?' },
        { role: 'user', content: 'My plan: pro' }, { role: 'user', content: 'Help' },
      ],
    });
    expect(promptRequests().at(-1)?.name).toBe('support/chat');
    const unfilled = await refusal({ model: 'small', prompt_id: 'support', prompt_version: 7, prompt_variables: { product: 'x' } });
    expect([unfilled.status, unfilled.error.param, unfilled.error.message]).toEqual([400, 'prompt_variables', 'prompt "support": its placeholder "history" needs prompt_variables.history, a list of messages']);
  });

  it("answers Langfuse's 404 with a 404, its 401 and 500 with 502s that name no key, and a hang with a 504; nothing is sent", async () => {
    const missing = await refusal({ model: 'small', prompt_id: 'missing' });
    expect([missing.status, missing.error.message]).toEqual([404, 'prompt "missing": Langfuse does not know this prompt (404)']);
    // Langfuse's 404 is kept for a few seconds: asking again is not another GET.
    const asked = promptRequests().length;
    expect((await refusal({ model: 'small', prompt_id: 'missing' })).status).toBe(404);
    expect(promptRequests()).toHaveLength(asked);
    const unknownVersion = await refusal({ model: 'small', prompt_id: 'greeting', prompt_version: 99 });
    expect(unknownVersion.status).toBe(404);
    for (const [id, status] of [['wrong-keys', 401], ['down', 500]] as const) {
      const failed = await refusal({ model: 'small', prompt_id: id });
      expect([failed.status, failed.error.message]).toEqual([502, `prompt "${id}": Langfuse answered ${status}`]);
      for (const secret of ['sk-lf-wrong-secret', SECRET_KEY, PUBLIC_KEY, 'Basic ']) expect(JSON.stringify(failed.error)).not.toContain(secret);
    }
    const started = Date.now();
    const hung = await refusal({ model: 'small', prompt_id: 'hanging' });
    expect([hung.status, hung.error.type]).toEqual([504, 'timeout_error']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("never sends the environment's keys to another host, and asks Langfuse nothing for an unknown key", async () => {
    const before = fake.requests.length;
    const elsewhere = await refusal({ model: 'small', prompt_id: 'elsewhere' });
    expect([elsewhere.status, elsewhere.error.param]).toEqual([400, 'prompt_id']);
    expect(fake.requests.length).toBe(before);
    const asked = promptRequests().length;
    const unknown = await refusal({ model: 'small', prompt_id: 'greeting', prompt_label: 'unknown-key-label' }, 'sk-not-a-key');
    expect(unknown.status).toBe(401);
    expect(promptRequests()).toHaveLength(asked);
  });

  it('refuses an unknown key with a 401 before a kept prompt could refuse its variables (naming its placeholders)', async () => {
    const history = [{ role: 'user', content: 'earlier' }];
    await client.chat.completions.create({ model: 'small', messages: [], prompt_id: 'support', prompt_variables: { product: 'Tollgate', plan: 'pro', history } } as Extra);
    const asked = promptRequests().length;
    const unknown = await refusal({ model: 'small', prompt_id: 'support', prompt_variables: {} }, 'sk-not-a-key');
    expect(unknown.status).toBe(401);
    expect(JSON.stringify(unknown.error)).not.toContain('history');
    const known = await refusal({ model: 'small', prompt_id: 'support', prompt_variables: {} });
    expect([known.status, known.error.param]).toEqual([400, 'prompt_variables']);
    expect(promptRequests()).toHaveLength(asked);
  });

  it('refuses an unknown key with a 401 before an unknown prompt_id, a malformed prompt field or a prompt without keys is refused', async () => {
    const cases = [
      [{ prompt_id: 'not-configured' }, 'prompt_id'],
      [{ prompt_id: 'greeting', prompt_variables: ['name'] }, 'prompt_variables'],
      [{ prompt_id: 'greeting', prompt_version: 'abc' }, 'prompt_version'],
      [{ prompt_id: 'greeting', prompt_version: true }, 'prompt_version'],
      [{ prompt_id: 'greeting', prompt_label: 'x'.repeat(201) }, 'prompt_label'],
      [{ prompt_id: 'elsewhere' }, 'prompt_id'],
    ] as const;
    for (const [fields, param] of cases) {
      const body = { model: 'small', ...fields };
      const unknown = await refusal(body, 'sk-not-a-key');
      expect(unknown).toEqual({ status: 401, error: { message: expect.stringContaining('Authentication Error, Invalid proxy server token passed'), type: 'token_not_found_in_db', param: 'key', code: '401' } });
      const known = await refusal(body);
      expect([known.status, known.error.type, known.error.param]).toEqual([400, 'bad_request_error', param]);
    }
  });

  it("refuses an unknown key with a 401 before a kept prompt's merged messages could be refused (naming their layout)", async () => {
    const history = [{ role: 'user', content: 'earlier' }];
    await client.chat.completions.create({ model: 'small', messages: [], prompt_id: 'support', prompt_variables: { product: 'Tollgate', plan: 'pro', history } } as Extra);
    const asked = promptRequests().length;
    const bogus = { model: 'small', prompt_id: 'support', prompt_variables: { product: 'x', plan: 'y', history: [{ role: 'bogus', content: 'hi' }] } };
    const unknown = await refusal(bogus, 'sk-not-a-key');
    expect(unknown.status).toBe(401);
    expect(JSON.stringify(unknown.error)).not.toContain('messages.1');
    const known = await refusal(bogus);
    expect([known.status, known.error.param]).toEqual([400, 'messages.1.role']);
    expect(promptRequests()).toHaveLength(asked);
  });
});
