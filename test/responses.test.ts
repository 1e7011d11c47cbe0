import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { responseObject, responseStreamEvents, responsesUsage } from './fakes/openai-responses.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * `POST /v1/responses` (OpenAI's Responses API) with the official openai
 * client: passed through to a provider that speaks it, plain and streamed,
 * with the call counted like any other (spend-log row from the provider's
 * usage), and a clear 400 for bad input. A provider that speaks only chat is
 * served through it: responses-bridge.test.ts.
 */

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-upstream-responses-0001}
  - model_name: azure-4o
    litellm_params: {model: azure/my-gpt-4o-deployment, api_base: "${fake.url}", api_key: azure-upstream-0006}
  - model_name: codex
    litellm_params: {model: openai/gpt-5-codex, api_base: "${fake.url}/v1", api_key: sk-upstream-responses-0005}
    model_info: {mode: responses}
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

describe('/v1/responses', () => {
  it('passes a response through to the provider and records its usage', async () => {
    // The answer echoes the client's user and metadata after its usage, as OpenAI's does: neither may pass for it.
    fake.enqueue({ kind: 'json', body: { ...responseObject('gpt-4o-2024-08-06', 'Hello there!', responsesUsage(12, 3)), user: 'usage', metadata: { usage: '{"input_tokens":1}' } } });
    const { data, response } = await client.responses.create({
      model: 'gpt-4o', instructions: 'Be brief.', input: 'Say hello', max_output_tokens: 50, user: 'usage', metadata: { usage: '{"input_tokens":1}' },
      // @ts-expect-error LiteLLM's field for the gateway's own metadata on this API
      litellm_metadata: { tags: ['responses-test'] },
    }).withResponse();
    expect(data.output_text).toBe('Hello there!');
    expect(data.usage).toMatchObject({ input_tokens: 12, output_tokens: 3 });

    const [sent] = fake.requests;
    expect(sent!.path).toBe('/v1/responses');
    expect(sent!.headers.authorization).toBe('Bearer sk-upstream-responses-0001');
    // The request's own metadata is the provider's on this API (stored with the response); litellm_metadata is the gateway's.
    expect(sent!.body).toEqual({ model: 'gpt-4o', instructions: 'Be brief.', input: 'Say hello', max_output_tokens: 50, user: 'usage', metadata: { usage: '{"input_tokens":1}' } });

    const callId = response.headers.get('x-litellm-call-id') ?? '';
    expect(callId).not.toBe('');
    const row = await eventually(() => spendLogRow(stack.db.url, callId));
    expect(row).toMatchObject({ call_type: 'aresponses', model_group: 'gpt-4o', prompt_tokens: 12, completion_tokens: 3, status: 'success', request_tags: ['responses-test'] });
    expect(row.spend as number).toBeGreaterThan(0);
  });

  it('answers on LiteLLM\'s /openai/v1 form of the route too, and reads the stored response there', async () => {
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o-2024-08-06', 'Via openai/v1', responsesUsage(4, 2)) });
    const openaiV1 = new OpenAI({ baseURL: `${stack.url}/openai/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const created = await openaiV1.responses.create({ model: 'gpt-4o', input: 'hi' });
    expect(created.output_text).toBe('Via openai/v1');
    expect(fake.requests[0]!.path).toBe('/v1/responses');
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o-2024-08-06', 'Via openai/v1', responsesUsage(4, 2)) });
    const stored = await openaiV1.responses.retrieve(created.id);
    expect(stored.output_text).toBe('Via openai/v1');
    expect(fake.requests[1]!.path).toMatch(/^\/v1\/responses\/[^/]+$/);
  });

  it('streams the provider\'s events as they come (their response id aside: responses-stored.test.ts), and counts the usage of its response.completed', async () => {
    fake.enqueue({ kind: 'sse', events: responseStreamEvents('gpt-4o-2024-08-06', ['Hel', 'lo ', 'there'], responsesUsage(20, 5)), intervalMs: 5 });
    const { data: stream, response } = await client.responses.create({ model: 'gpt-4o', input: [{ role: 'user', content: 'Say hello' }], stream: true }).withResponse();
    const types: string[] = [];
    let text = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(text).toBe('Hello there');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(completed?.usage).toMatchObject({ input_tokens: 20, output_tokens: 5 });
    // Nothing added to the provider's request: the Responses API always reports usage when it streams.
    expect(fake.requests[0]!.body).toEqual({ model: 'gpt-4o', input: [{ role: 'user', content: 'Say hello' }], stream: true });

    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aresponses', prompt_tokens: 20, completion_tokens: 5, status: 'success' });
  });

  it('records a stream the provider ends with response.failed as a failure', async () => {
    const events = responseStreamEvents('gpt-4o-2024-08-06', ['Hel'], responsesUsage(20, 1));
    const failedResponse = { ...responseObject('gpt-4o-2024-08-06', '', responsesUsage(20, 1)), status: 'failed', error: { code: 'server_error', message: 'The model had an error' } };
    events[events.length - 1] = `event: response.failed\ndata: ${JSON.stringify({ type: 'response.failed', sequence_number: 99, response: failedResponse })}\n\n`;
    fake.enqueue({ kind: 'sse', events });
    const { data: stream, response } = await client.responses.create({ model: 'gpt-4o', input: 'Say hello', stream: true }).withResponse();
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe('response.failed');
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aresponses', status: 'failure', prompt_tokens: 20 });
  });

  it('refuses bad input with a 400 and no upstream call', async () => {
    const bad = await fetch(`${stack.url}/v1/responses`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', input: 42 }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { message: expect.stringContaining('input must be a string or a list of input items'), param: 'input' } });
    // background is true or false (responses-background.test.ts has the rest).
    const background = await fetch(`${stack.url}/v1/responses`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', input: 'hi', background: 'yes' }),
    });
    expect(background.status).toBe(400);
    expect(await background.json()).toMatchObject({ error: { message: expect.stringContaining('background must be true or false'), param: 'background' } });
    expect(fake.requests).toHaveLength(0);
  });

  it('has GET /health probe a Responses-only model through the Responses API', async () => {
    fake.enqueue({ kind: 'json', body: responseObject('gpt-5-codex', 'pong', responsesUsage(1, 1)) });
    const res = await fetch(`${stack.url}/health?model=codex`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(await res.json()).toMatchObject({ healthy_count: 1, unhealthy_count: 0 });
    expect(fake.requests.map((r) => [r.path, r.body])).toEqual([['/v1/responses', { model: 'gpt-5-codex', input: 'ping', max_output_tokens: 16 }]]);
  });

  it('calls Azure OpenAI\'s Responses API with its deployment as the model and an api-key header', async () => {
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'from azure', responsesUsage(4, 2)) });
    expect((await client.responses.create({ model: 'azure-4o', input: 'hi' })).output_text).toBe('from azure');
    const [sent] = fake.requests;
    expect([sent!.path, sent!.query['api-version'], sent!.headers['api-key'], sent!.headers.authorization]).toEqual(['/openai/responses', '2025-03-01-preview', 'azure-upstream-0006', undefined]);
    expect(sent!.body).toEqual({ model: 'my-gpt-4o-deployment', input: 'hi' });
  });
});
