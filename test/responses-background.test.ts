import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { responseObject, responsesUsage } from './fakes/openai-responses.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, sha256, spendLogRow } from './support/keys.ts';
import { adminClient } from './support/admin.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * Background responses (`background: true`) through the gateway, with the official openai client: the
 * provider answers later, so the call that creates one costs nothing, and the gateway watches the
 * response until it is over and bills it once, to the key that asked, whether or not the client reads
 * it (a read or a cancel that sees it over bills it at once), however often it is read.
 */

let fake: FakeUpstream;
let stack: TestStack;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: deep
    litellm_params: {model: openai/o3-pro, api_base: "${fake.url}/v1", api_key: sk-upstream-0001}
    model_info: {id: dep-deep, input_cost_per_token: 0.00002, output_cost_per_token: 0.00008}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4, api_base: "${fake.url}", api_key: sk-ant-upstream-0002}
  - model_name: "wild/*"
    litellm_params: {model: "openai/*", api_base: "${fake.url}/w/v1", api_key: sk-upstream-w-0003}
    model_info: {id: dep-wild, input_cost_per_token: 0.00002, output_cost_per_token: 0.00008}
router_settings:
  num_retries: 0
`,
    // The watcher first asks after 2 s (30 s otherwise).
    runtimeOnlyEnv: { TOLLGATE_LATER_WORK_POLL_MS: '2000' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const client = (apiKey: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
/** 1,000 prompt and 500 completion tokens at the deployment's prices. */
const COST = 1000 * 0.00002 + 500 * 0.00008;

function queued(id: string, status: 'queued' | 'in_progress' = 'queued') {
  return { ...responseObject('o3-pro', '', null, { response: id, message: 'msg_x' }, 'in_progress'), status, background: true, usage: null };
}
function done(id: string, status: 'completed' | 'cancelled' = 'completed') {
  return { ...responseObject('o3-pro', 'the answer', responsesUsage(1000, 500), { response: id, message: 'msg_x' }), status, background: true };
}

const admin = adminClient(() => stack);
const newKey = async (body: Record<string, unknown>): Promise<string> => (await admin.generate(body)).key as string;
const keySpend = async (key: string): Promise<number> => Number((await admin.keyRow(sha256(key)))?.spend);

describe('Background responses', () => {
  it('cost nothing when created, and are billed once to the key that asked when over, read or not', async () => {
    // A budget between one response's cost and two.
    const key = await newKey({ models: ['deep'], max_budget: COST * 1.5 });
    const openai = client(key);
    // What the provider says when the gateway's watcher asks.
    fake.setDefault({ kind: 'json', body: queued('resp_bg_1', 'in_progress') });
    fake.enqueue({ kind: 'json', body: queued('resp_bg_1') });
    const { data: created, response } = await openai.responses.create({ model: 'deep', input: 'Think hard', background: true }).withResponse();
    expect(created.status).toBe('queued');
    expect((fake.requests[0]!.body as { background?: boolean }).background).toBe(true);
    const creation = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id')!));
    expect(Number(creation.spend)).toBe(0);

    // Never read by the client: the watcher asks, finds it running, bills nothing; then sees it over and bills it.
    await eventually(async () => fake.requests.find((r) => r.method === 'GET' && r.path.endsWith('/responses/resp_bg_1')));
    expect(await spendLogRow(stack.db.url, 'resp_bg_1')).toBeUndefined();
    fake.setDefault({ kind: 'json', body: done('resp_bg_1') });
    const row = await eventually(() => spendLogRow(stack.db.url, 'resp_bg_1'), 20_000);
    expect(row).toMatchObject({ call_type: 'aresponses', api_key: sha256(key), model_group: 'deep', model_id: 'dep-deep', prompt_tokens: 1000, completion_tokens: 500 });
    expect(Number(row.spend)).toBeCloseTo(COST, 10);
    await eventually(async () => (Math.abs(await keySpend(key) - COST) < 1e-9 ? true : undefined));
    // Read after: billed no more.
    expect((await openai.responses.retrieve(created.id)).output_text).toBe('the answer');
    await client(TEST_MASTER_KEY).responses.retrieve(created.id);

    // Its limiter counted it once: the next one is admitted; cancelled part way, the cancel bills what ran at once.
    fake.setDefault({ kind: 'json', body: queued('resp_bg_2', 'in_progress') });
    fake.enqueue({ kind: 'json', body: queued('resp_bg_2') });
    const second = await openai.responses.create({ model: 'deep', input: 'Again', background: true });
    fake.enqueue({ kind: 'json', body: done('resp_bg_2', 'cancelled') });
    expect((await openai.responses.cancel(second.id)).status).toBe('cancelled');
    await eventually(async () => (Math.abs(await keySpend(key) - 2 * COST) < 1e-9 ? true : undefined));
    const calls = fake.requests.filter((r) => r.method === 'POST').length;
    const refused = await openai.responses.create({ model: 'deep', input: 'Once more', background: true }).catch((e: unknown) => e);
    expect((refused as { status?: number }).status).toBe(429);
    expect((refused as Error).message).toContain('Budget has been exceeded!');
    expect(fake.requests.filter((r) => r.method === 'POST').length).toBe(calls);
  });

  it('deleted through the gateway, are billed first: cancelled if still running, at an estimate when the provider reports no usage', async () => {
    const key = await newKey({ models: ['deep'] });
    fake.setDefault({ kind: 'json', body: queued('resp_bg_del', 'in_progress') });
    fake.enqueue({ kind: 'json', body: queued('resp_bg_del') });
    const created = await client(key).responses.create({ model: 'deep', input: 'Quick', background: true });
    // The watcher's last look (still running), its cancel, its look at what the cancel left (no usage
    // reported), then the deletion itself.
    const cancelled = { ...done('resp_bg_del', 'cancelled'), usage: null };
    fake.enqueue(
      { kind: 'json', body: queued('resp_bg_del', 'in_progress') },
      { kind: 'json', body: cancelled },
      { kind: 'json', body: cancelled },
      { kind: 'json', body: { id: 'resp_bg_del', object: 'response.deleted', deleted: true } },
    );
    await client(key).responses.delete(created.id);
    expect(fake.requests.slice(-4).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1/responses/resp_bg_del', 'POST /v1/responses/resp_bg_del/cancel', 'GET /v1/responses/resp_bg_del', 'DELETE /v1/responses/resp_bg_del',
    ]);
    const row = await eventually(() => spendLogRow(stack.db.url, 'resp_bg_del'));
    expect(row).toMatchObject({ api_key: sha256(key), completion_tokens: 3 });
    expect(Number(row.prompt_tokens)).toBeGreaterThan(0);
    expect((row.metadata as { usage_estimated?: boolean }).usage_estimated).toBe(true);
  });

  it('are not deleted while they cannot be billed first (the provider unreachable): a 503, and the response kept', async () => {
    fake.setDefault({ kind: 'json', body: queued('resp_bg_keep', 'in_progress') });
    fake.enqueue({ kind: 'json', body: queued('resp_bg_keep') });
    const created = await client(TEST_MASTER_KEY).responses.create({ model: 'deep', input: 'Keep', background: true });
    fake.setDefault({ kind: 'json', status: 500, body: { error: { message: 'down', type: 'server_error' } } });
    const refused = await client(TEST_MASTER_KEY).responses.delete(created.id).catch((e: unknown) => e);
    expect((refused as { status?: number }).status).toBe(503);
    expect(fake.requests.some((r) => r.method === 'DELETE')).toBe(false);
    // Still watched: billed once the provider answers again (and no watcher is left to the next test).
    fake.setDefault({ kind: 'json', body: done('resp_bg_keep') });
    await eventually(() => spendLogRow(stack.db.url, 'resp_bg_keep'), 20_000);
  });

  it('made through a wildcard group are watched and billed at its deployment', async () => {
    const key = await newKey({ models: ['wild/*'] });
    fake.setDefault({ kind: 'json', body: done('resp_bg_wild') });
    fake.enqueue({ kind: 'json', body: queued('resp_bg_wild') });
    const created = await client(key).responses.create({ model: 'wild/o3-pro', input: 'Think', background: true });
    expect(created.status).toBe('queued');
    const row = await eventually(() => spendLogRow(stack.db.url, 'resp_bg_wild'), 20_000);
    expect(row).toMatchObject({ call_type: 'aresponses', api_key: sha256(key), model_id: 'dep-wild:o3-pro', prompt_tokens: 1000, completion_tokens: 500 });
    expect(Number(row.spend)).toBeCloseTo(COST, 10);
    expect(fake.requests.filter((r) => r.method === 'GET').every((r) => r.path === '/w/v1/responses/resp_bg_wild')).toBe(true);
  });

  it('answered at once are billed as any call, and a read of them bills nothing more', async () => {
    const key = await newKey({ models: ['deep'] });
    fake.enqueue({ kind: 'json', body: done('resp_bg_now') });
    const { data: created, response } = await client(key).responses.create({ model: 'deep', input: 'Quick', background: true }).withResponse();
    // Were it watched, the watcher would find it over and bill it a second time.
    fake.setDefault({ kind: 'json', body: done('resp_bg_now') });
    await client(key).responses.retrieve(created.id);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id')!));
    expect(Number(row.spend)).toBeCloseTo(COST, 10);
    // Nothing watches it: after the watcher's first look would have come, only the client's read, and no second row.
    await new Promise((r) => setTimeout(r, 3000));
    expect(fake.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
    expect(await spendLogRow(stack.db.url, 'resp_bg_now')).toBeUndefined();
  });

  it('are refused with a 400 where they cannot be served: streamed, or on a model reached through chat', async () => {
    const openai = client(TEST_MASTER_KEY);
    const streamed = await openai.responses.create({ model: 'deep', input: 'hi', background: true, stream: true }).catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(OpenAI.BadRequestError);
    expect((streamed as Error).message).toContain('background: true with stream: true is not supported');
    const bridged = await openai.responses.create({ model: 'claude', input: 'hi', background: true }).catch((e: unknown) => e);
    expect(bridged).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bridged as Error).message).toContain('background: true (a response stored by the provider, read later) is not supported');
    expect(fake.requests).toEqual([]);
  });
});
