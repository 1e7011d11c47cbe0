/**
 * The reference guide's topology with the real adapters: Azure OpenAI in UAE
 * North falls back to Claude on Bedrock in me-south-1, which falls back to
 * Anthropic directly. Each fake speaks its provider's own wire format (Azure's
 * deployment URLs, Bedrock's SigV4 + Converse + event stream, Anthropic's
 * Messages), so a translation or signing bug anywhere in the chain fails here.
 */
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorFixture, startFakeAnthropic, streamFixture } from './fakes/anthropic.ts';
import { fixtureFrames } from './fakes/aws-eventstream.ts';
import { signedBedrock } from './fakes/bedrock.ts';
import { openaiError } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { collectToolCalls } from './support/streams.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

const AWS = { accessKeyId: 'AKIACHAINTEST0000001', secretAccessKey: 'chain/Secret+0123456789abcdefghijklmnop' };
const BEDROCK_MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const BEDROCK_PATH = '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0';
const streamFrames = () =>
  fixtureFrames(JSON.parse(readFileSync(new URL('./fixtures/bedrock/converse-stream-text.json', import.meta.url), 'utf8')) as Parameters<typeof fixtureFrames>[0]);

let azure: FakeUpstream;
let bedrock: FakeUpstream;
let anthropic: FakeUpstream;
let stack: TestStack;
let client: OpenAI;
const mesouth = signedBedrock(AWS, 'me-south-1');

beforeAll(async () => {
  [azure, bedrock, anthropic] = await Promise.all([startFakeUpstream(), startFakeUpstream(), startFakeAnthropic()]);
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: azure/gpt-4o-uaenorth
      api_base: "${azure.url}"
      api_key: os.environ/AZURE_API_KEY_UAE
      api_version: "2024-08-01-preview"
  - model_name: claude-sonnet-bedrock
    litellm_params:
      model: "bedrock/${BEDROCK_MODEL}"
      api_base: "${bedrock.url}"
      aws_access_key_id: os.environ/AWS_KEY_ME
      aws_secret_access_key: os.environ/AWS_SECRET_ME
      aws_region_name: me-south-1
  - model_name: claude-sonnet
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: "${anthropic.url}"
      api_key: os.environ/ANTHROPIC_API_KEY
router_settings:
  num_retries: 0
  disable_cooldowns: true  # every test walks the whole chain; cooldowns have their own tests (router.test.ts)
  fallbacks:
    - gpt-4o: [claude-sonnet-bedrock]
    - claude-sonnet-bedrock: [claude-sonnet]
`,
    env: {
      AZURE_API_KEY_UAE: 'azure-uae-secret-000000000001',
      AWS_KEY_ME: AWS.accessKeyId,
      AWS_SECRET_ME: AWS.secretAccessKey,
      ANTHROPIC_API_KEY: 'sk-ant-chain-secret-000000000001',
    },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  for (const f of [azure, bedrock, anthropic]) await f?.close();
});
beforeEach(() => {
  for (const f of [azure, bedrock, anthropic]) f.reset();
  mesouth.checks.length = 0;
});

const azureDown = (status: number, headers: Record<string, string> = {}) =>
  ({ kind: 'error' as const, status, body: openaiError({ message: `azure ${status}`, type: 'server_error' }), headers });

describe('Azure OpenAI → Bedrock → Anthropic, real adapters', () => {
  it('serves from Anthropic when Azure is rate limited and Bedrock throttles, and records it once, at Anthropic\'s price', async () => {
    azure.setDefault(azureDown(429, { 'retry-after': '30' }));
    bedrock.setDefault(mesouth.reply({ kind: 'error', status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' }));
    const { data, response } = await client.chat.completions.create({
      model: 'gpt-4o', max_tokens: 50, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'route me somewhere' }],
    }).withResponse();

    expect(data.choices[0]?.message.content).toBe('echo: route me somewhere');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(response.headers.get('x-litellm-attempted-fallbacks')).toBe('2');
    expect(response.headers.get('x-litellm-model-group')).toBe('claude-sonnet');

    // Each hop was sent in its own provider's format.
    expect(azure.requests).toHaveLength(1);
    expect(azure.requests[0]?.path).toBe('/openai/deployments/gpt-4o-uaenorth/chat/completions');
    expect(azure.requests[0]?.query).toEqual({ 'api-version': '2024-08-01-preview' });
    expect(azure.requests[0]?.headers['api-key']).toBe('azure-uae-secret-000000000001');
    expect(bedrock.requests).toHaveLength(1);
    expect(mesouth.checks).toEqual([{ ok: true }]);
    expect(bedrock.requests[0]?.path).toBe(`${BEDROCK_PATH}/converse`);
    expect(bedrock.requests[0]?.body).toMatchObject({ system: [{ text: 'Be brief.' }], inferenceConfig: { maxTokens: 50 } });
    expect(anthropic.requests).toHaveLength(1);
    expect(anthropic.requests[0]?.path).toBe('/v1/messages');
    expect(anthropic.requests[0]?.headers['x-api-key']).toBe('sk-ant-chain-secret-000000000001');
    expect(anthropic.requests[0]?.body).toMatchObject({ model: 'claude-sonnet-4-5', system: [{ type: 'text', text: 'Be brief.' }], max_tokens: 50 });

    // One spend row, priced as the Anthropic call that answered (the fake's echo rule: 3 words + 3 per message in, 4 out).
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'success', custom_llm_provider: 'anthropic', model_group: 'claude-sonnet', prompt_tokens: 6, completion_tokens: 4 });
    expect(Number(row?.spend)).toBeCloseTo(6 * 3e-6 + 4 * 1.5e-5, 12);
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeCloseTo(Number(row?.spend), 12);
    // No provider secret reached the stored row.
    const stored = JSON.stringify(row);
    for (const secret of ['azure-uae-secret', AWS.secretAccessKey, 'sk-ant-chain-secret']) expect(stored).not.toContain(secret);
  });

  it('streams from Bedrock (event stream, split mid-frame) when Azure answers 500', async () => {
    azure.setDefault(azureDown(500));
    bedrock.enqueue(mesouth.reply({ kind: 'eventstream', frames: streamFrames(), pieceBytes: 3 }));
    const { data: stream, response } = await client.chat.completions.create({
      model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Capital of France?' }],
    }).withResponse();
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(response.headers.get('x-litellm-model-group')).toBe('claude-sonnet-bedrock');
    expect(mesouth.checks).toEqual([{ ok: true }]);
    expect(bedrock.requests[0]?.path).toBe(`${BEDROCK_PATH}/converse-stream`);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Paris is the capital of France — ünïcode ✓.');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 21, completion_tokens: 9 } });
    expect(anthropic.requests).toHaveLength(0);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'success', custom_llm_provider: 'bedrock', prompt_tokens: 21, completion_tokens: 9 });
  });

  it('streams Anthropic\'s tool calls as OpenAI tool-call deltas at the end of the chain', async () => {
    azure.setDefault(azureDown(503));
    bedrock.setDefault(mesouth.reply({ kind: 'error', status: 500, type: 'InternalServerException', message: 'internal error' }));
    anthropic.enqueue(streamFixture('tool-use', { intervalMs: 2 }));
    const stream = await client.chat.completions.create({
      model: 'gpt-4o', stream: true,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } } }],
      messages: [{ role: 'user', content: 'SF and NYC?' }],
    });
    const { calls, finish } = await collectToolCalls(stream);
    expect(calls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ['get_weather', { location: 'San Francisco, CA' }],
      ['get_weather', { location: 'New York, NY' }],
    ]);
    expect(finish).toBe('tool_calls');
    // The tools reached every hop in that hop's format.
    expect(azure.requests[0]?.body).toMatchObject({ tools: [{ type: 'function', function: { name: 'get_weather' } }] });
    expect(bedrock.requests[0]?.body).toMatchObject({ toolConfig: { tools: [{ toolSpec: { name: 'get_weather' } }] } });
    expect(anthropic.requests[0]?.body).toMatchObject({ stream: true, tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] });
  });

  it('answers with the last provider\'s error, in the OpenAI envelope, when the whole chain fails', async () => {
    azure.setDefault(azureDown(503));
    bedrock.setDefault(mesouth.reply({ kind: 'error', status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' }));
    anthropic.setDefault(errorFixture('error-overloaded', 529));
    const err = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'anyone?' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const apiError = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(529);
    expect(apiError.headers?.get('x-litellm-attempted-fallbacks')).toBe('2');
    expect(apiError.message.toLowerCase()).toContain('overloaded');
    expect(JSON.stringify(apiError.error)).not.toContain('sk-ant-chain-secret');
    expect([azure.requests.length, bedrock.requests.length, anthropic.requests.length]).toEqual([1, 1, 1]);
  });
});
