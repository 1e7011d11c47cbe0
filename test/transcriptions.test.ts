import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * `POST /v1/audio/transcriptions` with the official openai client: the
 * audio and its fields sent on as multipart/form-data to OpenAI's or Azure
 * OpenAI's transcription endpoint, the answer in the format asked for, and
 * the call priced per second of audio (whisper) or per token
 * (gpt-4o-transcribe).
 */

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

const AUDIO = Buffer.from('RIFF fake wav bytes for the test');

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: whisper
    litellm_params: {model: openai/whisper-1, api_base: "${fake.url}/v1", api_key: sk-upstream-stt-0001}
    model_info: {mode: audio_transcription, input_cost_per_second: 0.0001}
  - model_name: gpt-4o-transcribe
    litellm_params: {model: openai/gpt-4o-transcribe, api_base: "${fake.url}/v1", api_key: sk-upstream-stt-0002, input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001}
  - model_name: azure-whisper
    litellm_params: {model: azure/my-whisper, api_base: "${fake.url}", api_key: azure-stt-0003, api_version: "2024-06-01", input_cost_per_second: 0.0002}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fake.url}", api_key: sk-ant-0004}
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

/** The value of one field of a multipart body as the fake recorded it. */
const field = (raw: string, name: string) => new RegExp(`name="${name.replace(/[[\]]/g, '\\$&')}"(?:; filename="[^"]*")?\\r\\n(?:[^\\r\\n]+\\r\\n)*\\r\\n([^\\r]*)`).exec(raw)?.[1];

describe('/v1/audio/transcriptions', () => {
  it('sends whisper the audio as a form, asks for verbose_json to price its seconds, and answers the json asked for', async () => {
    fake.enqueue({ kind: 'json', body: { task: 'transcribe', language: 'english', duration: 12.5, text: 'hello world', segments: [] } });
    const { data, response } = await client.audio.transcriptions.create({ model: 'whisper', file: await toFile(AUDIO, 'hello.wav', { type: 'audio/wav' }), language: 'en', temperature: 0.2 }).withResponse();
    expect(data).toEqual({ text: 'hello world' });
    const [sent] = fake.requests;
    expect([sent!.path, sent!.headers.authorization]).toEqual(['/v1/audio/transcriptions', 'Bearer sk-upstream-stt-0001']);
    expect(sent!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect([field(sent!.rawBody, 'model'), field(sent!.rawBody, 'language'), field(sent!.rawBody, 'temperature'), field(sent!.rawBody, 'response_format')]).toEqual(['whisper-1', 'en', '0.2', 'verbose_json']);
    expect(sent!.rawBody).toContain('filename="hello.wav"');
    expect(sent!.rawBody).toContain(AUDIO.toString());
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'atranscription', model_group: 'whisper', status: 'success' });
    expect(row.spend as number).toBeCloseTo(12.5 * 0.0001, 12);
  });

  it('prices gpt-4o-transcribe by its tokens, its answer as it came', async () => {
    const usage = { type: 'tokens', input_tokens: 120, output_tokens: 8, total_tokens: 128, input_token_details: { text_tokens: 0, audio_tokens: 120 } };
    fake.enqueue({ kind: 'json', body: { text: 'bonjour', usage } });
    const { data, response } = await client.audio.transcriptions.create({ model: 'gpt-4o-transcribe', file: await toFile(AUDIO, 'fr.mp3') }).withResponse();
    expect(data).toEqual({ text: 'bonjour', usage });
    expect(field(fake.requests[0]!.rawBody, 'response_format')).toBeUndefined();
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ prompt_tokens: 120, completion_tokens: 8 });
    expect(row.spend as number).toBeCloseTo(120 * 0.0000025 + 8 * 0.00001, 12);

  });

  it('makes subtitles and plain text from the verbose_json it asks whisper for, so every format is priced', async () => {
    const verbose = { task: 'transcribe', language: 'english', duration: 4.2, text: 'Hello there. General Kenobi.', segments: [{ id: 0, start: 0, end: 1.5, text: ' Hello there.' }, { id: 1, start: 1.5, end: 4.2, text: ' General Kenobi.' }] };
    fake.enqueue({ kind: 'json', body: verbose });
    const { data: srt, response } = await client.audio.transcriptions.create({ model: 'whisper', file: await toFile(AUDIO, 'a.wav'), response_format: 'srt' }).withResponse();
    // As whisper's own writers make them (and OpenAI answers): a blank line after every cue.
    expect(srt).toBe('1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n00:00:01,500 --> 00:00:04,200\nGeneral Kenobi.\n\n');
    expect(field(fake.requests[0]!.rawBody, 'response_format')).toBe('verbose_json');
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row.spend as number).toBeCloseTo(4.2 * 0.0001, 12);

    fake.enqueue({ kind: 'json', body: verbose });
    const vtt = await client.audio.transcriptions.create({ model: 'whisper', file: await toFile(AUDIO, 'a.wav'), response_format: 'vtt' });
    expect(vtt).toBe('WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n00:00:01.500 --> 00:00:04.200\nGeneral Kenobi.\n\n');
    fake.enqueue({ kind: 'json', body: verbose });
    expect(await client.audio.transcriptions.create({ model: 'whisper', file: await toFile(AUDIO, 'a.wav'), response_format: 'text' })).toBe('Hello there. General Kenobi.\n');
  });

  it('reads the SDKs\' nested fields and keeps user and stream: false to itself', async () => {
    fake.enqueue({ kind: 'json', body: { text: 'ok', usage: { type: 'tokens', input_tokens: 10, output_tokens: 1, total_tokens: 11 } } });
    const form = new FormData();
    form.append('model', 'gpt-4o-transcribe');
    form.append('file', new File([AUDIO], 'a.wav', { type: 'audio/wav' }));
    form.append('chunking_strategy[type]', 'server_vad');
    form.append('timestamp_granularities[]', 'word');
    form.append('user', 'end-user-7');
    form.append('stream', 'false');
    const res = await fetch(`${stack.url}/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` }, body: form });
    expect(res.status).toBe(200);
    const raw = fake.requests[0]!.rawBody;
    expect([field(raw, 'chunking_strategy[type]'), field(raw, 'timestamp_granularities[]'), field(raw, 'user'), field(raw, 'stream')]).toEqual(['server_vad', 'word', undefined, undefined]);
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ end_user: 'end-user-7' });
  });

  it('reaches Azure OpenAI\'s deployment path', async () => {
    fake.enqueue({ kind: 'json', body: { task: 'transcribe', language: 'english', duration: 3, text: 'hi' } });
    const { data, response } = await client.audio.transcriptions.create({ model: 'azure-whisper', file: await toFile(AUDIO, 'a.wav') }).withResponse();
    expect(data).toEqual({ text: 'hi' });
    const [sent] = fake.requests;
    expect([sent!.path, sent!.query['api-version'], sent!.headers['api-key']]).toEqual(['/openai/deployments/my-whisper/audio/transcriptions', '2024-06-01', 'azure-stt-0003']);
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeCloseTo(3 * 0.0002, 12);
  });

  it('refuses a JSON body, a form without a file and a provider without transcriptions, with no upstream call', async () => {
    const json = await fetch(`${stack.url}/v1/audio/transcriptions`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'whisper' }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: { message: string } }).error.message).toContain('multipart/form-data');
    const form = new FormData();
    form.append('model', 'whisper');
    const noFile = await fetch(`${stack.url}/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` }, body: form });
    expect(noFile.status).toBe(400);
    expect(((await noFile.json()) as { error: { message: string } }).error.message).toContain('file is required');
    const claude = await client.audio.transcriptions.create({ model: 'claude', file: await toFile(AUDIO, 'a.wav') }).catch((e: unknown) => e);
    expect(claude).toBeInstanceOf(OpenAI.BadRequestError);
    expect((claude as InstanceType<typeof OpenAI.APIError>).message).toContain('does not serve /audio/transcriptions');
    expect(fake.requests).toHaveLength(0);
  });

  it('has GET /health probe a transcription model with a tenth of a second of silence', async () => {
    fake.enqueue({ kind: 'json', body: { task: 'transcribe', language: 'english', duration: 0.1, text: '' } });
    const res = await fetch(`${stack.url}/health?model=whisper`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(await res.json()).toMatchObject({ healthy_count: 1, unhealthy_count: 0 });
    const [probe] = fake.requests;
    expect(probe!.path).toBe('/v1/audio/transcriptions');
    expect(probe!.rawBody).toContain('filename="ping.wav"');
  });
});
