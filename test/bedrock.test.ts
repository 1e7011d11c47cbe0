import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exceptionFrame, fixtureFrames } from './fakes/aws-eventstream.ts';
import { signedBedrock } from './fakes/bedrock.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

const fixture = <T = unknown>(name: string) => JSON.parse(readFileSync(new URL(`./fixtures/bedrock/${name}`, import.meta.url), 'utf8')) as T;
type StreamFixture = Parameters<typeof fixtureFrames>[0];

const CONFIGURED = { accessKeyId: 'AKIATESTCONFIGURED01', secretAccessKey: 'configured/Secret+0123456789abcdefghijkl', sessionToken: 'IQoJb3JpZ2luX2VjETESTsession/token+==' };
const FROM_ENV = { accessKeyId: 'AKIATESTFROMENV00001', secretAccessKey: 'env/Secret+abcdefghijklmnop0123456789' };
const CLAUDE = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const CLAUDE_PATH = '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0';

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;
const useast = signedBedrock(CONFIGURED, 'us-east-1');
const euwest = signedBedrock(FROM_ENV, 'eu-west-1');

const config = (upstream: string) => `
model_list:
  - model_name: claude
    litellm_params:
      model: "bedrock/${CLAUDE}"
      api_base: "${upstream}"
      aws_access_key_id: os.environ/TEST_AWS_KEY_ID
      aws_secret_access_key: os.environ/TEST_AWS_SECRET
      aws_session_token: os.environ/TEST_AWS_SESSION
      aws_region_name: us-east-1
  - model_name: llama
    litellm_params: {model: "bedrock/converse/meta.llama3-1-70b-instruct-v1:0", api_base: "${upstream}", aws_region_name: eu-west-1}
  - model_name: wrong-secret
    litellm_params: {model: "bedrock/${CLAUDE}", api_base: "${upstream}", aws_access_key_id: ${CONFIGURED.accessKeyId}, aws_secret_access_key: not-the-secret-at-all-0000, aws_session_token: os.environ/TEST_AWS_SESSION, aws_region_name: us-east-1}
  - model_name: titan
    litellm_params: {model: "bedrock/amazon.titan-embed-text-v2:0", api_base: "${upstream}", aws_region_name: eu-west-1}
  - model_name: cohere
    litellm_params: {model: "bedrock/cohere.embed-english-v3", api_base: "${upstream}", aws_region_name: eu-west-1}
`;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: config(fake.url),
    env: {
      TEST_AWS_KEY_ID: CONFIGURED.accessKeyId, TEST_AWS_SECRET: CONFIGURED.secretAccessKey, TEST_AWS_SESSION: CONFIGURED.sessionToken,
      AWS_ACCESS_KEY_ID: FROM_ENV.accessKeyId, AWS_SECRET_ACCESS_KEY: FROM_ENV.secretAccessKey,
    },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
  useast.checks.length = 0;
  euwest.checks.length = 0;
});

describe('Bedrock Converse through the openai client', () => {
  it('sends a signed Converse request and answers in OpenAI\'s format, cache tokens counted', async () => {
    fake.enqueue(useast.reply({ kind: 'json', body: fixture('converse-text.json') }));
    const { data, response } = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'system', content: 'Answer in one sentence.' }, { role: 'user', content: 'Capital of France?' }],
      max_tokens: 100,
      temperature: 0.3,
    }).withResponse();
    expect(useast.checks).toEqual([{ ok: true }]);
    const [sent] = fake.requests;
    expect(sent?.path).toBe(`${CLAUDE_PATH}/converse`);
    expect(sent?.query).toEqual({});
    expect(sent?.headers).toMatchObject({
      'content-type': 'application/json',
      accept: 'application/json',
      'x-amz-security-token': CONFIGURED.sessionToken,
      host: new URL(fake.url).host,
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
    expect(response.headers.get('x-litellm-model-api-base')).toBe(`${fake.url}${CLAUDE_PATH}/converse`);
    // Claude 3.5 Sonnet: $3 / 1M input, $0.30 / 1M cache reads, $3.75 / 1M cache writes, $15 / 1M output.
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeCloseTo(21 * 3e-6 + 1200 * 3e-7 + 100 * 3.75e-6 + 9 * 1.5e-5, 12);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ prompt_tokens: 1321, completion_tokens: 9, custom_llm_provider: 'bedrock' });
  });

  it('streams ConverseStream frames split mid-frame as OpenAI chunks, with usage when asked', async () => {
    fake.enqueue(useast.reply({ kind: 'eventstream', frames: fixtureFrames(fixture<StreamFixture>('converse-stream-text.json')), pieceBytes: 5 }));
    const stream = await client.chat.completions.create({
      model: 'claude', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Capital of France?' }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(useast.checks).toEqual([{ ok: true }]);
    expect(fake.requests[0]?.path).toBe(`${CLAUDE_PATH}/converse-stream`);
    expect(fake.requests[0]?.headers.accept).toBe('application/vnd.amazon.eventstream');
    expect(fake.requests[0]?.body).toEqual({ messages: [{ role: 'user', content: [{ text: 'Capital of France?' }] }] });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Paris is the capital of France — ünïcode ✓.');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 } });
  });

  it('hides the usage chunk from a client that did not ask', async () => {
    fake.enqueue(useast.reply({ kind: 'eventstream', frames: fixtureFrames(fixture<StreamFixture>('converse-stream-text.json')) }));
    const stream = await client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
  });

  it('calls tools and sends their results back as toolResult blocks', async () => {
    fake.enqueue(useast.reply({ kind: 'json', body: fixture('converse-tool-use.json') }));
    const tools: OpenAI.ChatCompletionTool[] = [{
      type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } },
    }];
    const first = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'auto' });
    expect(first.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { content: 'I\'ll look up the weather in Paris.', tool_calls: [{ id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } }] },
    });
    expect((fake.requests[0]?.body as { toolConfig: unknown }).toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'get_weather', description: 'Weather in a city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } } } }],
      toolChoice: { auto: {} },
    });

    fake.enqueue(useast.reply({ kind: 'json', body: fixture('converse-text.json') }));
    await client.chat.completions.create({
      model: 'claude', tools,
      messages: [{ role: 'user', content: 'Weather in Paris?' }, first.choices[0]!.message, { role: 'tool', tool_call_id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', content: '{"temp": 18}' }],
    });
    expect((fake.requests[1]?.body as { messages: unknown }).messages).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ text: 'I\'ll look up the weather in Paris.' }, { toolUse: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', content: [{ text: '{"temp": 18}' }] } }] },
    ]);
    expect(useast.checks).toEqual([{ ok: true }, { ok: true }]);
  });

  it('streams tool calls that the SDK reassembles', async () => {
    fake.enqueue(useast.reply({ kind: 'eventstream', frames: fixtureFrames(fixture<StreamFixture>('converse-stream-tool-use.json')), pieceBytes: 13 }));
    const stream = client.chat.completions.stream({
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
    fake.enqueue(euwest.reply({ kind: 'json', body: fixture('converse-text.json') }));
    await client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'hi' }] });
    expect(euwest.checks).toEqual([{ ok: true }]);
    expect(fake.requests[0]?.path).toBe('/model/meta.llama3-1-70b-instruct-v1%3A0/converse');
    expect(fake.requests[0]?.headers['x-amz-security-token']).toBeUndefined();
  });
});

describe('Bedrock errors', () => {
  it('a wrong signature is refused by the fake and answered as a 403', async () => {
    fake.enqueue(useast.reply({ kind: 'json', body: fixture('converse-text.json') }));
    const err = await client.chat.completions.create({ model: 'wrong-secret', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(useast.checks).toEqual([{ ok: false, reason: 'signature mismatch' }]);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('litellm.PermissionDeniedError: BedrockException - The request signature we calculated does not match');
  });

  it('throttling is a 429 that keeps retry-after', async () => {
    fake.enqueue(useast.reply({ kind: 'error', status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.', headers: { 'retry-after': '2' } }));
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
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
    fake.enqueue(useast.reply({ kind: 'error', status: 400, type: 'ValidationException', message: 'The model returned the following errors: messages: text content blocks must be non-empty' }));
    const err = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('an exception mid-stream ends the stream with an error event', async () => {
    const frames = fixtureFrames(fixture<StreamFixture>('converse-stream-text.json')).slice(0, 2);
    fake.enqueue(useast.reply({ kind: 'eventstream', frames: [...frames, exceptionFrame('modelStreamErrorException', 'The model stream failed.')] }));
    const stream = await client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const err = await (async () => {
      for await (const chunk of stream) void chunk;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain('litellm.InternalServerError: BedrockException - The model stream failed.');
  });
});

describe('Bedrock embeddings', () => {
  it('Titan: one InvokeModel call per text, token counts added', async () => {
    fake.enqueue(euwest.reply({ kind: 'json', body: fixture('titan-embed.json') }), euwest.reply({ kind: 'json', body: fixture('titan-embed.json') }));
    const data = await client.embeddings.create({ model: 'titan', input: ['alpha', 'beta'], dimensions: 256 });
    expect(euwest.checks).toEqual([{ ok: true }, { ok: true }]);
    expect(fake.requests.map((r) => r.path)).toEqual(['/model/amazon.titan-embed-text-v2%3A0/invoke', '/model/amazon.titan-embed-text-v2%3A0/invoke']);
    expect(fake.requests.map((r) => r.body).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))))
      .toEqual([{ inputText: 'alpha', dimensions: 256 }, { inputText: 'beta', dimensions: 256 }]);
    expect(data.data.map((d) => [...d.embedding])).toEqual([[0.125, -0.5, 0.25, 0.0625], [0.125, -0.5, 0.25, 0.0625]]);
    expect(data.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
  });

  it('Cohere: one call for the batch, token count from the response header', async () => {
    fake.enqueue(euwest.reply({ kind: 'json', body: fixture('cohere-embed.json'), headers: { 'x-amzn-bedrock-input-token-count': '5' } }));
    const data = await client.embeddings.create({ model: 'cohere', input: ['alpha', 'beta gamma'], encoding_format: 'float' });
    expect(fake.requests[0]?.path).toBe('/model/cohere.embed-english-v3/invoke');
    expect(fake.requests[0]?.body).toEqual({ texts: ['alpha', 'beta gamma'], input_type: 'search_document' });
    expect(data).toEqual({
      object: 'list', model: 'cohere.embed-english-v3',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }, { object: 'embedding', index: 1, embedding: [0.4, 0.5, 0.6] }],
      usage: { prompt_tokens: 5, total_tokens: 5 },
    });
  });
});
