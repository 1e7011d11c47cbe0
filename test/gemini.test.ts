import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { geminiSse } from './fakes/google.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';

// AI Studio's Gemini API answers in the same wire format as Vertex: the fixtures are shared.
const read = (name: string) => readFileSync(new URL(`./fixtures/vertex/${name}`, import.meta.url), 'utf8');
const json = (name: string) => JSON.parse(read(name)) as unknown;
const lines = (name: string) => read(name).trim().split('\n');
const pieces = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

const GEMINI_KEY = 'AIzaSyTEST-gemini-key-0123456789abcdef';

let api: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  api = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gemini-flash
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: "${api.url}", api_key: os.environ/TEST_GEMINI_KEY}
  - model_name: gemini-embed
    litellm_params: {model: gemini/text-embedding-004, api_base: "${api.url}", api_key: os.environ/TEST_GEMINI_KEY}
# One attempt: these suites are about how a failed call looks (the router suites test retries).
router_settings:
  num_retries: 0
litellm_settings:
  drop_params: false
`,
    env: { TEST_GEMINI_KEY: GEMINI_KEY },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await api?.close();
});
beforeEach(() => api.reset());

describe('Gemini API through the openai client', () => {
  it('calls generateContent with the key in x-goog-api-key, never in the URL', async () => {
    api.enqueue({ kind: 'json', body: json('generate-content-text.json') });
    const data = await client.chat.completions.create({
      model: 'gemini-flash', messages: [{ role: 'user', content: 'Capital of France?' }], temperature: 0.1, top_p: 0.5, stop: ['\n\n'],
      response_format: { type: 'json_object' },
    });
    const [sent] = api.requests;
    expect(sent?.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(sent?.query).toEqual({});
    expect(sent?.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Capital of France?' }] }],
      generationConfig: { temperature: 0.1, topP: 0.5, stopSequences: ['\n\n'], responseMimeType: 'application/json' },
    });
    expect(data.choices[0]?.message.content).toBe('Paris is the capital of France.');
    expect(data.usage).toMatchObject({ prompt_tokens: 1210, completion_tokens: 8, prompt_tokens_details: { cached_tokens: 1024 } });
  });

  it('streams, hiding usage from a client that did not ask', async () => {
    api.enqueue({ kind: 'sse', events: pieces(geminiSse(lines('stream-text.chunks.txt')).join(''), 5) });
    const stream = await client.chat.completions.create({ model: 'gemini-flash', stream: true, messages: [{ role: 'user', content: 'Capital?' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(api.requests[0]?.path).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent');
    expect(api.requests[0]?.query).toEqual({ alt: 'sse' });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Paris is the capital of France — ünïcode ✓.');
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it('returns tool calls', async () => {
    api.enqueue({ kind: 'json', body: json('generate-content-function-call.json') });
    const data = await client.chat.completions.create({
      model: 'gemini-flash', messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    });
    expect((api.requests[0]?.body as { tools: unknown }).tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] }]);
    expect(data.choices[0]?.finish_reason).toBe('tool_calls');
    expect(data.choices[0]?.message.tool_calls).toHaveLength(2);
  });

  it('refuses a field Gemini does not take, unless drop_params', async () => {
    const err = await client.chat.completions.create({ model: 'gemini-flash', messages: [{ role: 'user', content: 'x' }], logit_bias: { 50256: -100 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toContain('gemini does not support parameters: ["logit_bias"]');
    expect(api.requests).toHaveLength(0);
  });
});

describe('Gemini API errors', () => {
  it('a bad key is a 401 with the key scrubbed', async () => {
    api.enqueue({ kind: 'error', status: 400, body: { error: { code: 400, message: `API key not valid. Please pass a valid API key. (${GEMINI_KEY})`, status: 'INVALID_ARGUMENT' } } });
    const err = await client.chat.completions.create({ model: 'gemini-flash', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).toContain('litellm.AuthenticationError: GeminiException - API key not valid. Please pass a valid API key. ([redacted])');
  });

  it('PERMISSION_DENIED is a 403, UNAVAILABLE a 503', async () => {
    api.enqueue(
      { kind: 'error', status: 403, body: { error: { code: 403, message: 'Permission denied on resource project.', status: 'PERMISSION_DENIED' } } },
      { kind: 'error', status: 503, body: { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } } },
    );
    const ask = () => client.chat.completions.create({ model: 'gemini-flash', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(await ask()).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const unavailable = await ask();
    expect(unavailable).toBeInstanceOf(OpenAI.InternalServerError);
    expect((unavailable as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((unavailable as Error).message).toContain('litellm.ServiceUnavailableError: GeminiException - The model is overloaded.');
  });
});

describe('Gemini API embeddings', () => {
  it('call batchEmbedContents once for the batch', async () => {
    api.enqueue({ kind: 'json', body: json('batch-embed-contents.json') });
    const data = await client.embeddings.create({ model: 'gemini-embed', input: ['alpha', 'beta'], dimensions: 3 });
    const [sent] = api.requests;
    expect(sent?.path).toBe('/v1beta/models/text-embedding-004:batchEmbedContents');
    expect(sent?.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(sent?.body).toEqual({
      requests: [
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'alpha' }] }, outputDimensionality: 3 },
        { model: 'models/text-embedding-004', content: { parts: [{ text: 'beta' }] }, outputDimensionality: 3 },
      ],
    });
    expect(data.data.map((d) => [...d.embedding])).toEqual([[0.25, -0.125, 0.5], [-0.75, 0.0625, 0.375]]);
  });
});

describe('Google\'s own format on /v1beta/models (the Gemini CLI, Google\'s SDKs)', () => {
  it('serves a model group\'s generateContent and streamGenerateContent in Google\'s format, with the deployment\'s key, billing usageMetadata', async () => {
    const key = await seedKey(stack.db.url);
    api.enqueue({ kind: 'json', body: json('generate-content-text.json') });
    const body = { contents: [{ role: 'user', parts: [{ text: 'Capital of France?' }] }], generationConfig: { temperature: 0.1 } };
    const res = await fetch(`${stack.url}/v1beta/models/gemini-flash:generateContent`, {
      method: 'POST', headers: { 'x-goog-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(json('generate-content-text.json'));
    const [sent] = api.requests;
    expect(sent?.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(sent?.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(JSON.stringify(sent)).not.toContain(key);
    expect(sent?.body).toEqual(body);
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', api_key: sha256(key), model_group: 'gemini-flash', prompt_tokens: 1210, completion_tokens: 8 });
    expect(Number(row.spend)).toBeGreaterThan(0);

    const wire = geminiSse(lines('stream-text.chunks.txt'));
    api.enqueue({ kind: 'sse', events: wire });
    const stream = await fetch(`${stack.url}/v1beta/models/gemini-flash:streamGenerateContent?alt=sse&key=${key}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    expect(await stream.text()).toBe(wire.join(''));
    expect(api.requests[1]).toMatchObject({ path: '/v1beta/models/gemini-2.0-flash:streamGenerateContent', query: { alt: 'sse' } });
    const streamed = await eventually(() => spendLogRow(stack.db.url, stream.headers.get('x-litellm-call-id') ?? ''));
    expect(streamed).toMatchObject({ prompt_tokens: 7, completion_tokens: 12 });
  });

  it('refuses a key held to other models, and a group it does not know, before Google is called', async () => {
    const key = await seedKey(stack.db.url, { models: ['gemini-embed'] });
    const held = await fetch(`${stack.url}/v1beta/models/gemini-flash:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': key, 'content-type': 'application/json' }, body: '{"contents":[]}' });
    expect(held.status).toBe(401);
    const unknown = await fetch(`${stack.url}/v1beta/models/no-such-group:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: '{"contents":[]}' });
    expect(unknown.status).toBe(400);
    expect(api.requests).toHaveLength(0);
  });
});
