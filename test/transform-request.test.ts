import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from './fakes/anthropic.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { seedKey } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's POST /utils/transform_request: what a call would send to the provider, built by Tollgate's own
// adapters, with every credential masked, and nothing sent. Every upstream is a recording fake.

const OPENAI_KEY = 'sk-openai-secret-AAAA1111';
const TENANT_TOKEN = 'tenant-secret-BBBB2222';
const ANTHROPIC_KEY = 'sk-ant-secret-CCCC3333';
const AWS_KEY_ID = 'AKIDTRANSFORM0EXAMPLE';
const AWS_SECRET = 'aws-secret-DDDD4444';
const AWS_SESSION = 'aws-session-EEEE5555';
const GEMINI_KEY = 'gemini-secret-FFFF6666';
const SECRETS = [OPENAI_KEY, TENANT_TOKEN, ANTHROPIC_KEY, AWS_KEY_ID, AWS_SECRET, AWS_SESSION, GEMINI_KEY];

let stack: TestStack;
let openai: FakeUpstream;
let anthropic: FakeUpstream;
let other: FakeUpstream;

beforeAll(async () => {
  [openai, anthropic, other] = await Promise.all([startFakeUpstream(), startFakeAnthropic(), startFakeUpstream()]);
  stack = await startTestStack({
    env: { GEMINI_TEST_KEY: GEMINI_KEY },
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${openai.url}/v1", api_key: ${OPENAI_KEY}, extra_headers: {x-tenant-token: ${TENANT_TOKEN}, x-team: blue}}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-20250514, api_base: "${anthropic.url}", api_key: ${ANTHROPIC_KEY}}
  - model_name: bedrock-claude
    litellm_params: {model: "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", api_base: "${other.url}", aws_access_key_id: ${AWS_KEY_ID}, aws_secret_access_key: ${AWS_SECRET}, aws_session_token: ${AWS_SESSION}, aws_region_name: us-east-1}
  - model_name: gemini-flash
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: "${other.url}", api_key: os.environ/GEMINI_TEST_KEY}
  - model_name: mock
    litellm_params: {model: mock/mock-gpt, mock_response: "canned"}
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([openai?.close(), anthropic?.close(), other?.close()]);
});
beforeEach(() => {
  for (const fake of [openai, anthropic, other]) fake.reset();
});

const transform = (body: unknown, key = TEST_MASTER_KEY) => fetch(`${stack.url}/utils/transform_request`, {
  method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
});
const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  call_type: 'completion',
  request_body: { model, messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'hello' }], ...extra },
});
interface Shown { raw_request_api_base: string; raw_request_body: Record<string, unknown>; raw_request_headers: Record<string, string> }

/** The answer, checked to hold no configured credential anywhere in its text, and no request to have left. */
async function shown(res: Response): Promise<Shown> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  expect(openai.requests.length + anthropic.requests.length + other.requests.length).toBe(0);
  return JSON.parse(text) as Shown;
}
const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string; type: string; param: string | null } }).error;

describe('POST /utils/transform_request', () => {
  it('shows an OpenAI chat request: URL, the fields sent (gateway fields dropped), the key and credential headers masked', async () => {
    const answer = await shown(await transform(chat('gpt-4o', { temperature: 0.2, metadata: { tags: ['a'] }, stream: true })));
    expect(answer.raw_request_api_base).toBe(`${openai.url}/v1/chat/completions`);
    expect(answer.raw_request_body).toEqual({
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'hello' }],
      temperature: 0.2,
      stream: true,
      // The gateway always asks for usage on a stream.
      stream_options: { include_usage: true },
    });
    expect(answer.raw_request_headers).toMatchObject({
      // Only a long credential's last four characters; a deployment's extra headers are masked whatever their names.
      authorization: 'Bearer ...1111',
      'x-tenant-token': '...2222',
      'x-team': '<redacted>',
      'content-type': 'application/json',
      accept: 'text/event-stream',
    });
  });

  it('shows an Anthropic request translated to the Messages API, with anthropic-version and the key masked, as a call sends it', async () => {
    const answer = await shown(await transform(chat('claude', { max_tokens: 100, stop: 'END', user: 'u-1' })));
    expect(answer.raw_request_api_base).toBe(`${anthropic.url}/v1/messages`);
    expect(answer.raw_request_body).toEqual({
      model: 'claude-sonnet-4-20250514',
      system: [{ type: 'text', text: 'Be terse.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
      max_tokens: 100,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
    });
    expect(answer.raw_request_headers).toMatchObject({ 'x-api-key': '...3333', 'anthropic-version': '2023-06-01' });

    // The same body through a real call: the provider gets exactly what was shown.
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(chat('claude', { max_tokens: 100, stop: 'END', user: 'u-1' }).request_body),
    });
    expect(res.status).toBe(200);
    expect(anthropic.requests).toHaveLength(1);
    expect(anthropic.requests[0]!.body).toEqual(answer.raw_request_body);
    expect(anthropic.requests[0]!.headers['x-api-key']).toBe(ANTHROPIC_KEY);
  });

  it('shows a Bedrock Converse request unsigned: no key id, secret, session token or signature in the answer', async () => {
    const answer = await shown(await transform(chat('bedrock-claude', { max_tokens: 50, temperature: 0.5 })));
    expect(answer.raw_request_api_base).toBe(`${other.url}/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse`);
    expect(answer.raw_request_body).toEqual({
      messages: [{ role: 'user', content: [{ text: 'hello' }] }],
      system: [{ text: 'Be terse.' }],
      inferenceConfig: { maxTokens: 50, temperature: 0.5 },
    });
    const headers = answer.raw_request_headers;
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=\.\.\.MPLE\/<date>\/us-east-1\/bedrock\/aws4_request, .*Signature=<signed when sent>$/);
    expect(headers['x-amz-security-token']).toBe('...5555');
    expect(headers['x-amz-date']).toBeUndefined();
  });

  it('shows a Gemini request: the generateContent URL with no key in it, the translated body, x-goog-api-key masked', async () => {
    const answer = await shown(await transform({ call_type: 'acompletion', request_body: chat('gemini-flash', { max_tokens: 20, stream: true }).request_body }));
    expect(answer.raw_request_api_base).toBe(`${other.url}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse`);
    expect(answer.raw_request_body).toMatchObject({
      contents: [{ role: 'user', parts: [{ text: 'hello' }] }],
      systemInstruction: { parts: [{ text: 'Be terse.' }] },
      generationConfig: { maxOutputTokens: 20 },
    });
    expect(answer.raw_request_headers['x-goog-api-key']).toBe('...6666');
  });

  it('shows embeddings where one request serves them, and names the call types it takes otherwise', async () => {
    const embedded = await shown(await transform({ call_type: 'aembedding', request_body: { model: 'gpt-4o', input: ['a', 'b'] } }));
    expect(embedded.raw_request_api_base).toBe(`${openai.url}/v1/embeddings`);
    expect(embedded.raw_request_body).toEqual({ model: 'gpt-4o', input: ['a', 'b'] });

    const bedrockEmbed = await transform({ call_type: 'embedding', request_body: { model: 'bedrock-claude', input: 'a' } });
    expect(bedrockEmbed.status).toBe(400);
    const unknown = await transform({ call_type: 'image_generation', request_body: { model: 'gpt-4o', prompt: 'a cat' } });
    expect(unknown.status).toBe(400);
    expect(await errorOf(unknown)).toMatchObject({ type: 'bad_request_error', param: 'call_type' });
    expect((await transform({ call_type: 'image_generation', request_body: {} }).then(errorOf)).message).toContain('completion, acompletion');
  });

  it('refuses bad input with a 400 and sends nothing', async () => {
    for (const body of [
      {},
      { call_type: 'completion' },
      { call_type: 'completion', request_body: 'not an object' },
      { call_type: 'completion', request_body: { messages: [{ role: 'user', content: 'hi' }] } },
      { call_type: 'completion', request_body: { model: 'gpt-4o' } },
      { call_type: 'completion', request_body: { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] } },
      chat('mock'),
      chat('gpt-4o', { mock_response: 'canned' }),
    ]) {
      const res = await transform(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await errorOf(res)).type).toBe('bad_request_error');
    }
    const invalidJson = await fetch(`${stack.url}/utils/transform_request`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: '{',
    });
    expect(invalidJson.status).toBe(400);
    expect(openai.requests.length + anthropic.requests.length + other.requests.length).toBe(0);
  });

  it('answers a key for the model groups it may call only (401 otherwise), and no one without a key', async () => {
    const narrow = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    await shown(await transform(chat('gpt-4o'), narrow));
    const refused = await transform(chat('claude'), narrow);
    expect(refused.status).toBe(401);
    expect((await errorOf(refused)).type).toBe('key_model_access_denied');
    expect((await transform(chat('claude'), 'sk-not-a-key')).status).toBe(401);
    expect(openai.requests.length + anthropic.requests.length + other.requests.length).toBe(0);
  });
});
