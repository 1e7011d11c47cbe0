// Pass-through routes end to end: the official Anthropic and OpenAI SDKs against /anthropic and
// /openai_passthrough, and config.yaml's pass_through_endpoints, through workerd to fakes on loopback.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorFixture, fixtureJson, jsonFixture, streamFixture } from './fakes/anthropic.ts';
import { startFakeAnthropic } from './fakes/anthropic.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { adminClient } from './support/admin.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let anthropicFake: FakeUpstream;
let openaiFake: FakeUpstream;
let target: FakeUpstream;
let stack: TestStack;
const admin = adminClient(() => stack);

beforeAll(async () => {
  anthropicFake = await startFakeAnthropic();
  openaiFake = await startFakeUpstream();
  target = await startFakeUpstream({ default: { kind: 'json', body: { result: [{ urls: ['https://img.test/1.png'] }] } } });
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${anthropicFake.url}", api_key: sk-ant-upstream-0001}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${openaiFake.url}/v1", api_key: sk-openai-upstream-0002, use_in_pass_through: true}
  - model_name: mistral-small
    litellm_params: {model: mistral/mistral-small-latest, api_base: "${target.url}/v1", api_key: ms-upstream-0005, use_in_pass_through: true}
  - model_name: gemini-flash
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: "${target.url}", api_key: gm-upstream-0004}
general_settings:
  pass_through_endpoints:
    - path: /bria
      target: "${target.url}/v1/text-to-image?model_version=3"
      headers: {Authorization: "Bearer os.environ/BRIA_API_KEY"}
      cost_per_request: 0.04
    - path: /public-tools
      target: "${target.url}/tools"
      include_subpath: true
      auth: false
      methods: [GET]
`,
    env: { BRIA_API_KEY: 'bria-secret-0003' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([anthropicFake?.close(), openaiFake?.close(), target?.close()]);
});
beforeEach(() => {
  anthropicFake.reset();
  openaiFake.reset();
  target.reset();
});

const anthropicAt = (key: string) => new Anthropic({ baseURL: `${stack.url}/anthropic`, apiKey: key, maxRetries: 0 });
const callId = (headers: Headers) => headers.get('x-litellm-call-id') ?? '';

describe('/anthropic: Anthropic\'s own API, passed through', () => {
  it('sends the request as it came with the deployment\'s credential, answers as Anthropic did, and bills the key', async () => {
    const key = await seedKey(stack.db.url);
    anthropicFake.enqueue(jsonFixture('text'));
    const { data: message, response } = await anthropicAt(key).messages.create({
      model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Who are you?' }], metadata: { user_id: 'user-1' },
    }).withResponse();
    expect(message).toEqual(fixtureJson('text'));
    const sent = anthropicFake.requests[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe('sk-ant-upstream-0001');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.headers['anthropic-version']).toBeTruthy();
    expect(JSON.stringify(sent)).not.toContain(key);
    expect(sent.body).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Who are you?' }], metadata: { user_id: 'user-1' } });
    // The provider's headers come back beside the gateway's.
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    const cost = Number(response.headers.get('x-litellm-response-cost'));
    expect(cost).toBeGreaterThan(0);
    const row = await eventually(() => spendLogRow(stack.db.url, callId(response.headers)));
    expect(row).toMatchObject({
      call_type: 'pass_through_endpoint', api_key: sha256(key), status: 'success', prompt_tokens: 2095, completion_tokens: 503,
      model: 'claude-sonnet-4-5', model_group: 'claude', custom_llm_provider: 'anthropic',
    });
    expect(Number(row.spend)).toBeCloseTo(cost, 10);
  });

  it('takes a model group\'s name, sending its deployment\'s model', async () => {
    anthropicFake.enqueue(jsonFixture('text'));
    await anthropicAt(TEST_MASTER_KEY).messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect(anthropicFake.requests[0]?.body).toMatchObject({ model: 'claude-sonnet-4-5' });
    // A client that names no API version gets Anthropic's pinned one.
    anthropicFake.enqueue(jsonFixture('text'));
    const raw = await fetch(`${stack.url}/anthropic/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude', max_tokens: 5, messages: [] }),
    });
    expect(raw.status).toBe(200);
    expect(anthropicFake.requests[1]?.headers['anthropic-version']).toBe('2023-06-01');
  });

  it('streams events as they come, billing the usage they report', async () => {
    const key = await seedKey(stack.db.url);
    anthropicFake.enqueue(streamFixture('text'));
    const stream = anthropicAt(key).messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const message = await stream.finalMessage();
    expect(text).toBe('Hello, wörld 👋!');
    expect(message.usage).toMatchObject({ input_tokens: 25, output_tokens: 15 });
    const { response } = await stream.withResponse();
    const row = await eventually(() => spendLogRow(stack.db.url, callId(response.headers)));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', prompt_tokens: 25, completion_tokens: 15, status: 'success' });
    expect(Number(row.spend)).toBeGreaterThan(0);
  });

  it('passes the provider\'s errors back as they are (status, body, retry-after), logged as failures', async () => {
    anthropicFake.enqueue(errorFixture('error-rate-limit', 429, { 'retry-after': '30' }));
    const err = await anthropicAt(TEST_MASTER_KEY).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const apiError = err as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.error).toEqual(fixtureJson('error-rate-limit'));
    expect(apiError.headers?.get('retry-after')).toBe('30');
    const row = await eventually(() => spendLogRow(stack.db.url, apiError.headers?.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'failure', spend: 0 });
  });

  it('refuses a key held to other models before anything reaches the provider, and a request without a key', async () => {
    const key = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    const refused = await anthropicAt(key).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e) as InstanceType<typeof Anthropic.APIError>;
    expect(refused.status).toBe(401);
    expect(refused.error).toMatchObject({ error: { type: 'key_model_access_denied' } });
    // A request that names no model (a list) is for keys held to no models.
    const list = await fetch(`${stack.url}/anthropic/v1/models`, { headers: { 'x-api-key': key } });
    expect(list.status).toBe(401);
    const anonymous = await fetch(`${stack.url}/anthropic/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
    expect(anthropicFake.requests).toHaveLength(0);
    // The same key calls its own model's group through its provider's route.
    const allowed = await seedKey(stack.db.url, { models: ['claude'] });
    anthropicFake.enqueue(jsonFixture('text'));
    await anthropicAt(allowed).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect(anthropicFake.requests).toHaveLength(1);
  });

  it('refuses a path that could leave the provider\'s API (400), sending nothing', async () => {
    for (const path of ['/anthropic/v1/x%2F..%2F..%2Fadmin', '/anthropic/v1/a%5Cb', '/anthropic/v1//messages']) {
      const res = await fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'x-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: '{}' });
      expect(res.status, path).toBe(400);
      expect((await res.json() as { error: { message: string } }).error.message).toMatch(/pass-through path/);
    }
    expect(anthropicFake.requests).toHaveLength(0);
  });
});

describe('/openai_passthrough: OpenAI\'s own API', () => {
  it('answers the OpenAI SDK with the deployment\'s key, under /v1, billing its usage', async () => {
    const key = await seedKey(stack.db.url);
    const client = new OpenAI({ baseURL: `${stack.url}/openai_passthrough`, apiKey: key, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }] }).withResponse();
    expect(data.choices[0]?.message.content).toContain('hello there');
    const sent = openaiFake.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-openai-upstream-0002');
    expect(JSON.stringify(sent.headers)).not.toContain(key);
    const row = await eventually(() => spendLogRow(stack.db.url, callId(response.headers)));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', model_group: 'gpt-4o', prompt_tokens: data.usage?.prompt_tokens, completion_tokens: data.usage?.completion_tokens });
  });
});

describe('/openai_passthrough and /mistral: what is billed, and which key may call what', () => {
  it('estimates a stream that reports no usage (no include_usage), and does not bill a stored response read back', async () => {
    const key = await seedKey(stack.db.url);
    const client = new OpenAI({ baseURL: `${stack.url}/openai_passthrough`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'one two three four' }] }).withResponse();
    await response.text();
    const streamed = await eventually(() => spendLogRow(stack.db.url, callId(response.headers)));
    expect(streamed).toMatchObject({ status: 'success' });
    expect(Number(streamed.completion_tokens)).toBeGreaterThan(0);
    expect(Number(streamed.spend)).toBeGreaterThan(0);
    expect(streamed.metadata).toMatchObject({ usage_estimated: true });
    openaiFake.enqueue({ kind: 'json', body: { id: 'resp_1', object: 'response', model: 'gpt-4o', usage: { input_tokens: 1000, output_tokens: 1000 } } });
    const read = await fetch(`${stack.url}/openai_passthrough/v1/responses/resp_1`, { headers: { authorization: `Bearer ${key}` } });
    expect(read.status).toBe(200);
    const row = await eventually(() => spendLogRow(stack.db.url, callId(read.headers)));
    expect(row).toMatchObject({ spend: 0, prompt_tokens: 0, completion_tokens: 0 });
  });

  it('decides what a call is on the path the provider reads (a trailing slash changes nothing), and keeps credential minting to the master key', async () => {
    const key = await seedKey(stack.db.url);
    const res = await fetch(`${stack.url}/openai_passthrough/v1/chat/completions/`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    const row = await eventually(() => spendLogRow(stack.db.url, callId(res.headers)));
    expect(Number(row.spend)).toBeGreaterThan(0);
    openaiFake.reset();
    const minted = await fetch(`${stack.url}/openai_passthrough/v1/realtime/client_secrets`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ session: { type: 'realtime', model: 'gpt-realtime' } }),
    });
    expect(minted.status).toBe(403);
    expect(openaiFake.requests).toHaveLength(0);
  });

  it('lends a use_in_pass_through deployment\'s credential for other models, but not its key\'s permission', async () => {
    const key = await seedKey(stack.db.url, { models: ['mistral-small'] });
    const call = (k: string, model: string) => fetch(`${stack.url}/mistral/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
    });
    const refused = await call(key, 'mistral-large-latest');
    expect(refused.status).toBe(401);
    expect(target.requests).toHaveLength(0);
    target.enqueue({ kind: 'json', body: { model: 'mistral-small-latest', choices: [], usage: { prompt_tokens: 4, completion_tokens: 2 } } });
    expect((await call(key, 'mistral-small-latest')).status).toBe(200);
    // A key held to no models calls any model with the lent credential.
    target.enqueue({ kind: 'json', body: { model: 'mistral-large-latest', choices: [], usage: { prompt_tokens: 4, completion_tokens: 2 } } });
    const open = await call(await seedKey(stack.db.url), 'mistral-large-latest');
    expect(open.status).toBe(200);
    expect(target.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
      ['/v1/chat/completions', 'Bearer ms-upstream-0005'], ['/v1/chat/completions', 'Bearer ms-upstream-0005'],
    ]);
    const row = await eventually(() => spendLogRow(stack.db.url, callId(open.headers)));
    expect(row).toMatchObject({ model: 'mistral-large-latest', model_group: 'mistral-large-latest', prompt_tokens: 4, completion_tokens: 2 });
    // A model name the client chose is not a metric label (clients could mint series without end).
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${stack.url}/metrics`)).text();
      return /api_provider="mistral"[^\n]*model="other"|model="other"[^\n]*api_provider="mistral"/.test(text) ? text : undefined;
    });
    expect(metrics).not.toContain('mistral-large-latest');
  });
});

describe('/gemini: Google AI Studio\'s own API', () => {
  it('takes the key from ?key= (never sent on), sends the deployment\'s in x-goog-api-key, and bills usageMetadata', async () => {
    const key = await seedKey(stack.db.url);
    target.enqueue({ kind: 'json', body: { candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3 }, modelVersion: 'gemini-2.0-flash' } });
    const res = await fetch(`${stack.url}/gemini/v1beta/models/gemini-flash:generateContent?key=${key}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hello' }] }] }),
    });
    expect(res.status).toBe(200);
    const sent = target.requests[0]!;
    expect(sent.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(sent.query).toEqual({});
    expect(sent.headers['x-goog-api-key']).toBe('gm-upstream-0004');
    expect(JSON.stringify(sent)).not.toContain(key);
    const row = await eventually(() => spendLogRow(stack.db.url, callId(res.headers)));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', api_key: sha256(key), model_group: 'gemini-flash', prompt_tokens: 5, completion_tokens: 3, custom_llm_provider: 'gemini' });
    expect(Number(row.spend)).toBeGreaterThan(0);
  });
});

describe('general_settings.pass_through_endpoints', () => {
  it('calls the target with the operator\'s headers (os.environ/ inside a value), never the client\'s key, at cost_per_request', async () => {
    const key = await seedKey(stack.db.url);
    const res = await fetch(`${stack.url}/bria?seed=7`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"prompt":"a cat"}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: [{ urls: ['https://img.test/1.png'] }] });
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.04');
    const sent = target.requests[0]!;
    expect(sent.path).toBe('/v1/text-to-image');
    expect(sent.query).toEqual({ model_version: '3', seed: '7' });
    expect(sent.headers.authorization).toBe('Bearer bria-secret-0003');
    expect(sent.rawBody).toBe('{"prompt":"a cat"}');
    expect(JSON.stringify(sent.headers)).not.toContain(key);
    const row = await eventually(() => spendLogRow(stack.db.url, callId(res.headers)));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', model_group: '/bria', api_key: sha256(key), spend: 0.04 });
  });

  it('needs a key unless auth is false, and holds the key to its budget', async () => {
    const anonymous = await fetch(`${stack.url}/bria`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
    expect(target.requests).toHaveLength(0);
    const { key } = await admin.generate({ max_budget: 0.05 }) as { key: string };
    const post = () => fetch(`${stack.url}/bria`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
    expect((await post()).status).toBe(200);
    // Spent 0.04 of 0.05: one more call goes (LiteLLM's rule: refused once spend reaches the budget), then it is refused.
    const refusal = await eventually(async () => {
      const res = await post();
      return res.status === 429 ? await res.json() as { error: { type: string } } : undefined;
    });
    expect(refusal.error.type).toBe('budget_exceeded');
    expect(target.requests.length).toBeLessThanOrEqual(3);
  });

  it('serves a public endpoint\'s subpaths without a key, for its methods only', async () => {
    const res = await fetch(`${stack.url}/public-tools/search/web?q=cats`);
    expect(res.status).toBe(200);
    expect(target.requests[0]).toMatchObject({ method: 'GET', path: '/tools/search/web', query: { q: 'cats' } });
    expect((await fetch(`${stack.url}/public-tools/search`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${stack.url}/public-toolsX`)).status).toBe(404);
  });
});
