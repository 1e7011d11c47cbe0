import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { responseObject, responsesUsage } from './fakes/openai-responses.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// Three of LiteLLM's operational settings, on the real stack: general_settings.max_response_size_mb
// (a non-streamed answer over it is refused, its spend kept), general_settings.disable_reset_budget
// (the admin Worker's budget reset does nothing) and litellm_settings.json_logs (the Workers' own
// log lines are JSON). The Workers' console output reaches this process through the local runtime,
// which prints each line workerd writes: it is captured from there.

const UPSTREAM_KEY = 'sk-upstream-openai-secret-0042';
const LIMIT_MB = 0.01; // 10,485 bytes
const printed: string[] = [];
let fake: FakeUpstream;
let stack: TestStack;

beforeAll(async () => {
  for (const method of ['log', 'warn', 'error'] as const) {
    // eslint-disable-next-line no-control-regex
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ').replace(/\x1b\[[0-9;]*m/g, '')));
  }
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0.001, output_cost_per_token: 0.001}
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: os.environ/FAKE_OPENAI_KEY, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
litellm_settings:
  json_logs: true
  force_ipv4: true
  cache: true
general_settings:
  max_response_size_mb: ${LIMIT_MB}
  disable_reset_budget: true
  maximum_spend_logs_retention_period: 30d
`,
    env: { FAKE_OPENAI_KEY: UPSTREAM_KEY },
    // The background-response watcher first asks after 2 s (30 s otherwise).
    runtimeOnlyEnv: { TOLLGATE_LATER_WORK_POLL_MS: '2000' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
  vi.restoreAllMocks();
});

const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${stack.url}/v1`, maxRetries: 0 });
const completion = (content: string) => ({
  id: 'chatcmpl-big', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 4000, total_tokens: 4010 },
});
/** The captured lines that are JSON objects. */
const jsonLines = () => printed.flatMap((line) => {
  try {
    const parsed = JSON.parse(line) as unknown;
    return parsed && typeof parsed === 'object' ? [parsed as Record<string, unknown>] : [];
  } catch {
    return [];
  }
});

describe('general_settings.max_response_size_mb', () => {
  it('refuses a non-streamed answer over the limit with a 400 and keeps the call\'s spend record', async () => {
    const key = await seedKey(stack.db.url);
    fake.enqueue({ kind: 'json', body: completion('x'.repeat(20_000)) });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'say a lot' }] }),
    });
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(400);
    expect(JSON.parse(text)).toEqual({ error: {
      message: 'Response too large (limit 0.01 MB, general_settings.max_response_size_mb)', type: 'bad_request_error', param: 'content-length', code: '400',
    } });
    expect(text).not.toContain('xxxx');
    expect(fake.requests).toHaveLength(1);
    // The provider was paid for it: the row says what it cost, and that it failed.
    const callId = res.headers.get('x-litellm-call-id');
    expect(callId).toBeTruthy();
    const row = await eventually(() => spendLogRow(stack.db.url, callId!));
    expect(row).toMatchObject({ status: 'failure', api_key: sha256(key), completion_tokens: 4000 });
    expect(Number(row.spend)).toBeCloseTo(10 * 0.000001 + 4000 * 0.000002, 10);
    expect(JSON.stringify(row)).not.toContain('xxxx');
    // The key's spend counts it.
    await eventually(async () => {
      const [k] = await query(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]);
      return Number(k?.spend) > 0 ? true : undefined;
    });
  });

  it('passes an answer within the limit, and a stream of any size, through the openai client', async () => {
    const key = await seedKey(stack.db.url);
    fake.enqueue({ kind: 'json', body: completion('small answer') });
    const small = await client(key).chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] });
    expect(small.choices[0]?.message.content).toBe('small answer');

    const chunk = (content: string) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
    fake.enqueue({ kind: 'sse', events: [chunk('y'.repeat(8_000)), chunk('y'.repeat(8_000)), '[DONE]'] });
    const stream = await client(key).chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi, streamed' }], stream: true });
    let streamed = '';
    for await (const part of stream) streamed += part.choices[0]?.delta.content ?? '';
    expect(streamed).toHaveLength(16_000);
  });

  it('refuses a non-streamed request the response cache would answer with an answer over the limit, at no cost', async () => {
    const key = await seedKey(stack.db.url);
    const messages = [{ role: 'user' as const, content: 'cache a big one' }];
    const chunk = (content: string) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
    const finish = { ...chunk(''), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
    fake.enqueue({ kind: 'sse', events: [chunk('z'.repeat(8_000)), chunk('z'.repeat(8_000)), finish, '[DONE]'] });
    // The stream (never size-checked) leads the cache, which keys it as the non-streamed request too.
    const stream = await client(key).chat.completions.create({ model: 'gpt', messages, stream: true });
    for await (const part of stream) void part;
    const upstreamCalls = fake.requests.length;
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', messages }),
    });
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(400);
    expect(JSON.parse(text)).toMatchObject({ error: { message: 'Response too large (limit 0.01 MB, general_settings.max_response_size_mb)', type: 'bad_request_error', code: '400' } });
    expect(text).not.toContain('zzzz');
    // Answered from the cache, not the provider: a failure row that cost nothing.
    expect(fake.requests).toHaveLength(upstreamCalls);
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id')!));
    expect(row).toMatchObject({ status: 'failure', api_key: sha256(key) });
    expect(Number(row.spend)).toBe(0);
  });

  it('lets a background response\'s create answer over the limit through, so the response is watched and billed', async () => {
    const key = await seedKey(stack.db.url);
    const id = 'resp_big_bg_1';
    // The create answer echoes a long instructions text: metadata over the limit, not the output.
    const queued = { ...responseObject('gpt-4o', '', null, { response: id, message: 'msg_x' }, 'in_progress'), status: 'queued', background: true, usage: null, instructions: 'i'.repeat(20_000) };
    const done = { ...responseObject('gpt-4o', 'the answer', responsesUsage(1000, 500), { response: id, message: 'msg_x' }), status: 'completed', background: true };
    fake.enqueue({ kind: 'json', body: queued });
    fake.setDefault({ kind: 'json', body: done });
    try {
      const res = await fetch(`${stack.url}/v1/responses`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt', input: 'Think hard, at length', background: true }),
      });
      const text = await res.text();
      expect(res.status, text.slice(0, 300)).toBe(200);
      expect(JSON.parse(text)).toMatchObject({ object: 'response', status: 'queued', background: true });
      // The watcher finds it over and bills it to the key.
      const row = await eventually(() => spendLogRow(stack.db.url, id), 20_000);
      expect(row).toMatchObject({ api_key: sha256(key), prompt_tokens: 1000, completion_tokens: 500 });
      expect(Number(row.spend)).toBeCloseTo(1000 * 0.000001 + 500 * 0.000002, 10);
    } finally {
      fake.reset();
    }
  });
});

describe('general_settings.disable_reset_budget and litellm_settings.json_logs', () => {
  it('keeps a key over its budget refused past its budget_duration: the limiters do not open a new window', async () => {
    const key = await seedKey(stack.db.url);
    await query(stack.db.url, `UPDATE "LiteLLM_VerificationToken" SET max_budget = 0.003, budget_duration = '1d' WHERE token = $1`, [sha256(key)]);
    // Each call costs 0.002 (1 prompt + 1 completion token at 0.001); distinct prompts, so none is a cache hit.
    const chat = (n: number) => fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: `spend ${n}` }], max_tokens: 2 }),
    });
    const statuses: number[] = [];
    for (let n = 0; n < 6 && statuses.at(-1) !== 429; n++) statuses.push((await chat(n)).status);
    expect(statuses[0]).toBe(200);
    expect(statuses.at(-1)).toBe(429);
    const setClock = (offsetMs: number) => fetch(`${stack.url}/__tollgate/test/clock`, { method: 'POST', body: JSON.stringify({ offset_ms: offsetMs }) });
    // A day and an hour later: the window would have ended.
    await setClock(25 * 3600 * 1000);
    try {
      const res = await chat(100);
      const body = await res.json() as { error?: { type: string } };
      expect(res.status).toBe(429);
      expect(body.error?.type).toBe('budget_exceeded');
    } finally {
      await setClock(0);
    }
  });

  it('leaves due budgets alone on the admin Worker\'s cron tick, whose other jobs run, logging JSON lines', async () => {
    const past = '2026-01-01T00:00:00.000Z';
    const token = sha256('sk-not-reset');
    await query(stack.db.url, `INSERT INTO "LiteLLM_VerificationToken" (token, spend, max_budget, budget_duration, budget_reset_at) VALUES ($1, 5, 10, '1d', $2)`, [token, past]);
    await query(stack.db.url, `INSERT INTO "LiteLLM_TeamTable" (team_id, team_spend, max_budget, budget_duration, budget_reset_at) VALUES ('no-reset-team', 7, 10, '7d', $1)`, [past]);
    await query(stack.db.url, `INSERT INTO "LiteLLM_UserTable" (user_id, spend, max_budget, budget_duration, budget_reset_at) VALUES ('no-reset-user', 3, 10, '30d', $1)`, [past]);
    await query(stack.db.url, `INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, budget_duration, budget_reset_at) VALUES ('no-reset-tier', 10, '1d', $1)`, [past]);
    await query(stack.db.url, `INSERT INTO "LiteLLM_EndUserTable" (user_id, spend, budget_id) VALUES ('no-reset-customer', 2, 'no-reset-tier')`);
    // A spend-log row past the retention period: proof that the tick ran the admin Worker's jobs.
    await query(stack.db.url, `INSERT INTO "LiteLLM_SpendLogs" (request_id, api_key, spend, "startTime", "endTime") VALUES ('ancient-call', $1, 0.01, $2, $2)`, [token, past]);

    // The gateway loads its config for a request, the admin Worker for its tick: each warns about it.
    expect((await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } })).status).toBe(200);
    await stack.scheduled('admin', Date.now());

    expect(await spendLogRow(stack.db.url, 'ancient-call')).toBeUndefined();
    const one = async (sql: string) => (await query(stack.db.url, sql))[0] ?? {};
    const key = await one(`SELECT spend, budget_reset_at FROM "LiteLLM_VerificationToken" WHERE token = '${token}'`);
    expect([Number(key.spend), (key.budget_reset_at as Date).toISOString()]).toEqual([5, past]);
    const team = await one(`SELECT team_spend, budget_reset_at FROM "LiteLLM_TeamTable" WHERE team_id = 'no-reset-team'`);
    expect([Number(team.team_spend), (team.budget_reset_at as Date).toISOString()]).toEqual([7, past]);
    expect(Number((await one(`SELECT spend FROM "LiteLLM_UserTable" WHERE user_id = 'no-reset-user'`)).spend)).toBe(3);
    expect(Number((await one(`SELECT spend FROM "LiteLLM_EndUserTable" WHERE user_id = 'no-reset-customer'`)).spend)).toBe(2);
    expect(((await one(`SELECT budget_reset_at FROM "LiteLLM_BudgetTable" WHERE budget_id = 'no-reset-tier'`)).budget_reset_at as Date).toISOString()).toBe(past);

    // The admin Worker's line about the deleted row, and both Workers' config warning, as LiteLLM's JSON lines.
    const lines = jsonLines();
    const retention = lines.find((l) => String(l.message).startsWith('spend-log retention (30d): deleted 1 rows'));
    expect(retention).toEqual({ message: expect.any(String), level: 'INFO', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    // Each Worker warns once per isolate that loads the config: the gateway (the /v1/models call) and the admin Worker (the tick).
    const warnings = lines.filter((l) => String(l.message).includes('litellm_settings.force_ipv4: not needed'));
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    for (const warning of warnings) expect(warning).toMatchObject({ level: 'WARNING', message: expect.stringMatching(/^config .*:\n {2}/) });
    // No line, text or JSON, says a secret.
    for (const line of printed) {
      expect(line).not.toContain(UPSTREAM_KEY);
      expect(line).not.toContain(TEST_MASTER_KEY);
    }
  });
});
