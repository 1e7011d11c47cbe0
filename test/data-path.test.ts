import { request as httpRequest } from 'node:http';
import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiRateLimitError } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, seedTeam, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// gpt-4o's prices in the bundled table (LiteLLM's map): $2.50 / 1M input, $10 / 1M output tokens.
const GPT4O_IN = 2.5e-6;
const GPT4O_OUT = 1e-5;

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

const config = (upstream: string) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: azure-gpt
    litellm_params: {model: azure/prod-gpt4o, api_base: "${upstream}", api_key: os.environ/FAKE_AZURE_KEY, api_version: "2024-08-01-preview"}
  - model_name: llama
    litellm_params: {model: hosted_vllm/meta-llama/Llama-3.1-8B-Instruct, api_base: "${upstream}/v1"}
    model_info: {access_groups: [beta-models], input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: embedder
    litellm_params: {model: openai/text-embedding-3-small, api_base: "${upstream}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: instruct
    litellm_params: {model: openai/gpt-3.5-turbo-instruct, api_base: "${upstream}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/FAKE_OPENAI_KEY}
litellm_settings:
  drop_params: false
general_settings:
  max_request_size_mb: 1
`;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: config(fake.url),
    env: { FAKE_OPENAI_KEY: 'sk-upstream-openai-secret-0001', FAKE_AZURE_KEY: 'azure-upstream-secret-0002' },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

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
      // @ts-expect-error vLLM's own sampling field
      top_k: 5,
    }).withResponse();
    // Priced by model_info (self-hosted models are not in the table): 4 prompt, 2 completion tokens.
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeCloseTo(4 * 0.000001 + 2 * 0.000002, 12);
    const [sent] = fake.requests;
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.body).toEqual({ model: 'meta-llama/Llama-3.1-8B-Instruct', messages: [{ role: 'user', content: 'x' }], top_k: 5 });
  });
});

describe('routes without /v1', () => {
  it('serve the same calls', async () => {
    const bare = new OpenAI({ baseURL: stack.url, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const data = await bare.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'no prefix' }] });
    expect(data.choices[0]?.message.content).toBe('echo: no prefix');
    expect((await bare.models.list()).data.length).toBe(6);
    expect((await bare.embeddings.create({ model: 'embedder', input: 'x' })).data).toHaveLength(1);
  });
});

describe('completions and embeddings', () => {
  it('serves legacy text completions', async () => {
    const data = await client.completions.create({ model: 'instruct', prompt: 'Say this' });
    expect(data.object).toBe('text_completion');
    expect(fake.requests[0]?.path).toBe('/v1/completions');
    expect(fake.requests[0]?.body).toEqual({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this' });
  });

  it('serves embeddings, in the base64 encoding the SDK asks for', async () => {
    const data = await client.embeddings.create({ model: 'embedder', input: ['alpha', 'beta'] });
    expect(data.data).toHaveLength(2);
    expect(data.data[0]?.embedding.length).toBe(8);
    expect(fake.requests[0]?.path).toBe('/v1/embeddings');
    expect(fake.requests[0]?.body).toMatchObject({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], encoding_format: 'base64' });
  });
});

describe('virtual keys', () => {
  it('list only the models a key may use; access groups and team lists apply', async () => {
    const only = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    const beta = await seedKey(stack.db.url, { models: ['beta-models'] });
    await seedTeam(stack.db.url, { id: 'team-narrow', models: ['embedder', 'gpt-4o'] });
    const teamKey = await seedKey(stack.db.url, { teamId: 'team-narrow', models: [] });
    const ids = async (key: string) => (await new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key }).models.list()).data.map((m) => m.id).sort();
    expect(await ids(only)).toEqual(['gpt-4o']);
    expect(await ids(beta)).toEqual(['llama']);
    expect(await ids(teamKey)).toEqual(['embedder', 'gpt-4o']);
    expect(await ids(TEST_MASTER_KEY)).toEqual(['azure-gpt', 'embedder', 'gpt-4o', 'instruct', 'llama', 'unreachable']);
    const one = await fetch(`${stack.url}/v1/models/gpt-4o`, { headers: { authorization: `Bearer ${only}` } });
    expect(await one.json()).toMatchObject({ id: 'gpt-4o', object: 'model' });
    const hidden = await fetch(`${stack.url}/v1/models/llama`, { headers: { authorization: `Bearer ${only}` } });
    expect(hidden.status).toBe(404);
  });

  it('are refused with LiteLLM\'s error types, never echoing the key', async () => {
    const keyClient = (key: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const ask = (key: string, model = 'gpt-4o') => keyClient(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] });

    const unknown = 'sk-this-key-does-not-exist-9999';
    const err401 = await ask(unknown).catch((e: unknown) => e);
    expect(err401).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err401 as InstanceType<typeof OpenAI.AuthenticationError>).error).toMatchObject({ type: 'token_not_found_in_db', code: '401' });
    expect(JSON.stringify((err401 as InstanceType<typeof OpenAI.AuthenticationError>).error)).not.toContain(unknown);

    const blocked = await seedKey(stack.db.url, { blocked: true });
    await expect(ask(blocked)).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);

    const expired = await seedKey(stack.db.url, { expires: new Date(Date.now() - 60_000) });
    const errExpired = await ask(expired).catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(errExpired).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(errExpired.error).toMatchObject({ type: 'expired_key' });

    const narrow = await seedKey(stack.db.url, { models: ['llama'] });
    const denied = await ask(narrow, 'gpt-4o').catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(denied.error).toMatchObject({ type: 'key_model_access_denied' });

    await seedTeam(stack.db.url, { id: 'team-llama', models: ['llama'] });
    const inTeam = await seedKey(stack.db.url, { teamId: 'team-llama', models: ['gpt-4o', 'llama'] });
    const teamDenied = await ask(inTeam, 'gpt-4o').catch((e: unknown) => e) as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(teamDenied.error).toMatchObject({ type: 'team_model_access_denied' });

    await seedTeam(stack.db.url, { id: 'team-blocked', blocked: true });
    const blockedTeam = await seedKey(stack.db.url, { teamId: 'team-blocked' });
    await expect(ask(blockedTeam)).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(fake.requests).toHaveLength(0);
  });

  it('also authenticate through x-api-key and api-key headers', async () => {
    const key = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    for (const header of ['x-api-key', 'api-key']) {
      const res = await fetch(`${stack.url}/v1/models`, { headers: { [header]: key } });
      expect(res.status).toBe(200);
    }
  });

  it('record each call in LiteLLM_SpendLogs and add its cost to the key', async () => {
    await seedTeam(stack.db.url, { id: 'team-spend', alias: 'spenders' });
    const key = await seedKey(stack.db.url, { teamId: 'team-spend', userId: 'user-42', alias: 'spend-key' });
    const keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await keyClient.chat.completions.create({
      model: 'gpt-4o', user: 'customer-9', messages: [{ role: 'user', content: 'count my spend' }],
    }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const cost = Number(response.headers.get('x-litellm-response-cost'));
    const row = await eventually(() => spendLogRow(stack.db.url, callId));
    expect(row).toMatchObject({
      request_id: callId, call_type: 'acompletion', api_key: sha256(key), team_id: 'team-spend', user: 'user-42',
      end_user: 'customer-9', model: 'gpt-4o', model_group: 'gpt-4o', custom_llm_provider: 'openai',
      prompt_tokens: 6, completion_tokens: 4, total_tokens: 10, status: 'success', cache_hit: false,
      messages: null, response: null,
    });
    expect(row.spend).toBeCloseTo(cost, 12);
    expect(row.metadata).toMatchObject({ user_api_key_alias: 'spend-key', user_api_key_team_alias: 'spenders' });
    const [keyRow] = await query<{ spend: number }>(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
    expect(keyRow?.spend).toBeCloseTo(cost, 12);
    const [teamRow] = await query<{ team_spend: number }>(stack.db.url, 'SELECT team_spend FROM "LiteLLM_TeamTable" WHERE team_id = $1', ['team-spend']);
    expect(teamRow?.team_spend).toBeCloseTo(cost, 12);
  });
});

describe('upstream failures', () => {
  it('keep the upstream status; a 429 keeps its retry-after', async () => {
    fake.enqueue({ kind: 'error', status: 429, body: openaiRateLimitError('gpt-4o', 7), headers: { 'retry-after': '7' } });
    const err = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rate = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rate.headers.get('retry-after')).toBe('7');
    expect(rate.error).toMatchObject({ type: 'rate_limit_error', code: '429' });
    expect(rate.message).toContain('litellm.RateLimitError: OpenAIException - ');
  });

  it('never leak the provider key an upstream error quotes', async () => {
    fake.enqueue({ kind: 'error', status: 401, body: { error: { message: 'Incorrect API key provided: sk-upstream-openai-secret-0001.', type: 'invalid_request_error', code: 'invalid_api_key' } } });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).not.toContain('sk-upstream-openai-secret-0001');
    expect(text).not.toContain('openai-secret');
  });

  it('map a 500 to InternalServerError and an unreachable upstream to a connection error', async () => {
    fake.enqueue({ kind: 'error', status: 500, body: { error: { message: 'The server had an error', type: 'server_error' } } });
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }))
      .rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const down = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(OpenAI.InternalServerError);
    expect((down as InstanceType<typeof OpenAI.InternalServerError>).error).toMatchObject({ type: 'api_connection_error' });
  });

  it('record failures in the spend log too', async () => {
    fake.enqueue({ kind: 'error', status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(503);
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'failure', spend: 0, error_type: 'internal_server_error', api_key: sha256(TEST_MASTER_KEY) });
  });
});

describe('bad input', () => {
  const post = (body: string, headers: Record<string, string> = {}) => fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json', ...headers }, body,
  });

  it.each([
    ['invalid JSON', '{"model": "gpt-4o", ', 400, null],
    ['a body that is not an object', '[1, 2]', 400, null],
    ['no model', '{"messages": [{"role": "user", "content": "x"}]}', 400, 'model'],
    ['no messages', '{"model": "gpt-4o"}', 400, 'messages'],
    ['messages of the wrong type', '{"model": "gpt-4o", "messages": "hello"}', 400, 'messages'],
    ['a bad role', '{"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]}', 400, 'messages.0.role'],
    ['temperature as a string', '{"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}', 400, 'temperature'],
    ['an unknown model', '{"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}', 400, 'model'],
    ['a parameter OpenAI does not take (drop_params off)', '{"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "top_k": 3}', 400, 'top_k'],
  ])('refuses %s with a 4xx envelope and no upstream call', async (_, body, status, param) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    const json = await res.json() as { error: { type: string; param: string | null; code: string; message: string } };
    expect(json.error).toMatchObject({ code: String(status), param });
    expect(json.error.message.length).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a body over general_settings.max_request_size_mb with 413, without reading all of it', async () => {
    const huge = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(3 * 1024 * 1024) }] });
    // The gateway answers before the upload ends; node:http reports that answer even if the rest of the write then fails.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${stack.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(huge) },
      }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('error', () => undefined);
      req.end(huge);
      setTimeout(() => reject(new Error('no answer')), 30_000);
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: '413' } });
    expect(fake.requests).toHaveLength(0);
  });
});
