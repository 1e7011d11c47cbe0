import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeTokenEndpoint, geminiSse, testServiceAccount } from './fakes/google.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

const read = (name: string) => readFileSync(new URL(`./fixtures/vertex/${name}`, import.meta.url), 'utf8');
const json = (name: string) => JSON.parse(read(name)) as unknown;
const lines = (name: string) => read(name).trim().split('\n');
/** The SSE text cut into pieces of `size` characters, so events arrive split. */
const pieces = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

let api: FakeUpstream;
let oauth: FakeUpstream;
let stack: TestStack;
let client: OpenAI;
let tokens: ReturnType<typeof fakeTokenEndpoint>;
let strangerTokens: ReturnType<typeof fakeTokenEndpoint>;

const GEMINI_PATH = '/v1/projects/tollgate-test-project/locations/europe-west4/publishers/google/models/gemini-2.0-flash-001';

beforeAll(async () => {
  api = await startFakeUpstream();
  oauth = await startFakeUpstream();
  const account = testServiceAccount(`${oauth.url}/token`);
  // A key the token endpoint does not know: same account name, another key pair.
  const stranger = testServiceAccount(`${oauth.url}/token`);
  tokens = fakeTokenEndpoint(account, `${oauth.url}/token`);
  strangerTokens = fakeTokenEndpoint(account, `${oauth.url}/token`);
  oauth.setDefault(tokens.behaviour);
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gemini-vertex
    litellm_params: {model: vertex_ai/gemini-2.0-flash-001, api_base: "${api.url}", vertex_project: tollgate-test-project, vertex_location: europe-west4, vertex_credentials: os.environ/TEST_VERTEX_CREDENTIALS}
  - model_name: vertex-embed
    litellm_params: {model: vertex_ai/text-embedding-005, api_base: "${api.url}", vertex_credentials: os.environ/TEST_VERTEX_CREDENTIALS}
  - model_name: wrong-key
    litellm_params: {model: vertex_ai/gemini-2.0-flash-001, api_base: "${api.url}", vertex_credentials: os.environ/TEST_VERTEX_STRANGER}
  - model_name: claude-vertex
    litellm_params: {model: "vertex_ai/claude-3-5-sonnet-v2@20241022", api_base: "${api.url}", vertex_location: us-east5, vertex_credentials: os.environ/TEST_VERTEX_CREDENTIALS}
# One attempt: these suites are about how a failed call looks (the router suites test retries).
router_settings:
  num_retries: 0
`,
    env: { TEST_VERTEX_CREDENTIALS: account.json, TEST_VERTEX_STRANGER: stranger.json },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await api?.close();
  await oauth?.close();
});
beforeEach(() => api.reset());

describe('Gemini on Vertex AI through the openai client', () => {
  it('gets an access token with a signed JWT, then calls generateContent with it', async () => {
    api.enqueue({ kind: 'json', body: json('generate-content-text.json') });
    const { data, response } = await client.chat.completions.create({
      model: 'gemini-vertex', messages: [{ role: 'system', content: 'One sentence.' }, { role: 'user', content: 'Capital of France?' }], max_tokens: 50,
    }).withResponse();
    expect(tokens.checks).toEqual([expect.objectContaining({ ok: true })]);
    expect(oauth.requests[0]).toMatchObject({ method: 'POST', path: '/token' });
    const [sent] = api.requests;
    expect(sent?.path).toBe(`${GEMINI_PATH}:generateContent`);
    expect(sent?.query).toEqual({});
    expect(sent?.headers).toMatchObject({ authorization: 'Bearer ya29.test-access-token-1', 'content-type': 'application/json' });
    expect(sent?.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Capital of France?' }] }],
      systemInstruction: { parts: [{ text: 'One sentence.' }] },
      generationConfig: { maxOutputTokens: 50 },
    });
    expect(data).toMatchObject({
      object: 'chat.completion', model: 'gemini-2.0-flash-001',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Paris is the capital of France.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1210, completion_tokens: 8, total_tokens: 1218, prompt_tokens_details: { cached_tokens: 1024 } },
    });
    expect(response.headers.get('x-litellm-model-api-base')).toBe(`${api.url}${GEMINI_PATH}:generateContent`);
  });

  it('reuses the access token on later calls', async () => {
    api.enqueue({ kind: 'json', body: json('generate-content-text.json') }, { kind: 'json', body: json('generate-content-text.json') });
    await client.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'a' }] });
    await client.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'b' }] });
    expect(tokens.issued).toEqual(['ya29.test-access-token-1']);
    expect(api.requests.map((r) => r.headers.authorization)).toEqual(['Bearer ya29.test-access-token-1', 'Bearer ya29.test-access-token-1']);
  });

  it('streams streamGenerateContent?alt=sse, events split mid-way, with usage when asked', async () => {
    api.enqueue({ kind: 'sse', events: pieces(geminiSse(lines('stream-text.chunks.txt')).join(''), 9) });
    const stream = await client.chat.completions.create({ model: 'gemini-vertex', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Capital?' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(api.requests[0]?.path).toBe(`${GEMINI_PATH}:streamGenerateContent`);
    expect(api.requests[0]?.query).toEqual({ alt: 'sse' });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Paris is the capital of France — ünïcode ✓.');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 12, total_tokens: 19 } });
  });

  it('sends tools and returns function calls as tool calls, then sends the results back', async () => {
    api.enqueue({ kind: 'json', body: json('generate-content-function-call.json') });
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false } } },
      { type: 'function', function: { name: 'get_time' } },
    ];
    const first = await client.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'Weather and time in Paris?' }], tools, tool_choice: 'required' });
    expect(api.requests[0]?.body).toMatchObject({
      tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }, { name: 'get_time' }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
    });
    const message = first.choices[0]!.message;
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(message.tool_calls?.map((c) => c.type === 'function' && c.function)).toEqual([
      { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' }, { name: 'get_time', arguments: '{"zone":"CET"}' },
    ]);
    expect(first.usage).toMatchObject({ completion_tokens: 59, completion_tokens_details: { reasoning_tokens: 37 } });

    api.enqueue({ kind: 'json', body: json('generate-content-text.json') });
    const [weather, time] = message.tool_calls!;
    await client.chat.completions.create({
      model: 'gemini-vertex', tools,
      messages: [{ role: 'user', content: 'Weather and time in Paris?' }, message, { role: 'tool', tool_call_id: weather!.id, content: '18°C' }, { role: 'tool', tool_call_id: time!.id, content: '14:00' }],
    });
    expect((api.requests[1]?.body as { contents: unknown }).contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather and time in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris', unit: 'celsius' } } }, { functionCall: { name: 'get_time', args: { zone: 'CET' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: '18°C' } } }, { functionResponse: { name: 'get_time', response: { content: '14:00' } } }] },
    ]);
  });

  it('streams function calls that the SDK reassembles', async () => {
    api.enqueue({ kind: 'sse', events: pieces(geminiSse(lines('stream-function-call.chunks.txt')).join(''), 13) });
    const final = await client.chat.completions.stream({
      model: 'gemini-vertex', messages: [{ role: 'user', content: 'Weather and time?' }],
      tools: [{ type: 'function', function: { name: 'get_weather' } }, { type: 'function', function: { name: 'get_time' } }],
    }).finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.content).toBe('Checking both.');
    expect(final.choices[0]?.message.tool_calls?.map((c) => c.type === 'function' && c.function)).toEqual([
      { name: 'get_weather', arguments: '{"city":"Paris"}' }, { name: 'get_time', arguments: '{"zone":"CET"}' },
    ]);
  });

  it('maps a blocked prompt to content_filter', async () => {
    api.enqueue({ kind: 'json', body: json('generate-content-blocked.json') });
    const data = await client.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'x' }] });
    expect(data.choices).toEqual([{ index: 0, message: { role: 'assistant', content: null }, logprobs: null, finish_reason: 'content_filter' }]);
  });
});

describe('Vertex AI errors', () => {
  it('RESOURCE_EXHAUSTED is a retryable 429', async () => {
    api.enqueue({ kind: 'error', status: 429, body: json('error-resource-exhausted.json') });
    const err = await client.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).message).toContain('litellm.RateLimitError: VertexAIException - Resource exhausted.');
  });

  it('a service account key the token endpoint cannot verify is a 401, and Vertex is never called', async () => {
    oauth.enqueue(strangerTokens.behaviour);
    const err = await client.chat.completions.create({ model: 'wrong-key', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(strangerTokens.checks).toEqual([{ ok: false, reason: 'Invalid JWT Signature.' }]);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).toContain('litellm.AuthenticationError: VertexAIException - could not get an access token: invalid_grant: Invalid JWT Signature.');
    expect(api.requests).toHaveLength(0);
  });
});

describe('Claude on Vertex AI', () => {
  const CLAUDE_PATH = '/v1/projects/tollgate-test-project/locations/us-east5/publishers/anthropic/models/claude-3-5-sonnet-v2@20241022';

  it('posts the Messages body with Vertex\'s anthropic_version to :rawPredict', async () => {
    api.enqueue({ kind: 'json', body: json('claude-message.json') });
    const data = await client.chat.completions.create({
      model: 'claude-vertex', max_tokens: 200, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Capital of France?' }],
    });
    const [sent] = api.requests;
    expect(sent?.path).toBe(`${CLAUDE_PATH}:rawPredict`);
    expect(sent?.headers.authorization).toBe('Bearer ya29.test-access-token-1');
    expect(sent?.body).toEqual({
      anthropic_version: 'vertex-2023-10-16',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Capital of France?' }] }],
      system: [{ type: 'text', text: 'Be brief.' }],
      max_tokens: 200,
    });
    expect(data.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Paris is the capital of France.' }, finish_reason: 'stop' });
    expect(data.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 9 });
  });

  it('streams from :streamRawPredict', async () => {
    api.enqueue({ kind: 'sse', events: pieces(read('claude-stream.sse.txt'), 11) });
    const stream = await client.chat.completions.create({ model: 'claude-vertex', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Capital?' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(api.requests[0]?.path).toBe(`${CLAUDE_PATH}:streamRawPredict`);
    expect(api.requests[0]?.body).toMatchObject({ anthropic_version: 'vertex-2023-10-16', stream: true });
    expect((api.requests[0]?.body as Record<string, unknown>).model).toBeUndefined();
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Paris is the capital of France.');
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 9 });
  });
});

describe('Vertex AI embeddings', () => {
  it('call :predict with one instance per text, project from the key, location us-central1', async () => {
    api.enqueue({ kind: 'json', body: json('predict-embeddings.json') });
    const data = await client.embeddings.create({ model: 'vertex-embed', input: ['hello', 'hello world'], dimensions: 3 });
    const [sent] = api.requests;
    expect(sent?.path).toBe('/v1/projects/tollgate-test-project/locations/us-central1/publishers/google/models/text-embedding-005:predict');
    expect(sent?.body).toEqual({ instances: [{ content: 'hello' }, { content: 'hello world' }], parameters: { outputDimensionality: 3 } });
    expect(data.data.map((d) => [...d.embedding])).toEqual([[0.0125, -0.25, 0.5].map(Math.fround), [0.75, 0.125, -0.0625]]);
    expect(data.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
  });
});

describe('/vertex_ai: Vertex AI\'s own API, passed through', () => {
  it('sends the client\'s path with the service account\'s token and the group\'s model, streams the events unchanged, and bills their usage', async () => {
    const key = await seedKey(stack.db.url);
    const wire = geminiSse(lines('stream-text.chunks.txt'));
    api.enqueue({ kind: 'sse', events: wire });
    const res = await fetch(`${stack.url}/vertex_ai${GEMINI_PATH.replace('gemini-2.0-flash-001', 'gemini-vertex')}:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Capital?' }] }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(wire.join(''));
    const sent = api.requests[0]!;
    expect(sent.path).toBe(`${GEMINI_PATH}:streamGenerateContent`);
    expect(sent.query).toEqual({ alt: 'sse' });
    expect(sent.headers.authorization).toMatch(/^Bearer ya29\.test-access-token-\d+$/);
    expect(JSON.stringify(sent)).not.toContain(key);
    expect(sent.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Capital?' }] }] });
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', api_key: sha256(key), model_group: 'gemini-vertex', custom_llm_provider: 'vertex_ai', prompt_tokens: 7, completion_tokens: 12 });
  });

  it('refuses a path naming another Google Cloud project (who pays is the operator\'s choice)', async () => {
    const res = await fetch(`${stack.url}/vertex_ai${GEMINI_PATH.replace('tollgate-test-project', 'someone-elses-project').replace('gemini-2.0-flash-001', 'gemini-vertex')}:generateContent`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: '{"contents":[]}',
    });
    expect(res.status).toBe(400);
    expect(api.requests).toHaveLength(0);
  });
});

describe('Google\'s own format on /v1beta/models, for a Vertex AI Gemini group', () => {
  it('calls the deployment\'s own project, location and model with its access token', async () => {
    api.enqueue({ kind: 'json', body: json('generate-content-text.json') });
    const res = await fetch(`${stack.url}/v1beta/models/gemini-vertex:generateContent`, {
      method: 'POST', headers: { 'x-goog-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(json('generate-content-text.json'));
    expect(api.requests[0]?.path).toBe(`${GEMINI_PATH}:generateContent`);
    expect(api.requests[0]?.headers.authorization).toMatch(/^Bearer ya29\.test-access-token-\d+$/);
    expect(api.requests[0]?.headers['x-goog-api-key']).toBeUndefined();
  });

  it('refuses a group of Claude on Vertex AI (Google\'s format is Gemini\'s)', async () => {
    const res = await fetch(`${stack.url}/v1beta/models/claude-vertex:generateContent`, {
      method: 'POST', headers: { 'x-goog-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: '{"contents":[]}',
    });
    expect(res.status).toBe(400);
    expect(api.requests).toHaveLength(0);
  });
});
