import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { translateStream } from '../worker/providers/bedrock/openai-chunk-stream.ts';
import { googleError } from '../worker/providers/google/errors.ts';
import { toGeminiRequest } from '../worker/providers/google/gemini-request.ts';
import { geminiChoices, geminiResponseSchema, geminiUsage } from '../worker/providers/google/gemini-response.ts';
import { GeminiStreamTranslator } from '../worker/providers/google/gemini-stream.ts';
import { SseDecoder } from '../worker/providers/google/sse-decoder.ts';
import { geminiSse } from './fakes/google.ts';

const read = (name: string) => readFileSync(new URL(`./fixtures/vertex/${name}`, import.meta.url), 'utf8');
const json = (name: string) => JSON.parse(read(name)) as unknown;
const chunkLines = (name: string) => read(name).trim().split('\n');
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('OpenAI → Gemini request', () => {
  it('maps system, roles, images, function calls and responses, tools and generation settings', () => {
    expect(toGeminiRequest({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'What is here?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }, { type: 'image_url', image_url: { url: 'gs://bucket/doc.pdf' } }] },
        { role: 'assistant', content: null, tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ] },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        { role: 'tool', tool_call_id: 'call_2', content: '14:00' },
        { role: 'assistant', content: 'It is 18°C at 14:00.' },
        { role: 'user', content: 'Thanks' },
      ],
      max_tokens: 256, temperature: 0.4, top_p: 0.95, top_k: 40, stop: ['END'], n: 2, seed: 7, presence_penalty: 0.1, frequency_penalty: 0.2,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: {
        $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: false,
        properties: { city: { type: 'string', default: 'Paris' }, additionalProperties: { type: 'string' } }, required: ['city'],
      } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } } },
    })).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'What is here?' }, { inlineData: { mimeType: 'image/png', data: PNG } }, { fileData: { mimeType: 'application/pdf', fileUri: 'gs://bucket/doc.pdf' } }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: {} } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: '18°C' } } }, { functionResponse: { name: 'get_time', response: { content: '14:00' } } }] },
        { role: 'model', parts: [{ text: 'It is 18°C at 14:00.' }] },
        { role: 'user', parts: [{ text: 'Thanks' }] },
      ],
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parameters: {
        type: 'object', properties: { city: { type: 'string', default: 'Paris' }, additionalProperties: { type: 'string' } }, required: ['city'],
      } }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      generationConfig: {
        maxOutputTokens: 256, temperature: 0.4, topP: 0.95, topK: 40, stopSequences: ['END'], presencePenalty: 0.1, frequencyPenalty: 0.2, seed: 7,
        candidateCount: 2, responseMimeType: 'application/json', responseSchema: { type: 'object', properties: { a: { type: 'string' } } },
      },
    });
  });

  it('maps tool choices and json_object', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    const mode = (tool_choice: unknown) => toGeminiRequest({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice }).toolConfig;
    expect([mode('auto'), mode('none'), mode('required')]).toEqual([
      { functionCallingConfig: { mode: 'AUTO' } }, { functionCallingConfig: { mode: 'NONE' } }, { functionCallingConfig: { mode: 'ANY' } },
    ]);
    expect(toGeminiRequest({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_object' } }).generationConfig).toEqual({ responseMimeType: 'application/json' });
  });

  it('refuses a tool message that answers no call, and images it would have to fetch', () => {
    expect(() => toGeminiRequest({ messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] })).toThrow('tool message nope answers no tool call of an earlier assistant message');
    expect(() => toGeminiRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] }))
      .toThrow('Gemini takes images as base64 data URLs (data:image/png;base64,...) or gs:// URIs');
  });
});

describe('Gemini answer → OpenAI', () => {
  it('reads text and usage (cached tokens are part of the prompt count)', () => {
    const response = geminiResponseSchema.parse(json('generate-content-text.json'));
    expect(geminiChoices(response)).toEqual([{ message: { role: 'assistant', content: 'Paris is the capital of France.' }, finishReason: 'stop' }]);
    expect(geminiUsage(response.usageMetadata)).toEqual({ promptTokens: 1210, completionTokens: 8, cachedPromptTokens: 1024, cacheCreationTokens: 0, reported: true });
  });

  it('reads function calls as tool calls, thinking tokens as output', () => {
    const response = geminiResponseSchema.parse(json('generate-content-function-call.json'));
    const [choice] = geminiChoices(response);
    expect(choice?.finishReason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls?.map((c) => c.function)).toEqual([{ name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' }, { name: 'get_time', arguments: '{"zone":"CET"}' }]);
    expect(choice?.message.tool_calls?.every((c) => /^call_[0-9a-f]{24}$/.test(c.id))).toBe(true);
    expect(geminiUsage(response.usageMetadata)).toMatchObject({ promptTokens: 95, completionTokens: 59 });
  });

  it('reads the image tokens of an image model\'s usage by modality, for their own prices', () => {
    const usage = geminiResponseSchema.parse({
      usageMetadata: {
        promptTokenCount: 270, candidatesTokenCount: 1300, totalTokenCount: 1570,
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: 12 }, { modality: 'IMAGE', tokenCount: 258 }],
        candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: 10 }, { modality: 'IMAGE', tokenCount: 1290 }],
      },
    }).usageMetadata;
    expect(geminiUsage(usage)).toEqual({ promptTokens: 270, completionTokens: 1300, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true, imagePromptTokens: 258, imageCompletionTokens: 1290 });
  });

  it('maps safety blocks to content_filter, for the prompt and for an answer', () => {
    expect(geminiChoices(geminiResponseSchema.parse(json('generate-content-blocked.json')))).toEqual([{ message: { role: 'assistant', content: null }, finishReason: 'content_filter' }]);
    for (const reason of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT']) {
      expect(geminiChoices({ candidates: [{ finishReason: reason }] })).toEqual([{ message: { role: 'assistant', content: null }, finishReason: 'content_filter' }]);
    }
    expect(geminiChoices({ candidates: [{ content: { parts: [{ text: 'cut' }] }, finishReason: 'MAX_TOKENS' }] })[0]?.finishReason).toBe('length');
  });
});

describe('Gemini SSE decoding', () => {
  const wire = new TextEncoder().encode(geminiSse(chunkLines('stream-text.chunks.txt')).join(''));

  it('cuts events the same at every byte boundary (mid-event, mid-character, between \\r and \\n)', () => {
    const whole = new SseDecoder().push(wire);
    expect(whole).toEqual(chunkLines('stream-text.chunks.txt'));
    for (let size = 1; size <= 40; size++) {
      const decoder = new SseDecoder();
      const events: string[] = [];
      for (let i = 0; i < wire.length; i += size) events.push(...decoder.push(wire.subarray(i, i + size)));
      events.push(...decoder.end());
      expect(events).toEqual(whole);
    }
  });

  it('joins multi-line data, skips comments, and keeps a last event without its blank line', () => {
    const decoder = new SseDecoder();
    expect(decoder.push(new TextEncoder().encode(': keep-alive\n\ndata: {"a":\ndata: 1}\n\nevent: x\ndata: last'))).toEqual(['{"a":\n1}']);
    expect(decoder.end()).toEqual(['last']);
  });

  async function relay(lines: string[], size: number) {
    const bytes = new TextEncoder().encode(geminiSse(lines).join(''));
    let i = 0;
    const upstream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i >= bytes.length) return c.close();
        c.enqueue(bytes.slice(i, (i += size)));
      },
    });
    const { body, outcome } = translateStream(upstream, new SseDecoder(), new GeminiStreamTranslator('Gemini', 'gemini', []), {
      model: 'gemini-2.0-flash', clientWantsUsage: true, promptTokenEstimate: 3, keepText: true, label: 'Gemini', provider: 'gemini',
    });
    const events = (await new Response(body).text()).split('\n\n').filter(Boolean).map((e) => e.slice(6));
    return { events, chunks: events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e) as { choices: unknown[]; usage?: unknown }), outcome: await outcome };
  }

  it('translates a stream into the same chunks at any split', async () => {
    const whole = await relay(chunkLines('stream-text.chunks.txt'), 1 << 20);
    expect(whole.chunks.map((c) => ({ choices: c.choices, usage: c.usage }))).toEqual([
      { choices: [{ index: 0, delta: { role: 'assistant', content: 'Paris' }, logprobs: null, finish_reason: null }], usage: undefined },
      { choices: [{ index: 0, delta: { content: ' is the capital of France — ünïcode ✓' }, logprobs: null, finish_reason: null }], usage: undefined },
      { choices: [{ index: 0, delta: { content: '.' }, logprobs: null, finish_reason: null }], usage: undefined },
      { choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: undefined },
      { choices: [], usage: { prompt_tokens: 7, completion_tokens: 12, total_tokens: 19, prompt_tokens_details: { cached_tokens: 0 } } },
    ]);
    expect(whole.events.at(-1)).toBe('[DONE]');
    expect(whole.outcome).toMatchObject({ usage: { promptTokens: 7, completionTokens: 12, reported: true }, responseText: 'Paris is the capital of France — ünïcode ✓.' });
    for (const size of [1, 3, 17, 64]) expect((await relay(chunkLines('stream-text.chunks.txt'), size)).chunks.map((c) => c.choices)).toEqual(whole.chunks.map((c) => c.choices));
  });

  it('streams function calls as whole tool-call deltas in order, finishing with tool_calls', async () => {
    const { chunks } = await relay(chunkLines('stream-function-call.chunks.txt'), 9);
    const deltas = chunks.slice(0, -1).map((c) => c.choices[0] as { delta: { tool_calls?: { index: number; id: string; function: unknown }[] }; finish_reason: unknown });
    expect(deltas.map((d) => d.delta.tool_calls?.map((t) => ({ index: t.index, function: t.function })) ?? d.finish_reason)).toEqual([
      null,
      [{ index: 0, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      [{ index: 1, function: { name: 'get_time', arguments: '{"zone":"CET"}' } }],
      'tool_calls',
    ]);
  });

  it('ends with an error event when Google sends an error mid-stream', async () => {
    const { events, outcome } = await relay([chunkLines('stream-text.chunks.txt')[0]!, read('error-resource-exhausted.json').replace(/\n\s*/g, '')], 11);
    expect(JSON.parse(events.at(-1)!)).toEqual({
      error: {
        message: 'litellm.RateLimitError: GeminiException - Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.',
        type: 'rate_limit_error', param: null, code: '429',
      },
    });
    expect(outcome.error?.retryable).toBe(true);
  });
});

describe('Google errors', () => {
  const error = (status: number, name: string, message = 'boom') =>
    googleError(new Response(JSON.stringify({ error: { code: status, message, status: name } }), { status }), 'VertexAI', 'vertex_ai', ['ya29.secret-token']);

  it('map the canonical status name to LiteLLM\'s status and class', async () => {
    const cases: [number, string, number, string, boolean][] = [
      [429, 'RESOURCE_EXHAUSTED', 429, 'RateLimitError', true],
      [403, 'PERMISSION_DENIED', 403, 'PermissionDeniedError', false],
      [400, 'INVALID_ARGUMENT', 400, 'BadRequestError', false],
      [503, 'UNAVAILABLE', 503, 'ServiceUnavailableError', true],
      [401, 'UNAUTHENTICATED', 401, 'AuthenticationError', false],
    ];
    for (const [http, name, status, cls, retryable] of cases) {
      const err = await error(http, name, 'token ya29.secret-token refused');
      expect({ status: err.status, message: err.message, retryable: err.retryable }).toEqual({ status, message: `litellm.${cls}: VertexAIException - token [redacted] refused`, retryable });
    }
  });

  it('answer a bad AI Studio key (an INVALID_ARGUMENT) as an authentication error', async () => {
    const err = await googleError(new Response(JSON.stringify({ error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' } }), { status: 400 }), 'Gemini', 'gemini', []);
    expect([err.status, err.message]).toEqual([401, 'litellm.AuthenticationError: GeminiException - API key not valid. Please pass a valid API key.']);
  });
});
