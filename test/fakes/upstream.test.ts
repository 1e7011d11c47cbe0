/**
 * Tests of the fake upstream itself, through Node's fetch and the official
 * SDKs: if the real clients accept what it sends, the gateway's parsers are
 * being tested against the real wire format.
 */
import OpenAI, { AzureOpenAI, BadRequestError, RateLimitError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { azureContentFilterError, chatPromptTokens, embeddingVector, openaiChatChunks, openaiRateLimitError } from './openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './upstream.ts';

let upstream: FakeUpstream;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  client = new OpenAI({ apiKey: 'sk-test-fake', baseURL: `${upstream.url}/v1`, maxRetries: 0, timeout: 10_000 });
});
afterAll(() => upstream.close());
beforeEach(() => upstream.reset());

const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'hello  there world' },
];
// 3 + 3 words, 3 per message; the answer is "echo: hello there world".
const promptTokens = 3 + 3 + 2 * 3;

async function readAll(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

describe('echo over the OpenAI SDK', () => {
  it('answers a chat completion with deterministic content and usage, and records the request', async () => {
    expect(chatPromptTokens(messages)).toBe(promptTokens);
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, temperature: 0 });
    expect(res.object).toBe('chat.completion');
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.model).toBe('gpt-4o-mini');
    expect(res.choices[0]?.message).toEqual({ role: 'assistant', content: 'echo: hello there world', refusal: null, annotations: [] });
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: 4, total_tokens: promptTokens + 4 });
    expect(res.usage?.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0 });

    const [recorded] = upstream.requests;
    expect(recorded?.method).toBe('POST');
    expect(recorded?.path).toBe('/v1/chat/completions');
    expect(recorded?.headers.authorization).toBe('Bearer sk-test-fake');
    expect(recorded?.body).toMatchObject({ model: 'gpt-4o-mini', messages, temperature: 0 });
    expect(JSON.parse(recorded?.rawBody ?? '')).toEqual(recorded?.body);
  });

  it('cuts the answer at max_tokens with finish_reason length', async () => {
    const res = await client.chat.completions.create({ model: 'm', messages, max_tokens: 2 });
    expect(res.choices[0]?.message.content).toBe('echo: hello');
    expect(res.choices[0]?.finish_reason).toBe('length');
    expect(res.usage?.completion_tokens).toBe(2);
  });

  it('streams chat chunks without usage unless include_usage is asked for', async () => {
    const chunks = (await readAll(await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true }))) as OpenAI.ChatCompletionChunk[];
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('echo: hello there world');
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]?.id)).toBe(true);
  });

  it('streams a final usage chunk with choices [] and usage null elsewhere under include_usage', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    const chunks = (await readAll(stream)) as OpenAI.ChatCompletionChunk[];
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: 4, total_tokens: promptTokens + 4 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    // 1 role chunk + 4 pieces + 1 finish chunk + 1 usage chunk
    expect(chunks).toHaveLength(7);
  });

  it('decodes default (base64) embeddings to the deterministic vectors', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha beta', 'gamma'] });
    expect(upstream.requests[0]?.body).toMatchObject({ encoding_format: 'base64' });
    expect(res.data.map((d) => d.embedding)).toEqual([embeddingVector('alpha beta'), embeddingVector('gamma')]);
    expect(res.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });

    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha beta', encoding_format: 'float', dimensions: 4 });
    expect(floats.data[0]?.embedding).toEqual(embeddingVector('alpha beta', 4));
  });

  it('answers legacy text completions', async () => {
    const res = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'say this' });
    expect(res.object).toBe('text_completion');
    expect(res.choices[0]?.text).toBe('echo: say this');
    expect(res.usage).toEqual({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
  });
});

describe('Azure paths', () => {
  const azure = () => new AzureOpenAI({ endpoint: upstream.url, apiKey: 'azure-key', apiVersion: '2024-10-21', deployment: 'my-gpt4o', maxRetries: 0 });

  it('answers on /openai/deployments/{dep} with content-filter annotations', async () => {
    const res = await azure().chat.completions.create({ model: '', messages });
    const recorded = upstream.requests[0];
    expect(recorded?.path).toBe('/openai/deployments/my-gpt4o/chat/completions');
    expect(recorded?.query['api-version']).toBe('2024-10-21');
    expect(recorded?.headers['api-key']).toBe('azure-key');
    expect(res.choices[0]?.message.content).toBe('echo: hello there world');
    expect(res).toHaveProperty('prompt_filter_results');
    expect(res.choices[0]).toHaveProperty('content_filter_results');
  });

  it('opens an Azure stream with the empty prompt-filter chunk', async () => {
    const chunks = (await readAll(await azure().chat.completions.create({ model: '', messages, stream: true }))) as OpenAI.ChatCompletionChunk[];
    expect(chunks[0]).toMatchObject({ id: '', object: '', created: 0, model: '', choices: [] });
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('echo: hello there world');
  });

  it('delivers a queued content-filter error as a 400 with code content_filter', async () => {
    upstream.enqueue({ kind: 'error', status: 400, body: azureContentFilterError() });
    const err = await azure().chat.completions.create({ model: '', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe('content_filter');
  });
});

describe('scripted failures', () => {
  it('delivers a queued 429 with retry-after as RateLimitError, then falls back to echo', async () => {
    upstream.enqueue({ kind: 'error', status: 429, body: openaiRateLimitError('gpt-4o-mini', 7), headers: { 'retry-after': '7' } });
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const rate = err as RateLimitError;
    expect(rate.status).toBe(429);
    expect(rate.headers?.get('retry-after')).toBe('7');
    expect(rate.code).toBe('rate_limit_exceeded');

    const ok = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(ok.choices[0]?.message.content).toBe('echo: hello there world');
    expect(upstream.requests).toHaveLength(2);
  });

  it('hangs until the client aborts, and sees the abort', async () => {
    upstream.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    const pending = fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', body: '{}', signal: controller.signal });
    const [recorded] = await upstream.waitForRequests(1);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow(/abort/i);
    await recorded?.aborted;
    expect(recorded?.abortedEarly).toBe(true);
    expect(recorded?.finishedAt).toBeUndefined();
  });

  it('resets the connection', async () => {
    upstream.enqueue({ kind: 'reset' });
    await expect(fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', body: '{}' })).rejects.toThrow(TypeError);
    expect(upstream.requests[0]?.abortedEarly).toBe(false);
  });

  it('drops a stream midway: the SDK iterator throws after the events sent', async () => {
    const chunks = openaiChatChunks({ model: 'm', pieces: ['a', 'b', 'c'], promptTokens: 1, completionTokens: 3, includeUsage: false });
    upstream.enqueue({ kind: 'sse', events: [...chunks, '[DONE]'], dropAfter: 2 });
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
    const seen: OpenAI.ChatCompletionChunk[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) seen.push(chunk);
      })(),
    ).rejects.toThrow();
    expect(seen.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'a']);
    expect(upstream.requests[0]?.abortedEarly).toBe(false);
  });

  it('sends json with a delay and custom headers', async () => {
    upstream.enqueue({ kind: 'json', status: 201, body: { ok: true }, headers: { 'X-Extra': 'yes' }, delayMs: 100 });
    const started = Date.now();
    const res = await fetch(`${upstream.url}/anything?x=1`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-extra')).toBe('yes');
    expect(await res.json()).toEqual({ ok: true });
    expect(upstream.requests[0]).toMatchObject({ method: 'GET', path: '/anything', query: { x: '1' }, body: '' });
  });
});

describe('streaming timing', () => {
  it('delivers the first event before the last is sent', async () => {
    upstream.enqueue({ kind: 'sse', events: [{ n: 1 }, { n: 2 }, { n: 3 }, '[DONE]'], intervalMs: 200 });
    const res = await fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('content-length')).toBeNull();
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    const firstAt = Date.now();
    expect(decoder.decode(first.value)).toBe('data: {"n":1}\n\n');
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += decoder.decode(value, { stream: true });
    }
    const recorded = upstream.requests[0];
    expect(rest).toBe('data: {"n":2}\n\ndata: {"n":3}\n\ndata: [DONE]\n\n');
    expect(recorded?.finishedAt).toBeDefined();
    expect((recorded?.finishedAt ?? 0) - firstAt).toBeGreaterThanOrEqual(450);
  });

  it('resolves aborted when the client goes away mid-stream', async () => {
    upstream.enqueue({ kind: 'sse', events: [{ n: 1 }, { n: 2 }, '[DONE]'], intervalMs: 5_000 });
    const controller = new AbortController();
    const res = await fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', body: '{}', signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    const recorded = upstream.requests[0];
    await recorded?.aborted;
    expect(recorded?.abortedEarly).toBe(true);
  });

  it('close() ends hanging requests so nothing waits forever', async () => {
    const other = await startFakeUpstream({ default: { kind: 'hang' } });
    const pending = fetch(`${other.url}/v1/chat/completions`, { method: 'POST', body: '{}' }).then(
      () => 'answered',
      () => 'failed',
    );
    await other.waitForRequests(1);
    await other.close();
    expect(await pending).toBe('failed');
  });
});
