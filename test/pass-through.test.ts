// Providers' own APIs end to end: the official Anthropic and OpenAI SDKs against /anthropic and
// /openai_passthrough, through workerd to fakes on loopback (what is billed: pass-through-billing.test.ts).
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { errorFixture, fixtureJson, jsonFixture, streamFixture } from './fakes/anthropic.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { callId, usePassThroughStack } from './support/pass-through-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

const p = usePassThroughStack();

describe('/anthropic: Anthropic\'s own API, passed through', () => {
  it('sends the request as it came with the deployment\'s credential, answers as Anthropic did, and bills the key', async () => {
    const key = await seedKey(p.stack.db.url);
    p.anthropicFake.enqueue(jsonFixture('text'));
    const { data: message, response } = await p.anthropicAt(key).messages.create({
      model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Who are you?' }], metadata: { user_id: 'user-1' },
    }).withResponse();
    expect(message).toEqual(fixtureJson('text'));
    const sent = p.anthropicFake.requests[0]!;
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
    const row = await eventually(() => spendLogRow(p.stack.db.url, callId(response.headers)));
    expect(row).toMatchObject({
      call_type: 'pass_through_endpoint', api_key: sha256(key), status: 'success', prompt_tokens: 2095, completion_tokens: 503,
      model: 'claude-sonnet-4-5', model_group: 'claude', custom_llm_provider: 'anthropic',
    });
    expect(Number(row.spend)).toBeCloseTo(cost, 10);
  });

  it('takes a model group\'s name, sending its deployment\'s model', async () => {
    p.anthropicFake.enqueue(jsonFixture('text'));
    await p.anthropicAt(TEST_MASTER_KEY).messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect(p.anthropicFake.requests[0]?.body).toMatchObject({ model: 'claude-sonnet-4-5' });
    // A client that names no API version gets Anthropic's pinned one.
    p.anthropicFake.enqueue(jsonFixture('text'));
    const raw = await fetch(`${p.stack.url}/anthropic/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude', max_tokens: 5, messages: [] }),
    });
    expect(raw.status).toBe(200);
    expect(p.anthropicFake.requests[1]?.headers['anthropic-version']).toBe('2023-06-01');
  });

  it('streams events as they come, billing the usage they report', async () => {
    const key = await seedKey(p.stack.db.url);
    p.anthropicFake.enqueue(streamFixture('text'));
    const stream = p.anthropicAt(key).messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const message = await stream.finalMessage();
    expect(text).toBe('Hello, wörld 👋!');
    expect(message.usage).toMatchObject({ input_tokens: 25, output_tokens: 15 });
    const { response } = await stream.withResponse();
    const row = await eventually(() => spendLogRow(p.stack.db.url, callId(response.headers)));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', prompt_tokens: 25, completion_tokens: 15, status: 'success' });
    expect(Number(row.spend)).toBeGreaterThan(0);
  });

  it('passes the provider\'s errors back as they are (status, body, retry-after), logged as failures', async () => {
    p.anthropicFake.enqueue(errorFixture('error-rate-limit', 429, { 'retry-after': '30' }));
    const err = await p.anthropicAt(TEST_MASTER_KEY).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const apiError = err as InstanceType<typeof Anthropic.APIError>;
    expect(apiError.error).toEqual(fixtureJson('error-rate-limit'));
    expect(apiError.headers?.get('retry-after')).toBe('30');
    const row = await eventually(() => spendLogRow(p.stack.db.url, apiError.headers?.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'failure', spend: 0 });
  });

  it('refuses a key held to other models before anything reaches the provider, and a request without a key', async () => {
    const key = await seedKey(p.stack.db.url, { models: ['gpt-4o'] });
    const refused = await p.anthropicAt(key).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e) as InstanceType<typeof Anthropic.APIError>;
    expect(refused.status).toBe(401);
    expect(refused.error).toMatchObject({ error: { type: 'key_model_access_denied' } });
    // A request that names no model (a list) is for keys held to no models.
    const list = await fetch(`${p.stack.url}/anthropic/v1/models`, { headers: { 'x-api-key': key } });
    expect(list.status).toBe(401);
    const anonymous = await fetch(`${p.stack.url}/anthropic/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
    expect(p.anthropicFake.requests).toHaveLength(0);
    // The same key calls its own model's group through its provider's route.
    const allowed = await seedKey(p.stack.db.url, { models: ['claude'] });
    p.anthropicFake.enqueue(jsonFixture('text'));
    await p.anthropicAt(allowed).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect(p.anthropicFake.requests).toHaveLength(1);
  });

  it('refuses a path that could leave the provider\'s API (400), sending nothing', async () => {
    for (const path of ['/anthropic/v1/x%2F..%2F..%2Fadmin', '/anthropic/v1/a%5Cb', '/anthropic/v1//messages']) {
      const res = await fetch(`${p.stack.url}${path}`, { method: 'POST', headers: { 'x-api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: '{}' });
      expect(res.status, path).toBe(400);
      expect((await res.json() as { error: { message: string } }).error.message).toMatch(/pass-through path/);
    }
    expect(p.anthropicFake.requests).toHaveLength(0);
  });
});

describe('/openai_passthrough: OpenAI\'s own API', () => {
  it('answers the OpenAI SDK with the deployment\'s key, under /v1, billing its usage', async () => {
    const key = await seedKey(p.stack.db.url);
    const client = new OpenAI({ baseURL: `${p.stack.url}/openai_passthrough`, apiKey: key, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }] }).withResponse();
    expect(data.choices[0]?.message.content).toContain('hello there');
    const sent = p.openaiFake.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-openai-upstream-0002');
    expect(JSON.stringify(sent.headers)).not.toContain(key);
    const row = await eventually(() => spendLogRow(p.stack.db.url, callId(response.headers)));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', model_group: 'gpt-4o', prompt_tokens: data.usage?.prompt_tokens, completion_tokens: data.usage?.completion_tokens });
  });

  it('refuses a key the metadata the gateway keeps on provider objects (tollgate_owner), so it cannot claim an object', async () => {
    const key = await seedKey(p.stack.db.url);
    const res = await fetch(`${p.stack.url}/openai_passthrough/v1/batches`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input_file_id: 'file-someone-elses', endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { tollgate_owner: 'key:abc' } }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: 'metadata', message: expect.stringContaining('tollgate_owner') } });
    // Nor in a body the gateway does not read as JSON (another content type), which the provider might.
    const opaque = await fetch(`${p.stack.url}/openai_passthrough/v1/batches`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ input_file_id: 'file-someone-elses', endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { tollgate_owner: 'key:abc' } }),
    });
    expect(opaque.status).toBe(400);
    expect(p.openaiFake.requests).toHaveLength(0);
    // An empty body said to be JSON (an SDK's POST to .../cancel) is no body, and passes.
    const cancel = await fetch(`${p.stack.url}/openai_passthrough/v1/batches/batch_abc/cancel`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '',
    });
    expect(cancel.status).not.toBe(400);
    expect(p.openaiFake.requests).toHaveLength(1);
    // Metadata of the client's own passes.
    const own = await fetch(`${p.stack.url}/openai_passthrough/v1/batches`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input_file_id: 'file-mine', endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { project: 'x' } }),
    });
    expect(own.status).not.toBe(400);
    expect(p.openaiFake.requests).toHaveLength(2);
  });
});
