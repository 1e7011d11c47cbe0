import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePromptApi, startFakePromptApi } from './fakes/prompt-api.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's prompt management on /v1/chat/completions: config.yaml's prompts (inline dotprompt and the generic
// prompt API) named by prompt_id, merged into the call the provider receives.

const PROMPT_KEY = 'pk-prompt-api-secret-0001';
let fake: FakeUpstream;
let promptApi: FakePromptApi;
let stack: TestStack;
let client: OpenAI;

type Extra = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming & Record<string, unknown>;
const sent = () => fake.requests.at(-1)!.body as Record<string, unknown>;

beforeAll(async () => {
  fake = await startFakeUpstream();
  promptApi = await startFakePromptApi(PROMPT_KEY);
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: small
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: sk-up}
  - model_name: big
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-up}
prompts:
  - prompt_id: tutor
    litellm_params:
      prompt_id: tutor
      prompt_integration: dotprompt
      dotprompt_content: |
        ---
        temperature: 0.2
        max_tokens: 64
        ---
        System: You tutor {{ subject }} for {{level}} students.

        User: Start with {{ subject }}.
  - prompt_id: routed
    litellm_params:
      prompt_integration: dotprompt
      prompt_data:
        content: "Answer in {{lang}}."
        metadata: {model: big}
  - prompt_id: looping
    litellm_params:
      prompt_integration: dotprompt
      dotprompt_content: "{% for x in items %}{{ x }}{% endfor %}"
  - prompt_id: remote
    litellm_params:
      prompt_integration: generic_prompt_management
      api_base: "${promptApi.url}"
      api_key: os.environ/PROMPT_API_KEY
      provider_specific_query_params: {project_name: litellm, slug: hello-world}
      timeout: 1
  - prompt_id: remote-down
    litellm_params: {prompt_integration: generic_prompt_management, api_base: "${promptApi.url}", api_key: os.environ/PROMPT_API_KEY, timeout: 1}
  - prompt_id: remote-hang
    litellm_params: {prompt_integration: generic_prompt_management, api_base: "${promptApi.url}", api_key: os.environ/PROMPT_API_KEY, timeout: 1}
  - prompt_id: remote-fresh-1
    litellm_params: {prompt_integration: generic_prompt_management, api_base: "${promptApi.url}", api_key: os.environ/PROMPT_API_KEY}
  - prompt_id: remote-fresh-2
    litellm_params: {prompt_integration: generic_prompt_management, api_base: "${promptApi.url}", api_key: os.environ/PROMPT_API_KEY}
  - prompt_id: humanloop-one
    litellm_params: {prompt_integration: humanloop}
`,
    env: { PROMPT_API_KEY: PROMPT_KEY },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  promptApi.prompts.set('remote', {
    prompt_template: [{ role: 'system', content: 'You help with {task}.' }, { role: 'user', content: 'Task: {{task}}' }],
    prompt_template_model: 'big',
    prompt_template_optional_params: { temperature: 0.7, max_tokens: 500 },
  });
  promptApi.prompts.set('remote-down', 'fail');
  promptApi.prompts.set('remote-hang', 'hang');
});
afterAll(async () => {
  await stack?.stop();
  await promptApi?.close();
  await fake?.close();
});

async function refusal(body: Record<string, unknown>, path = '/v1/chat/completions', key = TEST_MASTER_KEY) {
  const before = fake.requests.length;
  const res = await fetch(`${stack.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json() as { error: { message: string; type: string; param: string | null; code: string } };
  expect(fake.requests.length).toBe(before);
  return { status: res.status, error: json.error };
}

describe('dotprompt prompts from config.yaml', () => {
  it("sends the rendered prompt before the caller's messages, with the prompt's settings, and no prompt fields", async () => {
    const answer = await client.chat.completions.create({
      model: 'small', temperature: 1.5, messages: [{ role: 'user', content: 'What is a derivative?' }],
      prompt_id: 'tutor', prompt_variables: { subject: 'calculus', level: 'first-year' },
    } as Extra);
    expect(answer.choices[0]?.message.content).toBe('echo: What is a derivative?');
    expect(sent()).toEqual({
      model: 'gpt-4o-mini', temperature: 0.2, max_tokens: 64,
      messages: [
        { role: 'system', content: 'You tutor calculus for first-year students.' },
        { role: 'user', content: 'Start with calculus.' },
        { role: 'user', content: 'What is a derivative?' },
      ],
    });
  });

  it("takes the prompt's model (the key's access is checked on it) and needs no messages from the caller", async () => {
    await client.chat.completions.create({ model: 'small', prompt_id: 'routed', prompt_variables: { lang: 'French' } } as unknown as Extra);
    expect(sent()).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Answer in French.' }] });
    const smallOnly = await seedKey(stack.db.url, { models: ['small'] });
    const denied = await refusal({ model: 'small', prompt_id: 'routed', prompt_variables: { lang: 'French' } }, '/chat/completions', smallOnly);
    expect(denied.status).toBe(401);
    expect(denied.error.message).toContain('big');
  });

  it('refuses unknown prompts, templates with blocks and integrations not built with 400s, sending nothing', async () => {
    const unknown = await refusal({ model: 'small', prompt_id: 'nope', messages: [{ role: 'user', content: 'hi' }] });
    expect([unknown.status, unknown.error.param, unknown.error.message]).toEqual([400, 'prompt_id', 'prompt_id "nope" is not a prompt of config.yaml\'s prompts']);
    const looping = await refusal({ model: 'small', prompt_id: 'looping', prompt_variables: { items: [1, 2] } });
    expect(looping.status).toBe(400);
    expect(looping.error.message).toContain('{% for x in items %}');
    const humanloop = await refusal({ model: 'small', prompt_id: 'humanloop-one', messages: [{ role: 'user', content: 'hi' }] });
    expect([humanloop.status, humanloop.error.message]).toEqual([400, 'prompt "humanloop-one" cannot be used: its prompt_integration "humanloop" is not supported by Tollgate yet']);
  });
});

describe('generic_prompt_management', () => {
  it('GETs the prompt with its query params and bearer key, substitutes {vars}, and merges as LiteLLM', async () => {
    await client.chat.completions.create({
      model: 'small', temperature: 0.1, messages: [{ role: 'user', content: 'go' }], prompt_id: 'remote', prompt_variables: { task: 'taxes' },
    } as Extra);
    const asked = promptApi.requests.at(-1)!;
    expect(asked.query).toEqual({ prompt_id: 'remote', project_name: 'litellm', slug: 'hello-world' });
    expect(asked.headers.authorization).toBe(`Bearer ${PROMPT_KEY}`);
    expect(sent()).toEqual({
      model: 'gpt-4o', temperature: 0.7, max_tokens: 500,
      messages: [{ role: 'system', content: 'You help with taxes.' }, { role: 'user', content: 'Task: taxes' }, { role: 'user', content: 'go' }],
    });
    // The answer is kept per isolate: the next call does not ask again, and still gets its own variables.
    const asks = promptApi.requests.length;
    await client.chat.completions.create({ model: 'small', messages: [{ role: 'user', content: 'go' }], prompt_id: 'remote', prompt_variables: { task: 'rent' } } as Extra);
    expect(promptApi.requests.length).toBe(asks);
    expect((sent().messages as { content: string }[])[0]!.content).toBe('You help with rent.');
  });

  it("a prompt API's 500 is a 502 and a hang a 504 after the prompt's timeout; the call is never sent without its prompt", async () => {
    const down = await refusal({ model: 'small', prompt_id: 'remote-down', messages: [{ role: 'user', content: 'hi' }] });
    expect([down.status, down.error.type, down.error.message]).toEqual([502, 'api_error', 'prompt "remote-down": the prompt API answered 500']);
    const started = Date.now();
    const hang = await refusal({ model: 'small', prompt_id: 'remote-hang', messages: [{ role: 'user', content: 'hi' }] });
    expect([hang.status, hang.error.type]).toEqual([504, 'timeout_error']);
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const e of [down, hang]) expect(JSON.stringify(e)).not.toContain(PROMPT_KEY);
  });
});

describe('who and where a prompt is applied for', () => {
  it('an unknown key naming a prompt is the 401, and the prompt API is never asked', async () => {
    const asks = promptApi.requests.length;
    const denied = await refusal({ model: 'small', prompt_id: 'remote-down', messages: [{ role: 'user', content: 'hi' }] }, '/v1/chat/completions', 'sk-not-a-real-key-0001');
    expect([denied.status, denied.error.type]).toEqual([401, 'token_not_found_in_db']);
    expect(promptApi.requests.length).toBe(asks);
  });

  const generate = async (body: Record<string, unknown>) => {
    const res = await fetch(`${stack.url}/key/generate`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json() as { key: string }).key;
  };
  // Each case its own generic prompt, never fetched before, so no kept answer stands in for the prompt API.
  const freshPrompt = (id: string) => promptApi.prompts.set(id, { prompt_template: [{ role: 'system', content: 'Fresh.' }] });

  it('a blocked key naming a generic prompt gets the blocked-key 403, and the prompt API is never asked', async () => {
    freshPrompt('remote-fresh-1');
    const key = await generate({ models: ['small', 'big'] });
    const blocked = await fetch(`${stack.url}/key/block`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
    expect(blocked.status).toBe(200);
    const asks = promptApi.requests.length;
    const denied = await refusal({ model: 'small', prompt_id: 'remote-fresh-1', messages: [{ role: 'user', content: 'hi' }] }, '/v1/chat/completions', key);
    expect([denied.status, denied.error.message]).toEqual([403, 'Authentication Error - Key is blocked. Update via `/key/unblock` if you\'re admin.']);
    expect(promptApi.requests.length).toBe(asks);
  });

  it("a key whose allowed_routes leave out chat gets its usual refusal with a generic prompt, and the prompt API is never asked", async () => {
    freshPrompt('remote-fresh-2');
    const key = await generate({ models: ['small', 'big'], allowed_routes: ['/v1/embeddings'] });
    const usual = await refusal({ model: 'small', messages: [{ role: 'user', content: 'hi' }] }, '/v1/chat/completions', key);
    const asks = promptApi.requests.length;
    const denied = await refusal({ model: 'small', prompt_id: 'remote-fresh-2', messages: [{ role: 'user', content: 'hi' }] }, '/v1/chat/completions', key);
    expect(usual.status).toBeGreaterThanOrEqual(400);
    expect(denied).toEqual(usual);
    expect(promptApi.requests.length).toBe(asks);
  });

  it("a caller's messages that are not a list are a 400 naming messages", async () => {
    const refused = await refusal({ model: 'small', prompt_id: 'tutor', prompt_variables: { subject: 'x', level: 'y' }, messages: { role: 'user', content: 'hi' } });
    expect([refused.status, refused.error.param]).toEqual([400, 'messages']);
  });

  it('a streamed chat with a prompt: the provider gets the prompt\'s messages, the client the stream', async () => {
    const stream = await client.chat.completions.create({
      model: 'small', stream: true, messages: [{ role: 'user', content: 'Explain limits.' }], prompt_id: 'tutor', prompt_variables: { subject: 'calculus', level: 'first-year' },
    } as OpenAI.Chat.ChatCompletionCreateParamsStreaming & Record<string, unknown>);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: Explain limits.');
    expect(sent()).toMatchObject({
      model: 'gpt-4o-mini', stream: true, temperature: 0.2,
      messages: [
        { role: 'system', content: 'You tutor calculus for first-year students.' },
        { role: 'user', content: 'Start with calculus.' },
        { role: 'user', content: 'Explain limits.' },
      ],
    });
  });

  it('a prompt_id on another endpoint or on /v1/messages is a 400 naming it, nothing sent', async () => {
    const embeddings = await refusal({ model: 'small', input: 'hi', prompt_id: 'tutor' }, '/v1/embeddings');
    expect([embeddings.status, embeddings.error.param]).toEqual([400, 'prompt_id']);
    expect(embeddings.error.message).toContain('/embeddings');
    const messages = await refusal({ model: 'small', max_tokens: 10, prompt_id: 'tutor', messages: [{ role: 'user', content: 'hi' }] }, '/v1/messages');
    expect(messages.status).toBe(400);
    expect(messages.error.message).toContain('prompt_id is not supported on /v1/messages');
  });
});

describe('with no prompts in config.yaml', () => {
  let bare: TestStack;
  beforeAll(async () => {
    bare = await startTestStack({
      configYaml: `
model_list:
  - model_name: small
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: sk-up}
`,
    });
  });
  afterAll(async () => {
    await bare?.stop();
  });

  it('a prompt_id is a 400 and the call is not sent', async () => {
    const before = fake.requests.length;
    const res = await fetch(`${bare.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'small', prompt_id: 'tutor', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const { error } = await res.json() as { error: { param: string; message: string } };
    expect([res.status, error.param, error.message]).toEqual([400, 'prompt_id', 'prompt_id "tutor" is not a prompt of config.yaml\'s prompts']);
    expect(fake.requests.length).toBe(before);
  });

  it('a prompt_id with an unknown key is that key\'s 401 first, as LiteLLM authenticates first', async () => {
    const res = await fetch(`${bare.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: 'Bearer sk-not-a-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'small', prompt_id: 'tutor', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const { error } = await res.json() as { error: { param: string; message: string } };
    expect([res.status, error.param, error.message]).toEqual([401, 'key', expect.stringContaining('Authentication Error, Invalid proxy server token passed')]);
  });
});
