import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeHelicone, startFakeHelicone } from './fakes/helicone.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { callbackModels } from './support/callback-config.ts';

// LiteLLM's `helicone` callback through the real stack: the admin Worker's callback consumer sends each successful
// call to a fake Helicone async log API on loopback (HELICONE_API_BASE), one request a call, as LiteLLM's
// HeliconeLogger fills it.

const HELICONE_API_KEY = 'sk-helicone-e2e-0123456789abcdef';
const UPSTREAM_KEY = 'sk-upstream-openai-helicone-0001';

let upstream: FakeUpstream;
let helicone: FakeHelicone;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  helicone = await startFakeHelicone({ apiKey: HELICONE_API_KEY });
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url).replace('router_settings:', `  - model_name: claude-haiku
    litellm_params: {model: openai/claude-3-5-haiku, api_base: "${upstream.url}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: llama
    litellm_params: {model: openai/llama-3-8b, api_base: "${upstream.url}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
router_settings:`)}litellm_settings:
  success_callback: ["helicone"]
`,
    env: { FAKE_OPENAI_KEY: UPSTREAM_KEY, HELICONE_API_KEY, HELICONE_API_BASE: helicone.url },
  });
});
afterAll(async () => {
  await stack?.stop();
  await helicone?.close();
  await upstream?.close();
});

type Json = Record<string, any>;
/** The logs of a call: the gateway's call id is the answer's id LiteLLM's logger sends. */
const logsOf = (id: string) => helicone.logs.filter((l) => l.body.providerResponse.json.id === id);

async function chat(model: string, content: string, options: { metadata?: Record<string, string>; headers?: Record<string, string> } = {}) {
  const apiKey = await seedKey(stack.db.url, { userId: 'user-helicone' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const body = { model, messages: [{ role: 'user', content }], ...(options.metadata ? { metadata: options.metadata } : {}) };
  const { data, response } = await client.chat.completions.create(body as never, { headers: options.headers }).withResponse();
  return { key: apiKey, data: data as OpenAI.Chat.Completions.ChatCompletion, callId: response.headers.get('x-litellm-call-id') ?? '' };
}
const logged = async (callId: string) => (await eventually(async () => (logsOf(callId).length ? logsOf(callId) : undefined)))[0]!;

describe('the helicone callback', () => {
  it('loads without a warning', () => {
    expect(stack.warnings.filter((w) => /helicone/i.test(w))).toEqual([]);
  });

  it('logs a call to /oai/v1/log as LiteLLM does: the model and messages, the answer, the timing, Helicone-* metadata as meta, the Bearer key', async () => {
    const before = Date.now() / 1000;
    // Helicone reads only Helicone-* headers, makes them with new Headers() (a bad name or value is its 500) and must
    // not be handed a caller's Helicone-Auth.
    // A caller's Helicone-Request-Id would name another's row: the call id names the request.
    const metadata = {
      'Helicone-User-Id': 'user-42', 'Helicone-Property-App': 'web', 'Helicone-Property-Two Words': 'x', 'Helicone-Property-Emoji': '😀', 'Helicone-Auth': 'Bearer sk-forged',
      'Helicone-Request-Id': '11111111-1111-4111-8111-111111111111', run_name: 'r',
    };
    const { key, data, callId } = await chat('gpt-4o', 'what is helicone?', { metadata });
    const log = await logged(callId);
    expect(log.path).toBe('/oai/v1/log');
    expect(log.headers.authorization).toBe(`Bearer ${HELICONE_API_KEY}`);
    expect(log.body.providerRequest).toEqual({
      url: 'https://api.openai.com/v1',
      json: { model: 'gpt-4o', messages: [{ role: 'user', content: 'what is helicone?' }] },
      meta: { 'Helicone-User-Id': 'user-42', 'Helicone-Property-App': 'web', 'Helicone-Request-Id': callId },
    });
    expect(callId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(log.body.providerResponse).toMatchObject({
      json: { id: callId, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: data.choices[0]!.message.content } }], usage: { total_tokens: data.usage!.total_tokens } },
      headers: { 'openai-version': '2020-10-01' },
      status: 200,
    });
    const { startTime, endTime } = log.body.timing;
    expect(startTime.seconds).toBeGreaterThanOrEqual(Math.floor(before) - 1);
    expect(endTime.seconds * 1000 + endTime.milliseconds).toBeGreaterThanOrEqual(startTime.seconds * 1000 + startTime.milliseconds);
    // No credential travels in a body: not Helicone's key, not the virtual key, not the provider's.
    for (const secret of [HELICONE_API_KEY, key, UPSTREAM_KEY]) expect(JSON.stringify(log.body)).not.toContain(secret);
  });

  it('logs a claude model at /anthropic/v1/log as Anthropic\'s message, and a model Helicone does not know as gpt-3.5-turbo', async () => {
    const claude = await chat('claude-haiku', 'hello claude');
    const log = await logged(claude.callId);
    expect(log.path).toBe('/anthropic/v1/log');
    expect(log.body.providerRequest).toMatchObject({ url: 'https://api.anthropic.com/v1/messages', json: { messages: [{ role: 'user', content: 'hello claude' }] } });
    expect(log.body.providerRequest.json.model).toContain('claude-3-5-haiku');
    expect(log.body.providerResponse.json).toMatchObject({
      type: 'message', role: 'assistant', content: [{ type: 'text', text: claude.data.choices[0]!.message.content }],
      usage: { input_tokens: claude.data.usage!.prompt_tokens, output_tokens: claude.data.usage!.completion_tokens },
    });
    const llama = await chat('llama', 'hello llama');
    const other = (await eventually(async () => {
      const found = helicone.logs.filter((l) => JSON.stringify(l.body.providerRequest.json.messages).includes('hello llama'));
      return found.length ? found : undefined;
    }))[0]!;
    expect(other.path).toBe('/oai/v1/log');
    expect(other.body.providerRequest.json.model).toBe('gpt-3.5-turbo');
    expect(other.body.providerResponse.json.id).toBe(llama.callId);
  });

  it('sends the redacted messages and answer of a call with message logging off, its Helicone-* metadata still', async () => {
    const { data, callId } = await chat('gpt-4o', 'a private question', { metadata: { 'Helicone-Session-Id': 'session-7' }, headers: { 'x-litellm-enable-message-redaction': 'true' } });
    const log = await logged(callId);
    expect(log.body.providerRequest.json.messages).toEqual([{ role: 'user', content: 'redacted-by-litellm' }]);
    expect(log.body.providerResponse.json.choices[0].message.content).toBe('redacted-by-litellm');
    expect(log.body.providerRequest.meta).toEqual({ 'Helicone-Session-Id': 'session-7', 'Helicone-Request-Id': callId });
    expect(JSON.stringify(log.body)).not.toContain('a private question');
    expect(JSON.stringify(log.body)).not.toContain(data.choices[0]!.message.content!);
  });

  it('logs no failed call (LiteLLM\'s Helicone logger logs successes only)', async () => {
    const before = helicone.logs.length;
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: await seedKey(stack.db.url, { userId: 'user-helicone-fail' }), maxRetries: 0 });
    expect(await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'never logged' }] }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.APIError);
    // The gateway queues no payload of a failed call for a success-only logger (successOnly): a call made after it,
    // once logged, shows nothing of the failure was sent before.
    await logged((await chat('gpt-4o', 'logged after the failure')).callId);
    expect(helicone.logs.slice(before).filter((l) => JSON.stringify(l.body).includes('never logged'))).toEqual([]);
  });

  it('sends again, once, what Helicone answered 500; the log line never quotes the key Helicone echoes', async () => {
    helicone.failNext(500, 1, { echo: true, match: 'during an outage' });
    const lines: string[] = [];
    const spies = (['error', 'warn', 'log', 'info'] as const).map((level) => vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.join(' '))));
    let callId: string;
    try {
      callId = (await chat('gpt-4o', 'during an outage')).callId;
      await logged(callId);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const text = lines.join('');
    expect(text).toMatch(/helicone callback: posting 1 payloads to \S+ failed, retrying: HTTP 500: .*refused by the test: Bearer \[redacted\]/);
    expect(text).not.toContain(HELICONE_API_KEY);
    // A call made after the retry, once logged, shows the consumer sent the first call no more than once more.
    await logged((await chat('gpt-4o', 'a later marker call')).callId);
    expect(logsOf(callId)).toHaveLength(1);
    expect(helicone.refused.at(-1)).toBe(500);
  });

  it('sends again a call Helicone answered 200 {"error": "Rate limited"}: it was not logged', async () => {
    helicone.errorNext('Rate limited');
    const { callId } = await chat('gpt-4o', 'while rate limited');
    expect((await logged(callId)).body.providerRequest.meta['Helicone-Request-Id']).toBe(callId);
    expect(helicone.erred).toContain('Rate limited');
  });

  it('is tested through /health/services, and never quotes the key Helicone echoes', async () => {
    const ask = () => fetch(`${stack.url}/health/services?service=helicone`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const before = helicone.logs.length;
    const res = await ask();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'success' });
    const test = helicone.logs.slice(before).find((l) => JSON.stringify(l.body).includes('This is a mock response'));
    expect(test?.body.providerRequest.json.messages).toEqual([{ role: 'user', content: 'Hey, how\'s it going?' }]);
    helicone.failNext(500, 1, { echo: true });
    const failed = await ask();
    const text = await failed.text();
    expect(failed.status).toBe(503);
    expect(text).toContain('Helicone did not take the test payload');
    expect(text).not.toContain(HELICONE_API_KEY);
    // Helicone's 200 with an error (a key it refuses) is no test payload sent either.
    helicone.errorNext(`Auth failed! Invalid key ${HELICONE_API_KEY}`);
    const erred = await ask();
    const erredText = await erred.text();
    expect(erred.status).toBe(503);
    expect(erredText).toMatch(/Helicone did not take the test payload .*HTTP 200 with an error, not logged: Auth failed! Invalid key \[redacted\]/);
    expect(erredText).not.toContain(HELICONE_API_KEY);
    expect(helicone.malformed).toEqual([]);
  });
});
