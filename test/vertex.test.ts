// Vertex AI through the official openai client: Gemini, its errors, Claude on Vertex, embeddings (its own API: vertex-pass-through.test.ts).
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { geminiSse } from './fakes/google.ts';
import { GEMINI_PATH, json, lines, pieces, read, useVertexStack } from './support/vertex-stack.ts';

const v = useVertexStack();

describe('Gemini on Vertex AI through the openai client', () => {
  it('gets an access token with a signed JWT, then calls generateContent with it', async () => {
    v.api.enqueue({ kind: 'json', body: json('generate-content-text.json') });
    const { data, response } = await v.client.chat.completions.create({
      model: 'gemini-vertex', messages: [{ role: 'system', content: 'One sentence.' }, { role: 'user', content: 'Capital of France?' }], max_tokens: 50,
    }).withResponse();
    expect(v.tokens.checks).toEqual([expect.objectContaining({ ok: true })]);
    expect(v.oauth.requests[0]).toMatchObject({ method: 'POST', path: '/token' });
    const [sent] = v.api.requests;
    expect(sent?.path).toBe(`${GEMINI_PATH}:generateContent`);
    expect(sent?.query).toEqual({});
    expect(sent?.headers).toMatchObject({ authorization: 'Bearer ya29.test-access-token-1', 'content-type': 'application/json' });
    expect(sent?.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Capital of France?' }] }],
      systemInstruction: { parts: [{ text: 'One sentence.' }] },
      generationConfig: { maxOutputTokens: 50 },
    });
    expect(data).toMatchObject({
      object: 'chat.completion', model: 'gemini-2.0-flash-001',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Paris is the capital of France.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1210, completion_tokens: 8, total_tokens: 1218, prompt_tokens_details: { cached_tokens: 1024 } },
    });
    expect(response.headers.get('x-litellm-model-api-base')).toBe(`${v.api.url}${GEMINI_PATH}:generateContent`);
  });

  it('reuses the access token on later calls', async () => {
    v.api.enqueue({ kind: 'json', body: json('generate-content-text.json') }, { kind: 'json', body: json('generate-content-text.json') });
    await v.client.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'a' }] });
    await v.client.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'b' }] });
    expect(v.tokens.issued).toEqual(['ya29.test-access-token-1']);
    expect(v.api.requests.map((r) => r.headers.authorization)).toEqual(['Bearer ya29.test-access-token-1', 'Bearer ya29.test-access-token-1']);
  });

  it('streams streamGenerateContent?alt=sse, events split mid-way, with usage when asked', async () => {
    v.api.enqueue({ kind: 'sse', events: pieces(geminiSse(lines('stream-text.chunks.txt')).join(''), 9) });
    const stream = await v.client.chat.completions.create({ model: 'gemini-vertex', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Capital?' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(v.api.requests[0]?.path).toBe(`${GEMINI_PATH}:streamGenerateContent`);
    expect(v.api.requests[0]?.query).toEqual({ alt: 'sse' });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Paris is the capital of France — ünïcode ✓.');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 12, total_tokens: 19 } });
  });

  it('sends tools and returns function calls as tool calls, then sends the results back', async () => {
    v.api.enqueue({ kind: 'json', body: json('generate-content-function-call.json') });
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false } } },
      { type: 'function', function: { name: 'get_time' } },
    ];
    const first = await v.client.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'Weather and time in Paris?' }], tools, tool_choice: 'required' });
    expect(v.api.requests[0]?.body).toMatchObject({
      tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }, { name: 'get_time' }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
    });
    const message = first.choices[0]!.message;
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(message.tool_calls?.map((c) => c.type === 'function' && c.function)).toEqual([
      { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' }, { name: 'get_time', arguments: '{"zone":"CET"}' },
    ]);
    expect(first.usage).toMatchObject({ completion_tokens: 59, completion_tokens_details: { reasoning_tokens: 37 } });

    v.api.enqueue({ kind: 'json', body: json('generate-content-text.json') });
    const [weather, time] = message.tool_calls!;
    await v.client.chat.completions.create({
      model: 'gemini-vertex', tools,
      messages: [{ role: 'user', content: 'Weather and time in Paris?' }, message, { role: 'tool', tool_call_id: weather!.id, content: '18°C' }, { role: 'tool', tool_call_id: time!.id, content: '14:00' }],
    });
    expect((v.api.requests[1]?.body as { contents: unknown }).contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather and time in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris', unit: 'celsius' } } }, { functionCall: { name: 'get_time', args: { zone: 'CET' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: '18°C' } } }, { functionResponse: { name: 'get_time', response: { content: '14:00' } } }] },
    ]);
  });

  it('streams function calls that the SDK reassembles', async () => {
    v.api.enqueue({ kind: 'sse', events: pieces(geminiSse(lines('stream-function-call.chunks.txt')).join(''), 13) });
    const final = await v.client.chat.completions.stream({
      model: 'gemini-vertex', messages: [{ role: 'user', content: 'Weather and time?' }],
      tools: [{ type: 'function', function: { name: 'get_weather' } }, { type: 'function', function: { name: 'get_time' } }],
    }).finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.content).toBe('Checking both.');
    expect(final.choices[0]?.message.tool_calls?.map((c) => c.type === 'function' && c.function)).toEqual([
      { name: 'get_weather', arguments: '{"city":"Paris"}' }, { name: 'get_time', arguments: '{"zone":"CET"}' },
    ]);
  });

  it('maps a blocked prompt to content_filter', async () => {
    v.api.enqueue({ kind: 'json', body: json('generate-content-blocked.json') });
    const data = await v.client.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'x' }] });
    expect(data.choices).toEqual([{ index: 0, message: { role: 'assistant', content: null }, logprobs: null, finish_reason: 'content_filter' }]);
  });
});

describe('Vertex AI errors', () => {
  it('RESOURCE_EXHAUSTED is a retryable 429', async () => {
    v.api.enqueue({ kind: 'error', status: 429, body: json('error-resource-exhausted.json') });
    const err = await v.client.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).message).toContain('litellm.RateLimitError: VertexAIException - Resource exhausted.');
  });

  it('a service account key the token endpoint cannot verify is a 401, and Vertex is never called', async () => {
    v.oauth.enqueue(v.strangerTokens.behaviour);
    const err = await v.client.chat.completions.create({ model: 'wrong-key', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(v.strangerTokens.checks).toEqual([{ ok: false, reason: 'Invalid JWT Signature.' }]);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).toContain('litellm.AuthenticationError: VertexAIException - could not get an access token: invalid_grant: Invalid JWT Signature.');
    expect(v.api.requests).toHaveLength(0);
  });
});

describe('Claude on Vertex AI', () => {
  const CLAUDE_PATH = '/v1/projects/tollgate-test-project/locations/us-east5/publishers/anthropic/models/claude-3-5-sonnet-v2@20241022';

  it('posts the Messages body with Vertex\'s anthropic_version to :rawPredict', async () => {
    v.api.enqueue({ kind: 'json', body: json('claude-message.json') });
    const data = await v.client.chat.completions.create({
      model: 'claude-vertex', max_tokens: 200, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Capital of France?' }],
    });
    const [sent] = v.api.requests;
    expect(sent?.path).toBe(`${CLAUDE_PATH}:rawPredict`);
    expect(sent?.headers.authorization).toBe('Bearer ya29.test-access-token-1');
    expect(sent?.body).toEqual({
      anthropic_version: 'vertex-2023-10-16',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Capital of France?' }] }],
      system: [{ type: 'text', text: 'Be brief.' }],
      max_tokens: 200,
    });
    expect(data.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Paris is the capital of France.' }, finish_reason: 'stop' });
    expect(data.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 9 });
  });

  it('streams from :streamRawPredict', async () => {
    v.api.enqueue({ kind: 'sse', events: pieces(read('claude-stream.sse.txt'), 11) });
    const stream = await v.client.chat.completions.create({ model: 'claude-vertex', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Capital?' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(v.api.requests[0]?.path).toBe(`${CLAUDE_PATH}:streamRawPredict`);
    expect(v.api.requests[0]?.body).toMatchObject({ anthropic_version: 'vertex-2023-10-16', stream: true });
    expect((v.api.requests[0]?.body as Record<string, unknown>).model).toBeUndefined();
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Paris is the capital of France.');
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 9 });
  });
});

describe('Vertex AI embeddings', () => {
  it('call :predict with one instance per text, project from the key, location us-central1', async () => {
    v.api.enqueue({ kind: 'json', body: json('predict-embeddings.json') });
    const data = await v.client.embeddings.create({ model: 'vertex-embed', input: ['hello', 'hello world'], dimensions: 3 });
    const [sent] = v.api.requests;
    expect(sent?.path).toBe('/v1/projects/tollgate-test-project/locations/us-central1/publishers/google/models/text-embedding-005:predict');
    expect(sent?.body).toEqual({ instances: [{ content: 'hello' }, { content: 'hello world' }], parameters: { outputDimensionality: 3 } });
    expect(data.data.map((d) => [...d.embedding])).toEqual([[0.0125, -0.25, 0.5].map(Math.fround), [0.75, 0.125, -0.0625]]);
    expect(data.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
  });
});
