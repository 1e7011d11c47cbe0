import OpenAI, { AzureOpenAI } from 'openai';
import { describe, expect, it } from 'vitest';
import type { FakeUpstream } from './fakes/upstream.ts';
import { useDataPathStack } from './support/data-path.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';

// Each endpoint through the official clients: what upstream is sent exactly, and what comes back.

// gpt-4o's prices in the bundled table (LiteLLM's map): $2.50 / 1M input, $10 / 1M output tokens.
const GPT4O_IN = 2.5e-6;
const GPT4O_OUT = 1e-5;

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

useDataPathStack((s) => ({ fake, stack, client } = s));

describe('chat completions through the openai client', () => {
  it('sends OpenAI exactly what it takes, and returns its answer with LiteLLM headers and cost', async () => {
    const { data, response } = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Hello there gateway' }],
      temperature: 0.5,
      user: 'end-user-7',
      // @ts-expect-error LiteLLM extensions the gateway must consume, not forward
      metadata: { session_id: 'sess-1' }, mock_testing_fallbacks: false, tags: ['team-a'],
    }).withResponse();
    expect(data.choices[0]?.message.content).toBe('echo: Hello there gateway');
    const [sent] = fake.requests;
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBe('Bearer sk-upstream-openai-secret-0001');
    expect(sent?.body).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello there gateway' }], temperature: 0.5, user: 'end-user-7' });

    // prompt: 3 words + 3 per message = 6 tokens; completion: 4 words.
    expect(data.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 4 });
    const cost = Number(response.headers.get('x-litellm-response-cost'));
    expect(cost).toBeCloseTo(6 * GPT4O_IN + 4 * GPT4O_OUT, 12);
    expect(response.headers.get('x-litellm-call-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-litellm-model-group')).toBe('gpt-4o');
    expect(response.headers.get('x-litellm-model-id')).toMatch(/^[0-9a-f]{64}$/);
    expect(response.headers.get('x-litellm-model-api-base')).toBe(`${fake.url}/v1/chat/completions`);
    expect(Number(response.headers.get('x-litellm-overhead-duration-ms'))).toBeGreaterThanOrEqual(0);
    expect(Number(response.headers.get('x-litellm-response-duration-ms'))).toBeGreaterThanOrEqual(0);
    let headerBytes = 0;
    response.headers.forEach((v, k) => (headerBytes += k.length + v.length + 4));
    expect(headerBytes).toBeLessThan(4096);
  });

  it('streams, asking upstream for usage and hiding it from a client that did not ask', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'one two three' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('echo: one two three');
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(fake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('streams the usage chunk to a client that asked for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'one two three' }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 });
  });

  it('calls Azure at its deployment URL with api-version and an api-key header', async () => {
    const data = await client.chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'hi azure' }] });
    expect(data.choices[0]?.message.content).toBe('echo: hi azure');
    const [sent] = fake.requests;
    expect(sent?.path).toBe('/openai/deployments/prod-gpt4o/chat/completions');
    expect(sent?.query).toEqual({ 'api-version': '2024-08-01-preview' });
    expect(sent?.headers['api-key']).toBe('azure-upstream-secret-0002');
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toEqual({ model: 'prod-gpt4o', messages: [{ role: 'user', content: 'hi azure' }] });
  });

  it('streams from Azure, whose stream opens with a chunk without choices', async () => {
    const stream = await client.chat.completions.create({ model: 'azure-gpt', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'azure stream' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('echo: azure stream');
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 3 });
  });

  it('serves Azure-style paths to the AzureOpenAI client, with the virtual key in api-key', async () => {
    const azureClient = new AzureOpenAI({ endpoint: stack.url, apiKey: TEST_MASTER_KEY, apiVersion: '2024-08-01-preview', deployment: 'gpt-4o', maxRetries: 0 });
    const data = await azureClient.chat.completions.create({ model: 'ignored-by-azure', messages: [{ role: 'user', content: 'via azure sdk' }] });
    expect(data.choices[0]?.message.content).toBe('echo: via azure sdk');
    expect(fake.requests[0]?.body).toMatchObject({ model: 'gpt-4o' });
  });

  it('calls a self-hosted vLLM without credentials and passes vLLM sampling fields through', async () => {
    const { response } = await client.chat.completions.create({
      model: 'llama', messages: [{ role: 'user', content: 'x' }],
      // @ts-expect-error vLLM's own sampling and scheduling fields
      top_k: 5, priority: 2,
    }).withResponse();
    // Priced by model_info (self-hosted models are not in the table): 4 prompt, 2 completion tokens.
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeCloseTo(4 * 0.000001 + 2 * 0.000002, 12);
    const [sent] = fake.requests;
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toEqual({ model: 'meta-llama/Llama-3.1-8B-Instruct', messages: [{ role: 'user', content: 'x' }], top_k: 5, priority: 2 });
  });
});

describe('routes without /v1', () => {
  it('serve the same calls', async () => {
    const bare = new OpenAI({ baseURL: stack.url, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const data = await bare.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'no prefix' }] });
    expect(data.choices[0]?.message.content).toBe('echo: no prefix');
    expect((await bare.models.list()).data.length).toBe(7);
    expect((await bare.embeddings.create({ model: 'embedder', input: 'x' })).data).toHaveLength(1);
    const text = await bare.completions.create({ model: 'instruct', prompt: 'bare completion' });
    expect(text.object).toBe('text_completion');
    expect(fake.requests.at(-1)?.path).toBe('/v1/completions');
  });

  it('serve LiteLLM\'s priority-queue chat route, taking its priority rather than forwarding it', async () => {
    const queued = new OpenAI({ baseURL: `${stack.url}/queue`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    // @ts-expect-error LiteLLM's scheduler field
    const data = await queued.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'queued call' }], priority: 0 });
    expect(data.choices[0]?.message.content).toBe('echo: queued call');
    expect(fake.requests.at(-1)?.body).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'queued call' }] });
  });
});

describe('POST /utils/token_counter', () => {
  const count = (body: unknown, key = TEST_MASTER_KEY) => fetch(`${stack.url}/utils/token_counter`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });

  it('estimates a call\'s prompt tokens for a model the key may call, saying the count is an estimate', async () => {
    const text = 'How many tokens is this sentence, roughly?';
    const res = await count({ model: 'gpt-4o', messages: [{ role: 'user', content: text }] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ total_tokens: Math.ceil(text.length / 4), request_model: 'gpt-4o', model_used: 'gpt-4o', tokenizer_type: 'tollgate_estimate' });
    expect(fake.requests).toHaveLength(0);
    const bad = await count({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] });
    expect(bad.status).toBe(400);
    expect((await count({ model: 'gpt-4o' })).status).toBe(400);
    const narrow = await seedKey(stack.db.url, { models: ['embedder'] });
    expect((await count({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, narrow)).status).toBe(401);
    // A key's alias counts as the group it stands for, as a call through it would go.
    const aliased = await seedKey(stack.db.url, { models: ['my-4o'] });
    await query(stack.db.url, `UPDATE "LiteLLM_VerificationToken" SET aliases = '{"my-4o": "gpt-4o"}'::jsonb WHERE token = $1`, [sha256(aliased)]);
    const viaAlias = await count({ model: 'my-4o', messages: [{ role: 'user', content: 'abcd' }] }, aliased);
    expect(viaAlias.status).toBe(200);
    expect(await viaAlias.json()).toMatchObject({ total_tokens: 1, request_model: 'my-4o', model_used: 'gpt-4o' });
  });
});

describe('model names and mock answers', () => {
  it('serves a deployment whose model names no provider, as OpenAI (LiteLLM infers it)', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'bare-name', messages: [{ role: 'user', content: 'no provider' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('echo: no provider');
    expect(fake.requests[0]?.path).toBe('/v1/chat/completions');
    expect(fake.requests[0]?.body).toMatchObject({ model: 'gpt-4o-mini' });
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer sk-upstream-openai-secret-0001');
    // Priced from the table as gpt-4o-mini.
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeGreaterThan(0);
  });

  it('answers mock_response on a real model without calling its provider', async () => {
    const { data, response } = await client.chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'do not call upstream' }],
      // @ts-expect-error LiteLLM's mock_response
      mock_response: 'a canned answer',
    }).withResponse();
    expect(data.choices[0]?.message.content).toBe('a canned answer');
    expect(response.headers.get('x-litellm-model-group')).toBe('gpt-4o');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('completions and embeddings', () => {
  it('serves legacy text completions', async () => {
    const data = await client.completions.create({ model: 'instruct', prompt: 'Say this' });
    expect(data.object).toBe('text_completion');
    expect(fake.requests[0]?.path).toBe('/v1/completions');
    expect(fake.requests[0]?.body).toEqual({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this' });
  });

  it('serves embeddings on the Azure-style path to the AzureOpenAI client', async () => {
    const azureClient = new AzureOpenAI({ endpoint: stack.url, apiKey: TEST_MASTER_KEY, apiVersion: '2024-08-01-preview', deployment: 'embedder', maxRetries: 0 });
    const data = await azureClient.embeddings.create({ model: 'ignored-by-azure', input: 'azure embeds' });
    expect(data.data).toHaveLength(1);
    expect(fake.requests[0]?.path).toBe('/v1/embeddings');
    expect(fake.requests[0]?.body).toMatchObject({ model: 'text-embedding-3-small', input: 'azure embeds' });
  });

  it('serves embeddings, in the base64 encoding the SDK asks for', async () => {
    const data = await client.embeddings.create({ model: 'embedder', input: ['alpha', 'beta'] });
    expect(data.data).toHaveLength(2);
    expect(data.data[0]?.embedding.length).toBe(8);
    expect(fake.requests[0]?.path).toBe('/v1/embeddings');
    expect(fake.requests[0]?.body).toMatchObject({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], encoding_format: 'base64' });
  });
});

describe('GET /health', () => {
  it('probes every deployment the key may call with one tiny real call, healthy or not, never showing a credential', async () => {
    const res = await fetch(`${stack.url}/health`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const secret of ['sk-upstream-openai-secret-0001', 'azure-upstream-secret-0002']) expect(text).not.toContain(secret);
    const body = JSON.parse(text) as { healthy_endpoints: { model_group: string }[]; unhealthy_endpoints: { model_group: string; error: string }[]; healthy_count: number; unhealthy_count: number };
    expect(body.healthy_endpoints.map((e) => e.model_group).sort()).toEqual(['azure-gpt', 'bare-name', 'embedder', 'gpt-4o', 'instruct', 'llama']);
    expect(body.unhealthy_endpoints).toEqual([expect.objectContaining({ model_group: 'unreachable', model: 'openai/gpt-4o', error: expect.any(String) })]);
    expect([body.healthy_count, body.unhealthy_count]).toEqual([6, 1]);
    // Each probe is the smallest call of its kind: an embedding for the embedding model, one token otherwise.
    expect(fake.requests.find((r) => r.path === '/v1/embeddings')?.body).toMatchObject({ input: ['ping'] });
    expect(fake.requests.find((r) => r.path === '/v1/chat/completions')?.body).toMatchObject({ max_tokens: 1 });

    const one = await (await fetch(`${stack.url}/health?model=gpt-4o`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } })).json() as typeof body;
    expect(one.healthy_endpoints.map((e) => e.model_group)).toEqual(['gpt-4o']);
    const key = await seedKey(stack.db.url, { models: ['llama'] });
    const mine = await (await fetch(`${stack.url}/health`, { headers: { authorization: `Bearer ${key}` } })).json() as typeof body;
    expect(mine.healthy_endpoints.map((e) => e.model_group)).toEqual(['llama']);
    expect((await fetch(`${stack.url}/health`)).status).toBe(401);
  });
});
