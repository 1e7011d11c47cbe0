// Bedrock through the openai client: signed Converse and ConverseStream, tools, credentials, errors.
// Embeddings (Titan, Cohere) are in bedrock-embeddings.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { concatBytes, exceptionFrame, fixtureFrames } from './fakes/aws-eventstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { CLAUDE, CLAUDE_PATH, CONFIGURED, fixture, useBedrockStack } from './support/bedrock-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

type StreamFixture = Parameters<typeof fixtureFrames>[0];

const b = useBedrockStack();

describe('Bedrock Converse through the openai client', () => {
  it('sends a signed Converse request and answers in OpenAI\'s format, cache tokens counted', async () => {
    b.fake.enqueue(b.useast.reply({ kind: 'json', body: fixture('converse-text.json') }));
    const { data, response } = await b.client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'system', content: 'Answer in one sentence.' }, { role: 'user', content: 'Capital of France?' }],
      max_tokens: 100,
      temperature: 0.3,
    }).withResponse();
    expect(b.useast.checks).toEqual([{ ok: true }]);
    const [sent] = b.fake.requests;
    expect(sent?.path).toBe(`${CLAUDE_PATH}/converse`);
    expect(sent?.query).toEqual({});
    expect(sent?.headers).toMatchObject({
      'content-type': 'application/json',
      accept: 'application/json',
      'x-amz-security-token': CONFIGURED.sessionToken,
      host: new URL(b.fake.url).host,
    });
    expect(sent?.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(sent?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIATESTCONFIGURED01\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=accept;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    expect(sent?.body).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Capital of France?' }] }],
      system: [{ text: 'Answer in one sentence.' }],
      inferenceConfig: { maxTokens: 100, temperature: 0.3 },
    });
    expect(data).toMatchObject({
      object: 'chat.completion',
      model: CLAUDE,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Paris is the capital of France.' }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 1321, completion_tokens: 9, total_tokens: 1330, prompt_tokens_details: { cached_tokens: 1200 },
        cache_read_input_tokens: 1200, cache_creation_input_tokens: 100,
      },
    });
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(response.headers.get('x-litellm-model-api-base')).toBe(`${b.fake.url}${CLAUDE_PATH}/converse`);
    // Claude 3.5 Sonnet: $3 / 1M input, $0.30 / 1M cache reads, $3.75 / 1M cache writes, $15 / 1M output.
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeCloseTo(21 * 3e-6 + 1200 * 3e-7 + 100 * 3.75e-6 + 9 * 1.5e-5, 12);
    const row = await eventually(() => spendLogRow(b.stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ prompt_tokens: 1321, completion_tokens: 9, custom_llm_provider: 'bedrock' });
  });

  it('streams ConverseStream frames split mid-frame as OpenAI chunks, with usage when asked', async () => {
    b.fake.enqueue(b.useast.reply({ kind: 'eventstream', frames: fixtureFrames(fixture<StreamFixture>('converse-stream-text.json')), pieceBytes: 5 }));
    const stream = await b.client.chat.completions.create({
      model: 'claude', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Capital of France?' }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(b.useast.checks).toEqual([{ ok: true }]);
    expect(b.fake.requests[0]?.path).toBe(`${CLAUDE_PATH}/converse-stream`);
    expect(b.fake.requests[0]?.headers.accept).toBe('application/vnd.amazon.eventstream');
    expect(b.fake.requests[0]?.body).toEqual({ messages: [{ role: 'user', content: [{ text: 'Capital of France?' }] }] });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Paris is the capital of France — ünïcode ✓.');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 } });
  });

  it('hides the usage chunk from a b.client that did not ask', async () => {
    b.fake.enqueue(b.useast.reply({ kind: 'eventstream', frames: fixtureFrames(fixture<StreamFixture>('converse-stream-text.json')) }));
    const stream = await b.client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
  });

  it('calls tools and sends their results back as toolResult blocks', async () => {
    b.fake.enqueue(b.useast.reply({ kind: 'json', body: fixture('converse-tool-use.json') }));
    const tools: OpenAI.ChatCompletionTool[] = [{
      type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } },
    }];
    const first = await b.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'auto' });
    expect(first.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { content: 'I\'ll look up the weather in Paris.', tool_calls: [{ id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } }] },
    });
    expect((b.fake.requests[0]?.body as { toolConfig: unknown }).toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'get_weather', description: 'Weather in a city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } } } }],
      toolChoice: { auto: {} },
    });

    b.fake.enqueue(b.useast.reply({ kind: 'json', body: fixture('converse-text.json') }));
    await b.client.chat.completions.create({
      model: 'claude', tools,
      messages: [{ role: 'user', content: 'Weather in Paris?' }, first.choices[0]!.message, { role: 'tool', tool_call_id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', content: '{"temp": 18}' }],
    });
    expect((b.fake.requests[1]?.body as { messages: unknown }).messages).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ text: 'I\'ll look up the weather in Paris.' }, { toolUse: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', content: [{ text: '{"temp": 18}' }] } }] },
    ]);
    expect(b.useast.checks).toEqual([{ ok: true }, { ok: true }]);
  });

  it('streams tool calls that the SDK reassembles', async () => {
    b.fake.enqueue(b.useast.reply({ kind: 'eventstream', frames: fixtureFrames(fixture<StreamFixture>('converse-stream-tool-use.json')), pieceBytes: 13 }));
    const stream = b.client.chat.completions.stream({
      model: 'claude', messages: [{ role: 'user', content: 'Weather and time in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather' } }, { type: 'function', function: { name: 'get_time' } }],
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.tool_calls).toEqual([
      { id: 'tooluse_weather01', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } },
      { id: 'tooluse_time02', type: 'function', function: { name: 'get_time', arguments: '{"zone": "CET"}' } },
    ]);
  });

  it('signs with credentials from the environment, for the deployment\'s region', async () => {
    b.fake.enqueue(b.euwest.reply({ kind: 'json', body: fixture('converse-text.json') }));
    await b.client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'hi' }] });
    expect(b.euwest.checks).toEqual([{ ok: true }]);
    expect(b.fake.requests[0]?.path).toBe('/model/meta.llama3-1-70b-instruct-v1%3A0/converse');
    expect(b.fake.requests[0]?.headers['x-amz-security-token']).toBeUndefined();
  });
});

describe('Bedrock errors', () => {
  it('a wrong signature is refused by the b.fake and answered as a 403', async () => {
    b.fake.enqueue(b.useast.reply({ kind: 'json', body: fixture('converse-text.json') }));
    const err = await b.client.chat.completions.create({ model: 'wrong-secret', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(b.useast.checks).toEqual([{ ok: false, reason: 'signature mismatch' }]);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('litellm.PermissionDeniedError: BedrockException - The request signature we calculated does not match');
  });

  it('throttling is a 429 that keeps retry-after', async () => {
    b.fake.enqueue(b.useast.reply({ kind: 'error', status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.', headers: { 'retry-after': '2' } }));
    const res = await fetch(`${b.stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toEqual({
      error: { message: 'litellm.RateLimitError: BedrockException - Too many requests, please wait before trying again.', type: 'rate_limit_error', param: null, code: '429' },
    });
  });

  it('a validation error is a 400', async () => {
    b.fake.enqueue(b.useast.reply({ kind: 'error', status: 400, type: 'ValidationException', message: 'The model returned the following errors: messages: text content blocks must be non-empty' }));
    const err = await b.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('an exception mid-stream ends the stream with an error event', async () => {
    const frames = fixtureFrames(fixture<StreamFixture>('converse-stream-text.json')).slice(0, 2);
    b.fake.enqueue(b.useast.reply({ kind: 'eventstream', frames: [...frames, exceptionFrame('modelStreamErrorException', 'The model stream failed.')] }));
    const stream = await b.client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const err = await (async () => {
      for await (const chunk of stream) void chunk;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain('litellm.InternalServerError: BedrockException - The model stream failed.');
  });
});

describe('/bedrock: Bedrock\'s own API, passed through', () => {
  it('signs the client\'s Converse request with the deployment\'s credentials (the group\'s model in the path) and bills its usage', async () => {
    b.fake.enqueue(b.useast.reply({ kind: 'json', body: fixture('converse-text.json') }));
    const body = { messages: [{ role: 'user', content: [{ text: 'Capital of France?' }] }], inferenceConfig: { maxTokens: 100 } };
    const res = await fetch(`${b.stack.url}/bedrock/model/claude/converse`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json', 'x-amz-security-token': 'client-token' }, body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(fixture('converse-text.json'));
    expect(b.useast.checks).toEqual([{ ok: true }]);
    const [sent] = b.fake.requests;
    expect(sent?.path).toBe(`${CLAUDE_PATH}/converse`);
    expect(sent?.headers['x-amz-security-token']).toBe(CONFIGURED.sessionToken);
    expect(sent?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIATESTCONFIGURED01\//);
    expect(JSON.stringify(sent)).not.toContain(TEST_MASTER_KEY);
    expect(sent?.body).toEqual(body);
    const row = await eventually(() => spendLogRow(b.stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', model_group: 'claude', custom_llm_provider: 'bedrock', prompt_tokens: 1321, completion_tokens: 9 });
    expect(Number(row.spend)).toBeCloseTo(21 * 3e-6 + 1200 * 3e-7 + 100 * 3.75e-6 + 9 * 1.5e-5, 12);
  });

  it('passes a ConverseStream through byte for byte, reading the usage of its metadata frame', async () => {
    const frames = fixtureFrames(fixture<StreamFixture>('converse-stream-text.json'));
    b.fake.enqueue(b.useast.reply({ kind: 'eventstream', frames, pieceBytes: 7 }));
    const res = await fetch(`${b.stack.url}/bedrock${CLAUDE_PATH}/converse-stream`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'x' }] }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(concatBytes(frames));
    expect(b.useast.checks).toEqual([{ ok: true }]);
    const row = await eventually(() => spendLogRow(b.stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'pass_through_endpoint', prompt_tokens: 21, completion_tokens: 9 });
    expect(row.metadata).not.toMatchObject({ usage_estimated: true });
  });
});
