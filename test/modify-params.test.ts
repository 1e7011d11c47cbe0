import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jsonFixture, startFakeAnthropic } from './fakes/anthropic.ts';
import { signedBedrock } from './fakes/bedrock.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { CLAUDE, CONFIGURED, fixture } from './support/bedrock-stack.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// litellm_settings.modify_params: requests Anthropic and Bedrock refuse (the fakes refuse them as the real APIs do)
// are rewritten as LiteLLM rewrites them; without the setting they are sent as they are, and refused.

let anthropic: FakeUpstream;
let bedrock: FakeUpstream;
const signed = signedBedrock(CONFIGURED, 'us-east-1');
let on: TestStack;
let off: TestStack;
let clientOn: OpenAI;
let clientOff: OpenAI;

const config = (modify: boolean) => `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${anthropic.url}", api_key: sk-ant-modify-0001}
  - model_name: bedrock-claude
    litellm_params:
      model: "bedrock/${CLAUDE}"
      api_base: "${bedrock.url}"
      aws_access_key_id: ${CONFIGURED.accessKeyId}
      aws_secret_access_key: "${CONFIGURED.secretAccessKey}"
      aws_session_token: "${CONFIGURED.sessionToken}"
      aws_region_name: us-east-1
router_settings:
  num_retries: 0
litellm_settings:
  modify_params: ${modify}
`;

beforeAll(async () => {
  [anthropic, bedrock] = await Promise.all([startFakeAnthropic(), startFakeUpstream()]);
  [on, off] = await Promise.all([startTestStack({ configYaml: config(true) }), startTestStack({ configYaml: config(false) })]);
  clientOn = new OpenAI({ baseURL: `${on.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  clientOff = new OpenAI({ baseURL: `${off.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await Promise.all([on?.stop(), off?.stop()]);
  await Promise.all([anthropic?.close(), bedrock?.close()]);
});
beforeEach(() => {
  anthropic.reset();
  bedrock.reset();
});

type Messages = OpenAI.Chat.Completions.ChatCompletionMessageParam[];
const call = { id: 'toolu_01', type: 'function' as const, function: { name: 'get_weather', arguments: '{"location":"Paris"}' } };
const sent = (fake: FakeUpstream) => fake.requests.at(-1)?.body as Record<string, unknown>;
const refusal = async (client: OpenAI, model: string, messages: Messages) => {
  const err = await client.chat.completions.create({ model, messages }).then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
  expect(err?.status).toBe(400);
  return err!.message;
};

describe('modify_params with Anthropic', () => {
  it('puts a "." user turn before a conversation that opens with the assistant', async () => {
    const messages: Messages = [{ role: 'system', content: 'Be brief.' }, { role: 'assistant', content: 'Hello, how can I help?' }, { role: 'user', content: 'Weather?' }];
    expect(await refusal(clientOff, 'claude', messages)).toContain('first message must use the "user" role');
    expect(sent(anthropic).messages).toEqual([{ role: 'assistant', content: [{ type: 'text', text: 'Hello, how can I help?' }] }, { role: 'user', content: [{ type: 'text', text: 'Weather?' }] }]);

    anthropic.enqueue(jsonFixture('text'));
    const answer = await clientOn.chat.completions.create({ model: 'claude', messages });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    expect(sent(anthropic)).toMatchObject({
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: '.' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Hello, how can I help?' }] },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      ],
    });
  });

  it('answers unanswered tool calls, offers the dummy tool, and fills blank text', async () => {
    const messages: Messages = [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'user', content: ' ' },
    ];
    expect(await refusal(clientOff, 'claude', messages)).toMatch(/text content blocks must be non-empty|must define tools|without `tool_result`/);

    anthropic.enqueue(jsonFixture('text'));
    await clientOn.chat.completions.create({ model: 'claude', messages });
    const body = sent(anthropic);
    expect(body.tools).toEqual([{ name: 'dummy_tool', description: 'This is a dummy tool call', input_schema: { type: 'object', properties: {} } }]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'Paris' } }] },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'toolu_01', content: '[System: Tool execution skipped/interrupted by user. No result provided for tool \'get_weather\'.]' },
        { type: 'text', text: '[System: Empty message content sanitised to satisfy protocol]' },
      ] },
    ]);
  });

  it('keeps a tool result sent after other user content before the next assistant turn (LiteLLM looks that far)', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const messages: Messages = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { role: 'assistant', content: null, tool_calls: [call, { ...call, id: 'toolu_02', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_01', content: '18C' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
      { role: 'tool', tool_call_id: 'toolu_02', content: '21C' },
    ];
    anthropic.enqueue(jsonFixture('text'));
    await clientOff.chat.completions.create({ model: 'claude', messages, tools });
    const asSent = sent(anthropic);
    anthropic.enqueue(jsonFixture('text'));
    await clientOn.chat.completions.create({ model: 'claude', messages, tools });
    expect(sent(anthropic)).toEqual(asSent);
    expect(JSON.stringify(asSent)).toContain('21C');
  });

  it('moves the results of a partly answered turn up to it, before the skipped ones, and drops a result for no call of the last turn', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const rome = { ...call, id: 'toolu_02', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } };
    const messages: Messages = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { role: 'assistant', content: null, tool_calls: [call, rome] },
      { role: 'user', content: 'Rome first' },
      { role: 'tool', tool_call_id: 'toolu_02', content: '21C' },
      { role: 'tool', tool_call_id: 'toolu_99', content: 'stale' },
    ];
    anthropic.enqueue(jsonFixture('text'));
    await clientOn.chat.completions.create({ model: 'claude', messages, tools });
    expect(sent(anthropic).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      { role: 'assistant', content: [
        { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'Paris' } },
        { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: { location: 'Rome' } },
      ] },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'toolu_02', content: '21C' },
        { type: 'tool_result', tool_use_id: 'toolu_01', content: '[System: Tool execution skipped/interrupted by user. No result provided for tool \'get_weather\'.]' },
        { type: 'text', text: 'Rome first' },
      ] },
    ]);
  });

  it('leaves a request Anthropic takes as it is', async () => {
    const messages: Messages = [{ role: 'user', content: 'Hi' }];
    anthropic.enqueue(jsonFixture('text'));
    await clientOn.chat.completions.create({ model: 'claude', messages });
    const withSetting = sent(anthropic);
    anthropic.enqueue(jsonFixture('text'));
    await clientOff.chat.completions.create({ model: 'claude', messages });
    expect(withSetting).toEqual(sent(anthropic));
  });
});

describe('modify_params with Bedrock Converse', () => {
  it('opens an assistant-first conversation with the user continue message', async () => {
    const messages: Messages = [{ role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Weather?' }];
    bedrock.enqueue(signed.reply({ kind: 'json', body: fixture('converse-text.json') }));
    expect(await refusal(clientOff, 'bedrock-claude', messages)).toContain('A conversation must start with a user message');

    bedrock.enqueue(signed.reply({ kind: 'json', body: fixture('converse-text.json') }));
    const answer = await clientOn.chat.completions.create({ model: 'bedrock-claude', messages });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    expect(sent(bedrock).messages).toEqual([
      { role: 'user', content: [{ text: 'Please continue.' }] },
      { role: 'assistant', content: [{ text: 'Hello!' }] },
      { role: 'user', content: [{ text: 'Weather?' }] },
    ]);
  });

  it('drops no tool result sent after other user content (LiteLLM sanitizes tool history for Anthropic only)', async () => {
    const messages: Messages = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { role: 'assistant', content: null, tool_calls: [call, { ...call, id: 'toolu_02', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_01', content: '18C' },
      { role: 'user', content: 'Rome next' },
      { role: 'tool', tool_call_id: 'toolu_02', content: '21C' },
    ];
    bedrock.enqueue(signed.reply({ kind: 'json', body: fixture('converse-text.json') }));
    await clientOn.chat.completions.create({ model: 'bedrock-claude', messages });
    expect(sent(bedrock).messages).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris and Rome?' }] },
      { role: 'assistant', content: [
        { toolUse: { toolUseId: 'toolu_01', name: 'get_weather', input: { location: 'Paris' } } },
        { toolUse: { toolUseId: 'toolu_02', name: 'get_weather', input: { location: 'Rome' } } },
      ] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'toolu_01', content: [{ text: '18C' }] } }] },
      { role: 'assistant', content: [{ text: 'Please continue.' }] },
      { role: 'user', content: [{ text: 'Rome next' }] },
      { role: 'assistant', content: [{ text: 'Please continue.' }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'toolu_02', content: [{ text: '21C' }] } }] },
    ]);
  });

  it('gives tool history the dummy tool, and parts tool results from user text', async () => {
    const messages: Messages = [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: 'toolu_01', content: '18C' },
      { role: 'user', content: 'And tomorrow?' },
    ];
    bedrock.enqueue(signed.reply({ kind: 'json', body: fixture('converse-text.json') }));
    expect(await refusal(clientOff, 'bedrock-claude', messages)).toMatch(/cannot be provided in the same turn|toolConfig field must be defined/);

    bedrock.enqueue(signed.reply({ kind: 'json', body: fixture('converse-text.json') }));
    await clientOn.chat.completions.create({ model: 'bedrock-claude', messages });
    const body = sent(bedrock);
    expect(body.toolConfig).toEqual({ tools: [{ toolSpec: { name: 'dummy_tool', description: 'This is a dummy tool call', inputSchema: { json: { type: 'object', properties: {} } } } }] });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'toolu_01', name: 'get_weather', input: { location: 'Paris' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'toolu_01', content: [{ text: '18C' }] } }] },
      { role: 'assistant', content: [{ text: 'Please continue.' }] },
      { role: 'user', content: [{ text: 'And tomorrow?' }] },
    ]);
  });
});
