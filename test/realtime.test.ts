// OpenAI's Realtime API through the gateway: the official openai client's OpenAIRealtimeWS (and a
// browser-style client) against a fake Realtime server on loopback, through workerd.
import { connect } from 'node:net';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type FakeRealtime, startFakeRealtime } from './fakes/realtime.ts';
import { eventually, seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let fake: FakeRealtime;
let stack: TestStack;

beforeAll(async () => {
  fake = await startFakeRealtime();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-realtime
    litellm_params: {model: openai/gpt-realtime, api_base: "${fake.url}/v1", api_key: sk-openai-realtime-0001}
  - model_name: azure-realtime
    litellm_params: {model: azure/gpt-4o-realtime-preview, api_base: "${fake.url}", api_key: az-realtime-0002}
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok"}
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const gateway = () => new URL(stack.url);

/**
 * The official client. It only speaks wss:, so its socket is handed a plain TCP connection to the
 * gateway (ws's createConnection): the same handshake and frames, without TLS.
 */
function officialClient(key: string, model: string): OpenAIRealtimeWS {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  return new OpenAIRealtimeWS({ model, options: { createConnection: () => connect(Number(gateway().port), gateway().hostname) } as never }, client);
}

async function spendRows(token: string): Promise<Record<string, unknown>[]> {
  return query(stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND call_type = $2', [token, '_arealtime']);
}

describe('/v1/realtime', () => {
  it('relays a session both ways with the deployment\'s key, and bills every response.done, audio tokens at audio prices', async () => {
    const key = await seedKey(stack.db.url);
    fake.queueUsage(
      { input_tokens: 1000, output_tokens: 400, input_token_details: { cached_tokens: 200, text_tokens: 300, audio_tokens: 700, cached_tokens_details: { text_tokens: 0, audio_tokens: 200 } }, output_token_details: { text_tokens: 100, audio_tokens: 300 } },
      { input_tokens: 50, output_tokens: 10, input_token_details: { text_tokens: 50 }, output_token_details: { text_tokens: 10 } },
    );
    const rt = officialClient(key, 'gpt-realtime');
    const events: string[] = [];
    const done = new Promise<void>((resolve) => {
      let responses = 0;
      rt.on('response.done', () => (++responses === 2 ? resolve() : rt.send({ type: 'response.create' })));
    });
    rt.on('event', (event) => events.push(event.type));
    await new Promise<void>((resolve) => rt.socket.on('open', () => resolve()));
    rt.send({ type: 'session.update', session: { type: 'realtime', instructions: 'Be brief.' } });
    rt.send({ type: 'response.create' });
    await done;
    rt.close();
    const session = fake.sessions[0]!;
    expect(session.path).toBe('/v1/realtime');
    expect(session.query).toEqual({ model: 'gpt-realtime' });
    expect(session.headers.authorization).toBe('Bearer sk-openai-realtime-0001');
    expect(JSON.stringify(session.headers)).not.toContain(key);
    expect(session.received.map((e) => e.type)).toEqual(['session.update', 'response.create', 'response.create']);
    expect(session.received[0]).toMatchObject({ session: { instructions: 'Be brief.' } });
    expect(events).toEqual(expect.arrayContaining(['session.created', 'session.updated', 'response.created', 'response.output_text.delta', 'response.done']));
    await session.closed;
    const [row] = await eventually(async () => ((await spendRows(sha256(key))).length ? spendRows(sha256(key)) : undefined));
    // 300 text in at 4e-6, 200 cached at 4e-7, 500 uncached audio in at 3.2e-5; 100 text out at 1.6e-5, 300 audio out at 6.4e-5; then 50 and 10 text.
    const expected = 300 * 4e-6 + 200 * 4e-7 + 500 * 3.2e-5 + 100 * 1.6e-5 + 300 * 6.4e-5 + 50 * 4e-6 + 10 * 1.6e-5;
    expect(row).toMatchObject({ status: 'success', model_group: 'gpt-realtime', model: 'gpt-realtime', prompt_tokens: 1050, completion_tokens: 410, cache_read_input_tokens: 200 });
    expect(Number(row!.spend)).toBeCloseTo(expected, 10);
  });

  it('bills the input audio\'s transcription at the transcription model\'s prices, beside the responses', async () => {
    const key = await seedKey(stack.db.url);
    const rt = officialClient(key, 'gpt-realtime');
    const transcribed = new Promise<void>((resolve) => rt.on('conversation.item.input_audio_transcription.completed', () => resolve()));
    const done = new Promise<void>((resolve) => rt.on('response.done', () => resolve()));
    await new Promise<void>((resolve) => rt.on('session.created', () => resolve()));
    const updated = new Promise<void>((resolve) => rt.on('session.updated', () => resolve()));
    rt.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { transcription: { model: 'gpt-4o-transcribe' } } } } });
    await updated;
    rt.send({ type: 'input_audio_buffer.commit' });
    await transcribed;
    rt.send({ type: 'response.create' });
    await done;
    rt.close();
    await fake.sessions[0]!.closed;
    const [row] = await eventually(async () => ((await spendRows(sha256(key))).length ? spendRows(sha256(key)) : undefined));
    // The response (DEFAULT_USAGE: 10 text in, 5 text out at gpt-realtime's prices), then 100 audio tokens in and 10 out at gpt-4o-transcribe's.
    expect(Number(row!.spend)).toBeCloseTo(10 * 4e-6 + 5 * 1.6e-5 + 100 * 2.5e-6 + 10 * 1e-5, 10);
  });

  it('bills a response the client left in the middle of: it is cancelled and its response.done awaited', async () => {
    const key = await seedKey(stack.db.url);
    fake.holdResponses(true);
    fake.queueUsage({ input_tokens: 200, output_tokens: 80, input_token_details: { text_tokens: 200 }, output_token_details: { text_tokens: 20, audio_tokens: 60 } });
    const rt = officialClient(key, 'gpt-realtime');
    const delta = new Promise<void>((resolve) => rt.on('response.output_text.delta', () => resolve()));
    await new Promise<void>((resolve) => rt.socket.on('open', () => resolve()));
    rt.send({ type: 'response.create' });
    await delta;
    rt.close();
    await fake.sessions[0]!.closed;
    expect(fake.sessions[0]!.received.map((e) => e.type)).toEqual(['response.create', 'response.cancel']);
    const [row] = await eventually(async () => ((await spendRows(sha256(key))).length ? spendRows(sha256(key)) : undefined));
    expect(row).toMatchObject({ prompt_tokens: 200, completion_tokens: 80 });
    expect(Number(row!.spend)).toBeCloseTo(200 * 4e-6 + 20 * 1.6e-5 + 60 * 6.4e-5, 10);
  });

  it('ends a session once what it ran spends the key\'s budget (1008), the answer that spent it delivered', async () => {
    const { key } = await (await fetch(`${stack.url}/key/generate`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ max_budget: 0.01 }),
    })).json() as { key: string };
    // 300 audio tokens out at 6.4e-5: 0.0192, past the 0.01 budget.
    fake.queueUsage({ input_tokens: 10, output_tokens: 300, input_token_details: { text_tokens: 10 }, output_token_details: { audio_tokens: 300 } });
    const rt = officialClient(key, 'gpt-realtime');
    const done = new Promise<void>((resolve) => rt.on('response.done', () => resolve()));
    const closed = new Promise<number>((resolve) => rt.socket.on('close', (code: number) => resolve(code)));
    await new Promise<void>((resolve) => rt.socket.on('open', () => resolve()));
    rt.send({ type: 'response.create' });
    await done;
    expect(await closed).toBe(1008);
    await fake.sessions[0]!.closed;
  });

  it('takes a browser\'s key from its subprotocol, never sending it on, and answers with the protocol it chose', async () => {
    const key = await seedKey(stack.db.url);
    const url = `ws://${gateway().host}/v1/realtime?model=gpt-realtime`;
    const socket = new WebSocket(url, ['realtime', `openai-insecure-api-key.${key}`, 'openai-beta.realtime-v1']);
    const first = await new Promise<Record<string, unknown>>((resolve, reject) => {
      socket.once('message', (data) => resolve(JSON.parse(String(data)) as Record<string, unknown>));
      socket.once('error', reject);
    });
    expect(socket.protocol).toBe('realtime');
    expect(first).toMatchObject({ type: 'session.created' });
    const session = fake.sessions[0]!;
    expect(session.headers['openai-beta']).toBe('realtime=v1');
    expect(JSON.stringify(session.headers)).not.toContain(key);
    socket.close();
    await session.closed;
  });

  it('opens an Azure deployment\'s session at its realtime path with its api-key', async () => {
    const rt = officialClient(TEST_MASTER_KEY, 'azure-realtime');
    await new Promise<void>((resolve) => rt.on('session.created', () => resolve()));
    rt.close();
    expect(fake.sessions[0]).toMatchObject({ path: '/openai/realtime', query: { 'api-version': '2024-10-01-preview', deployment: 'gpt-4o-realtime-preview' } });
    expect(fake.sessions[0]?.headers['api-key']).toBe('az-realtime-0002');
  });

  it('refuses before any upstream: no upgrade (426), a key held to other models (401), a group with no realtime deployment (400)', async () => {
    const plain = await fetch(`${stack.url}/v1/realtime?model=gpt-realtime`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(plain.status).toBe(426);
    expect(await plain.json()).toMatchObject({ error: { type: 'bad_request_error' } });
    const handshake = (key: string, model: string) => new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`ws://${gateway().host}/v1/realtime?model=${model}`, { headers: { authorization: `Bearer ${key}` } });
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('open', () => reject(new Error('opened')));
      socket.once('error', () => undefined);
    });
    const held = await seedKey(stack.db.url, { models: ['mock-gpt'] });
    expect(await handshake(held, 'gpt-realtime')).toBe(401);
    expect(await handshake(TEST_MASTER_KEY, 'mock-gpt')).toBe(400);
    expect(fake.sessions).toHaveLength(0);
  });

  it('passes an upstream refusal on as an error status, logged as a failure', async () => {
    const key = await seedKey(stack.db.url);
    fake.refuseNext(403, { error: { message: 'model not enabled', type: 'invalid_request_error' } });
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://${gateway().host}/v1/realtime?model=gpt-realtime`, { headers: { authorization: `Bearer ${key}` } });
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('error', () => undefined);
    });
    expect(status).toBe(403);
    const [row] = await eventually(async () => ((await spendRows(sha256(key))).length ? spendRows(sha256(key)) : undefined));
    expect(row).toMatchObject({ status: 'failure', spend: 0 });
  });
});
