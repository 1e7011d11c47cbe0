import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeId, openaiError } from './fakes/openai-format.ts';
import { responseObject, responsesUsage } from './fakes/openai-responses.ts';
import { type FakeUpstream, type RecordedRequest, startFakeUpstream } from './fakes/upstream.ts';
import { sendJson } from './fakes/upstream-wire.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * LiteLLM's `encrypted_content_affinity` through workerd (router/encrypted-affinity.ts): each fake upstream is
 * one provider account that, like OpenAI, encrypts reasoning items (`include: ["reasoning.encrypted_content"]`,
 * `store: false`) with its own key and refuses another account's with a 400 `invalid_encrypted_content`. A
 * follow-up replaying those items must reach the account that made them, streamed or not, retries and
 * fallbacks included; while that account's deployment cools down, the client gets a 503 with `retry-after`,
 * and the other account is never called with content it cannot read.
 */

let a: FakeUpstream;
let b: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

const deployment = (group: string, id: string, upstream: () => FakeUpstream) => `
  - model_name: ${group}
    litellm_params: {model: openai/gpt-5, api_base: "${upstream().url}/v1", api_key: sk-${id}-0001}
    model_info: {id: ${id}}`;

type Item = Record<string, unknown>;

/** One account: answers with a reasoning item only it can decrypt, and refuses items it did not make. */
function account(name: string) {
  return {
    kind: 'handler' as const,
    handle: (request: RecordedRequest, res: ServerResponse) => {
      const body = request.body as { input?: unknown; stream?: boolean };
      const replayed = Array.isArray(body.input) ? (body.input as Item[]).filter((i) => typeof i.encrypted_content === 'string') : [];
      const foreign = replayed.find((i) => !(i.encrypted_content as string).startsWith(`enc:${name}:`));
      if (foreign) {
        sendJson(res, 400, openaiError({ message: `The encrypted content for item ${String(foreign.id)} could not be verified.`, type: 'invalid_request_error', code: 'invalid_encrypted_content' }));
        return;
      }
      const response = responseObject('gpt-5', `answered by ${name}`, responsesUsage(12, 5));
      const reasoning = { id: fakeId('rs_'), type: 'reasoning', summary: [], encrypted_content: `enc:${name}:${fakeId('')}` };
      response.output = [reasoning as never, ...response.output];
      response.store = false;
      if (!body.stream) {
        sendJson(res, 200, response);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const event = (type: string, fields: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: n++, ...fields })}\n\n`;
      res.write(event('response.created', { response: { ...response, status: 'in_progress', output: [], usage: null } }));
      res.write(event('response.output_item.done', { output_index: 0, item: reasoning }));
      res.write(event('response.output_text.delta', { item_id: 'msg', output_index: 1, content_index: 0, delta: `answered by ${name}`, logprobs: [] }));
      res.end(event('response.completed', { response }));
    },
  };
}

beforeAll(async () => {
  [a, b] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  stack = await startTestStack({
    configYaml: `
model_list:
${deployment('reasoner', 'reasoner-a', () => a)}
${deployment('reasoner', 'reasoner-b', () => b)}
${deployment('plain', 'plain-a', () => a)}
${deployment('plain', 'plain-b', () => b)}
${deployment('cooling', 'cooling-a', () => a)}
${deployment('cooling', 'cooling-b', () => b)}
${deployment('guarded', 'guarded-a', () => a)}
${deployment('guarded', 'guarded-b', () => b)}
router_settings:
  num_retries: 1
  allowed_fails: 1
  cooldown_time: 30
  optional_pre_call_checks: [responses_api_deployment_check]
  model_group_affinity_config: {reasoner: [encrypted_content_affinity], cooling: [encrypted_content_affinity], guarded: [encrypted_content_affinity]}
  fallbacks: [{guarded: [plain]}]
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await a?.close();
  await b?.close();
});

beforeEach(() => {
  a.reset();
  b.reset();
  a.setDefault(account('a'));
  b.setDefault(account('b'));
});

const opts = { store: false, include: ['reasoning.encrypted_content'] } as const;

/** One turn of a stateless conversation: the items so far plus a user message; the answer's output and who served it. */
async function turn(model: string, history: Item[], text: string, stream = false): Promise<{ output: Item[]; servedBy: string; history: Item[] }> {
  const input = [...history, { role: 'user', content: text }];
  if (!stream) {
    const { data, response } = await client.responses.create({ model, input: input as never, ...opts } as never).withResponse();
    const output = (data as unknown as { output: Item[] }).output;
    return { output, servedBy: response.headers.get('x-litellm-model-id') ?? '', history: [...input, ...output] };
  }
  const { data: events, response } = await client.responses.create({ model, input: input as never, ...opts, stream: true } as never).withResponse();
  let output: Item[] = [];
  for await (const event of events as unknown as AsyncIterable<{ type: string; response?: { output: Item[] } }>) {
    if (event.type === 'response.completed') output = event.response!.output;
  }
  return { output, servedBy: response.headers.get('x-litellm-model-id') ?? '', history: [...input, ...output] };
}

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

describe('encrypted_content_affinity', () => {
  it('without it, replayed encrypted items land on the wrong account and fail (so the pins below are not luck)', async () => {
    const first = await turn('plain', [], 'hello');
    const outcomes = new Set<string>();
    for (let i = 0; i < 16; i++) {
      outcomes.add(await turn('plain', first.history, `follow-up ${i}`).then(() => 'ok', (e: unknown) => (e instanceof OpenAI.BadRequestError ? e.message : String(e))));
    }
    expect([...outcomes].some((o) => o.includes('could not be verified'))).toBe(true);
  });

  it('a conversation replaying its reasoning items stays on the account that made them, its content passed on untouched', async () => {
    let t = await turn('reasoner', [], 'hello');
    const origin = t.servedBy;
    const account = origin === 'reasoner-a' ? 'a' : 'b';
    expect(t.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: expect.stringMatching(new RegExp(`^enc:${account}:`)) });
    for (let i = 0; i < 8; i++) {
      t = await turn('reasoner', t.history, `turn ${i}`);
      expect(t.servedBy).toBe(origin);
    }
    // Fresh conversations are still spread over both accounts.
    const firsts = new Set<string>();
    for (let i = 0; i < 16; i++) firsts.add((await turn('reasoner', [], `new ${i}`)).servedBy);
    expect(firsts).toEqual(new Set(['reasoner-a', 'reasoner-b']));
  });

  it('a streamed answer\'s items pin too (read at response.completed), for streamed and plain follow-ups alike', async () => {
    let t = await turn('reasoner', [], 'stream me', true);
    const origin = t.servedBy;
    expect(t.output.some((i) => i.type === 'reasoning')).toBe(true);
    for (let i = 0; i < 6; i++) {
      t = await turn('reasoner', t.history, `turn ${i}`, i % 2 === 0);
      expect(t.servedBy).toBe(origin);
    }
  });

  it('a failing origin is retried, never the other account; once it cools down the replay gets a 503 with retry-after and a new conversation goes elsewhere', async () => {
    const first = await turn('cooling', [], 'hello');
    const [originFake, otherFake, other] = first.servedBy === 'cooling-a' ? [a, b, 'cooling-b'] : [b, a, 'cooling-a'];
    const otherBefore = otherFake.requests.length;
    const originBefore = originFake.requests.length;
    const broken = { kind: 'error' as const, status: 500, body: openaiError({ message: 'upstream broke', type: 'server_error' }) };
    originFake.enqueue(broken, broken);
    const failed = await refusal(turn('cooling', first.history, 'again'));
    expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
    expect(originFake.requests.length - originBefore).toBe(2);
    expect(otherFake.requests.length).toBe(otherBefore);
    // Two failures in a minute, over allowed_fails: the origin cools down, and the replay waits for it.
    const waiting = await refusal(turn('cooling', first.history, 'and again'));
    // A cooldown after failures is an outage, not a rate limit: 503, as LiteLLM answers.
    expect(waiting?.status).toBe(503);
    expect(waiting?.error).toMatchObject({ type: 'service_unavailable', code: '503' });
    expect(waiting?.message).toContain('encrypted_content is cooling down');
    expect(waiting?.message).not.toContain(first.servedBy);
    expect(Number(waiting?.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(otherFake.requests.length).toBe(otherBefore);
    expect(originFake.requests.length - originBefore).toBe(2);
    // A conversation with nothing to decrypt is served by the other deployment meanwhile.
    expect((await turn('cooling', [], 'fresh')).servedBy).toBe(other);
  });

  it('a failing origin does not fall back to a group that cannot decrypt the replay: the client gets the origin\'s error', async () => {
    const first = await turn('guarded', [], 'hello');
    const originFake = first.servedBy === 'guarded-a' ? a : b;
    const before = a.requests.length + b.requests.length;
    const broken = { kind: 'error' as const, status: 500, body: openaiError({ message: 'upstream broke', type: 'server_error' }) };
    originFake.enqueue(broken, broken);
    const failed = await refusal(turn('guarded', first.history, 'again'));
    expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
    expect(failed?.message).toContain('upstream broke');
    expect(failed?.headers?.get('x-litellm-attempted-fallbacks')).toBe('0');
    // The two attempts at the origin, and nothing sent to the fallback group's deployments.
    expect(a.requests.length + b.requests.length - before).toBe(2);
    // A conversation with nothing to decrypt still falls back as configured (the origin is cooling down now).
    const other = first.servedBy === 'guarded-a' ? b : a;
    other.enqueue(broken, broken);
    const { response } = await client.responses.create({ model: 'guarded', input: 'fresh', ...opts } as never).withResponse();
    expect(response.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
    // Both deployments cooling down now: the replay still waits for its origin (503) rather than falling back.
    const sent = a.requests.length + b.requests.length;
    const waiting = await refusal(turn('guarded', first.history, 'once more'));
    expect(waiting?.status).toBe(503);
    expect(waiting?.message).toContain('encrypted_content is cooling down');
    expect(a.requests.length + b.requests.length).toBe(sent);
  });
});
