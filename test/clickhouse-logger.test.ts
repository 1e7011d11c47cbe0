import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeClickHouse, startFakeClickHouse } from './fakes/clickhouse.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { callbackModels } from './support/callback-config.ts';

// LiteLLM's `clickhouse` callback through the real stack: the admin Worker's callback consumer writes each call,
// success or failure, as a row of `<CLICKHOUSE_DATABASE>.spend_logs` in a fake ClickHouse HTTP interface on
// loopback, as LiteLLM's ClickHouseSpendLogger does, creating the database and table when the first insert finds
// them missing.

const CH_USER = 'tollgate_writer';
const CH_PASSWORD = 'ch-e2e-password-0123456789abcdef';
const UPSTREAM_KEY = 'sk-upstream-openai-clickhouse-0001';
const TABLE = 'tollgate_e2e.spend_logs';

let upstream: FakeUpstream;
let ch: FakeClickHouse;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  ch = await startFakeClickHouse({ user: CH_USER, password: CH_PASSWORD });
  stack = await startTestStack({
    configYaml: `${callbackModels(upstream.url)}litellm_settings:
  callbacks: ["clickhouse"]
`,
    env: { FAKE_OPENAI_KEY: UPSTREAM_KEY, CLICKHOUSE_URL: ch.url.replace('http://', `http://${CH_USER}:${CH_PASSWORD}@`), CLICKHOUSE_DATABASE: 'tollgate_e2e' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await ch?.close();
  await upstream?.close();
});

type Row = Record<string, any>;
const rowsOf = (id: string): Row[] => ch.rows(TABLE).filter((r) => r.request_id === id);
const row = async (id: string): Promise<Row> => (await eventually(async () => (rowsOf(id).length ? rowsOf(id) : undefined)))[0]!;

async function chat(model: string, content: string, headers: Record<string, string> = {}) {
  const key = await seedKey(stack.db.url, { userId: 'user-clickhouse', alias: 'ch-key' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content }] }, { headers }).withResponse();
  return { key, data, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the clickhouse callback', () => {
  it('loads without a warning', () => {
    expect(stack.warnings.filter((w) => /clickhouse/i.test(w))).toEqual([]);
  });

  it('writes a call as LiteLLM\'s spend_logs row, into the table it created (a ReplacingMergeTree on request_id), with the key\'s hash, never a key', async () => {
    const before = Date.now();
    const { key, data, callId } = await chat('gpt-4o', 'what is clickhouse?');
    const r = await row(callId);
    expect(ch.databases.has('tollgate_e2e')).toBe(true);
    expect(ch.tables.get(TABLE)).toMatchObject({ engine: 'ReplacingMergeTree', key: ['team_id', 'start_time', 'request_id'] });
    expect(r).toMatchObject({
      request_id: callId, response_id: callId, call_type: 'acompletion', api_key: createHash('sha256').update(key).digest('hex'), key_alias: 'ch-key',
      user: 'user-clickhouse', model: 'gpt-4o', model_group: 'gpt-4o', custom_llm_provider: 'openai', status: 'success', error_str: '', cache_hit: false,
      prompt_tokens: data.usage!.prompt_tokens, completion_tokens: data.usage!.completion_tokens, total_tokens: data.usage!.total_tokens,
    });
    expect(typeof r.spend).toBe('number');
    expect(Date.parse(r.start_time)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(r.end_time)).toBeGreaterThanOrEqual(Date.parse(r.start_time));
    expect(JSON.parse(r.messages)).toEqual([{ role: 'user', content: 'what is clickhouse?' }]);
    expect(JSON.parse(r.response).choices[0].message.content).toBe(data.choices[0]!.message.content);
    expect(JSON.parse(r.metadata)).toMatchObject({ user_api_key_alias: 'ch-key' });
    for (const secret of [key, CH_PASSWORD, UPSTREAM_KEY]) expect(JSON.stringify(r)).not.toContain(secret);
    const insert = ch.requests.find((q) => q.query === 'INSERT INTO `tollgate_e2e`.spend_logs FORMAT JSONEachRow');
    expect(insert?.headers).toMatchObject({ 'x-clickhouse-user': CH_USER, 'x-clickhouse-key': CH_PASSWORD });
    expect(ch.requests.filter((q) => q.query.startsWith('CREATE TABLE'))).toHaveLength(1);
  });

  it('writes the client\'s W3C traceparent as the row\'s trace_id and span_id, as LiteLLM\'s logger does', async () => {
    const { callId } = await chat('gpt-4o', 'traced through clickhouse', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(await row(callId)).toMatchObject({ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' });
    const untraced = await chat('gpt-4o', 'not traced');
    expect(await row(untraced.callId)).toMatchObject({ trace_id: '', span_id: '' });
  });

  it('writes a failed call\'s row with its error, and empty messages and answer when message logging is off', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: await seedKey(stack.db.url, { userId: 'user-clickhouse-fail' }), maxRetries: 0 });
    const failure = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'never answered' }] }).withResponse().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    const failed = (await eventually(async () => ch.rows(TABLE).find((r) => r.status === 'failure' && r.user === 'user-clickhouse-fail')))!;
    expect(failed.error_str).not.toBe('');
    expect(failed.response).toBe('');
    const { data, callId } = await chat('gpt-4o', 'a private question', { 'x-litellm-enable-message-redaction': 'true' });
    const quiet = await row(callId);
    expect(quiet).toMatchObject({ status: 'success', messages: '', response: '', total_tokens: data.usage!.total_tokens });
    expect(JSON.stringify(quiet)).not.toContain('a private question');
  });

  it('sends again, once, what ClickHouse answered 503; the log line never quotes the password it echoes', async () => {
    ch.failNext(503, 202, { kind: 'insert', echo: true });
    const lines: string[] = [];
    const spies = (['error', 'warn', 'log', 'info'] as const).map((level) => vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.join(' '))));
    let callId: string;
    try {
      callId = (await chat('gpt-4o', 'during an outage')).callId;
      await row(callId);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const text = lines.join('');
    expect(text).toMatch(/clickhouse callback: posting \d+ payloads to \S+ failed, retrying: HTTP 503: Code: 202\. [A-Z_]+/);
    expect(text).not.toContain('failed by the test');
    expect(text).not.toContain(CH_PASSWORD);
    await row((await chat('gpt-4o', 'a later marker call')).callId);
    // Sent twice, inserted once: the 503 took nothing, and the row was not sent a third time.
    expect(ch.requests.filter((q) => q.query.startsWith('INSERT') && q.body.includes(callId))).toHaveLength(2);
    expect(ch.inserted(TABLE).filter((r) => r.request_id === callId)).toHaveLength(1);
  });

  it('is tested through /health/services, and never quotes the password ClickHouse echoes', async () => {
    const ask = () => fetch(`${stack.url}/health/services?service=clickhouse`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const res = await ask();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'success' });
    const test = ch.rows(TABLE).find((r) => r.end_user === 'litellm:/health/services');
    expect(test).toMatchObject({ model: 'litellm-mock-response-model', request_tags: ['health-check'] });
    ch.failNext(500, 241, { kind: 'insert', echo: true });
    const failed = await ask();
    const text = await failed.text();
    expect(failed.status).toBe(503);
    expect(text).toContain('ClickHouse did not take the test payload');
    expect(text).not.toContain(CH_PASSWORD);
  });
});
