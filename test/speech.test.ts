import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Behaviour, type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * `POST /v1/audio/speech` with the official openai client: the text sent to
 * OpenAI's or Azure OpenAI's speech endpoint, the audio passed back with its
 * type, and the call priced per character spoken.
 */

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

const AUDIO = Buffer.from([0xff, 0xf3, 0x44, 0xc4, 0x00, 0x01, 0x02, 0x03, 0x80, 0x7f]);
const audio = (type = 'audio/mpeg'): Behaviour => ({
  kind: 'handler',
  handle: (_req, res) => {
    res.writeHead(200, { 'content-type': type });
    res.end(AUDIO);
  },
});

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: tts
    litellm_params: {model: openai/tts-1, api_base: "${fake.url}/v1", api_key: sk-upstream-tts-0001}
    model_info: {mode: audio_speech, input_cost_per_character: 0.000015}
  - model_name: tts-quick
    litellm_params: {model: openai/tts-1, api_base: "${fake.url}/v1", api_key: sk-upstream-tts-0005, timeout: 1}
    model_info: {input_cost_per_character: 0.000015}
  - model_name: tts-hd
    litellm_params: {model: openai/tts-1-hd, api_base: "${fake.url}/v1", api_key: sk-upstream-tts-0004}
  - model_name: azure-tts
    litellm_params: {model: azure/my-tts, api_base: "${fake.url}", api_key: azure-tts-0002, api_version: "2025-03-01-preview", input_cost_per_character: 0.00003}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fake.url}", api_key: sk-ant-0003}
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

describe('/v1/audio/speech', () => {
  it('passes the audio back with its type and prices the characters spoken', async () => {
    fake.enqueue(audio());
    // `user` and `stream: false` are the gateway's here (OpenAI's speech API takes neither).
    const res = await client.audio.speech.create({ model: 'tts', input: 'Hello world', voice: 'alloy', response_format: 'mp3', speed: 1.25, ...{ user: 'end-user-1', stream: false } });
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(AUDIO);
    const [sent] = fake.requests;
    expect([sent!.path, sent!.headers.authorization]).toEqual(['/v1/audio/speech', 'Bearer sk-upstream-tts-0001']);
    expect(sent!.body).toEqual({ model: 'tts-1', input: 'Hello world', voice: 'alloy', response_format: 'mp3', speed: 1.25 });
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(11 * 0.000015, 12);
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aspeech', model_group: 'tts', prompt_tokens: 0, completion_tokens: 0, status: 'success' });
    expect(row.spend as number).toBeCloseTo(11 * 0.000015, 12);
  });

  it('prices a model the config does not price from the bundled price table (LiteLLM\'s)', async () => {
    fake.enqueue(audio());
    const res = await client.audio.speech.create({ model: 'tts-hd', input: 'Hello', voice: 'alloy' });
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(5 * 0.00003, 12);
  });

  it('streams the audio as the provider sends it: the first bytes reach the client before the provider has finished', async () => {
    let finished = 0;
    let release: () => void = () => undefined;
    const rest = new Promise<void>((resolve) => (release = resolve));
    fake.enqueue({
      kind: 'handler',
      handle: async (_req, res) => {
        res.writeHead(200, { 'content-type': 'audio/mpeg' });
        res.write(AUDIO.subarray(0, 4));
        await rest;
        finished = Date.now();
        res.end(AUDIO.subarray(4));
      },
    });
    const res = await client.audio.speech.create({ model: 'tts', input: 'Hello', voice: 'alloy' });
    // Headers and the price are there before the rest of the audio exists.
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(5 * 0.000015, 12);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!)).toEqual(AUDIO.subarray(0, 4));
    expect(finished).toBe(0);
    release();
    const chunks = [Buffer.from(first.value!)];
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(Buffer.from(next.value));
    expect(Buffer.concat(chunks)).toEqual(AUDIO);
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aspeech', status: 'success' });
    expect(row.spend as number).toBeCloseTo(5 * 0.000015, 12);
  });

  it('bounds the wait for the audio\'s first bytes by the timeout, not how long the rest takes to play', async () => {
    // The rest comes after more than the deployment's 1 s timeout: a client reading at playback pace gets it all.
    fake.enqueue({
      kind: 'handler',
      handle: async (_req, res) => {
        res.writeHead(200, { 'content-type': 'audio/mpeg' });
        res.write(AUDIO.subarray(0, 4));
        await new Promise((r) => setTimeout(r, 1_500));
        res.end(AUDIO.subarray(4));
      },
    });
    const res = await client.audio.speech.create({ model: 'tts-quick', input: 'Hello', voice: 'alloy' });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(AUDIO);
    // A provider whose first byte is later than that is cut off: a timeout.
    fake.enqueue({ kind: 'handler', handle: async (_req, res) => { res.writeHead(200, { 'content-type': 'audio/mpeg' }); await new Promise((r) => setTimeout(r, 2_500)); res.end(AUDIO); } });
    const late = await client.audio.speech.create({ model: 'tts-quick', input: 'Hello', voice: 'alloy' }, { headers: { 'x-litellm-num-retries': '0' } }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(OpenAI.APIError);
    expect((late as InstanceType<typeof OpenAI.APIError>).status).toBe(408);
  });

  it('records a speech the client stopped listening to, priced as a whole', async () => {
    fake.enqueue({
      kind: 'handler',
      handle: async (_req, res) => {
        res.writeHead(200, { 'content-type': 'audio/mpeg' });
        res.write(AUDIO.subarray(0, 4));
        await new Promise((r) => setTimeout(r, 500));
        res.end(AUDIO.subarray(4));
      },
    });
    const controller = new AbortController();
    const res = await client.audio.speech.create({ model: 'tts', input: 'Hello there', voice: 'alloy' }, { signal: controller.signal });
    await res.body!.getReader().read();
    controller.abort();
    // The text was spoken (the provider charges for it): the call is priced by its characters all the same.
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aspeech', status: 'success' });
    expect(row.spend as number).toBeCloseTo(11 * 0.000015, 12);
  });

  it('reaches Azure OpenAI\'s deployment path', async () => {
    fake.enqueue(audio('audio/wav'));
    const res = await client.audio.speech.create({ model: 'azure-tts', input: 'Hi', voice: 'nova', response_format: 'wav' });
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const [sent] = fake.requests;
    expect([sent!.path, sent!.query['api-version'], sent!.headers['api-key']]).toEqual(['/openai/deployments/my-tts/audio/speech', '2025-03-01-preview', 'azure-tts-0002']);
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(2 * 0.00003, 12);
  });

  it('refuses a provider without speech and a request without a voice, with no upstream call', async () => {
    const claude = await client.audio.speech.create({ model: 'claude', input: 'Hi', voice: 'alloy' }).catch((e: unknown) => e);
    expect(claude).toBeInstanceOf(OpenAI.BadRequestError);
    expect((claude as InstanceType<typeof OpenAI.APIError>).message).toContain('does not serve /audio/speech');
    const noVoice = await client.audio.speech.create({ model: 'tts', input: 'Hi' } as never).catch((e: unknown) => e);
    expect(noVoice).toBeInstanceOf(OpenAI.BadRequestError);
    expect((noVoice as InstanceType<typeof OpenAI.APIError>).message).toContain('voice is required');
    expect(fake.requests).toHaveLength(0);
  });

  it('has GET /health probe a speech model with a one-word phrase', async () => {
    fake.enqueue(audio());
    const res = await fetch(`${stack.url}/health?model=tts`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(await res.json()).toMatchObject({ healthy_count: 1, unhealthy_count: 0 });
    expect(fake.requests.map((r) => [r.path, r.body])).toEqual([['/v1/audio/speech', { model: 'tts-1', input: 'ping', voice: 'alloy' }]]);
  });
});
