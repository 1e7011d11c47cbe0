import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jsonFixture, startFakeAnthropic, streamFixture } from './fakes/anthropic.ts';
import { responseObject, responsesUsage } from './fakes/openai-responses.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * `POST /v1/responses` for a provider that speaks only chat (Anthropic here,
 * through its real Messages wire format): the request translated to a chat
 * call, the answer and the typed stream events translated back, as the
 * official openai client reads them, and the call counted from the
 * provider's usage.
 */

let anthropic: FakeUpstream;
let openai: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  openai = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${anthropic.url}", api_key: sk-ant-bridge-0001}
  - model_name: both
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${anthropic.url}", api_key: sk-ant-bridge-0002}
  - model_name: both
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${openai.url}/v1", api_key: sk-openai-bridge-0003}
router_settings:
  num_retries: 0
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await anthropic?.close();
  await openai?.close();
});
beforeEach(() => {
  anthropic.reset();
  openai.reset();
});

describe('/v1/responses on a chat-only provider', () => {
  it('translates the request into a chat call and its answer into a response, counted from the provider\'s usage', async () => {
    const { data, response } = await client.responses.create({
      model: 'claude', instructions: 'Be brief.', input: 'Say hello please', max_output_tokens: 50, temperature: 0.2, metadata: { ticket: 'T-1' },
    }).withResponse();
    expect(data.id).toMatch(/^resp_/);
    expect(data.object).toBe('response');
    expect(data.status).toBe('completed');
    expect(data.output_text).toBe('echo: Say hello please');
    expect(data.output).toEqual([{ type: 'message', id: expect.stringMatching(/^msg_/), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'echo: Say hello please', annotations: [] }] }]);
    // The fake counts 3 a message plus the last user turn's words.
    expect(data.usage).toMatchObject({ input_tokens: 6, output_tokens: 4, total_tokens: 10 });
    expect(data).toMatchObject({ instructions: 'Be brief.', max_output_tokens: 50, temperature: 0.2, metadata: { ticket: 'T-1' } });

    const [sent] = anthropic.requests;
    expect(sent!.path).toBe('/v1/messages');
    expect(sent!.body).toEqual({
      model: 'claude-sonnet-4-5', system: [{ type: 'text', text: 'Be brief.' }], max_tokens: 50, temperature: 0.2, messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello please' }] }],
    });

    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aresponses', model_group: 'claude', custom_llm_provider: 'anthropic', prompt_tokens: 6, completion_tokens: 4, status: 'success' });
    expect(row.spend as number).toBeGreaterThan(0);
  });

  it('streams the typed events the openai client assembles, ending in response.completed with the usage', async () => {
    const stream = client.responses.stream({ model: 'claude', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Tell me three words' }] }] });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    const final = await stream.finalResponse();
    expect(text).toBe('echo: Tell me three words');
    expect(final.output_text).toBe('echo: Tell me three words');
    expect(final.status).toBe('completed');
    expect(final.usage).toMatchObject({ input_tokens: 7, output_tokens: 5, total_tokens: 12 });
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.filter((t) => t === 'response.output_text.delta').length).toBe(5);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(anthropic.requests[0]!.body).toMatchObject({ stream: true, messages: [{ role: 'user', content: [{ type: 'text', text: 'Tell me three words' }] }] });
  });

  it('maps function tools and a tool-call history both ways', async () => {
    anthropic.enqueue(jsonFixture('tool-use'));
    const data = await client.responses.create({
      model: 'claude',
      tools: [{ type: 'function', name: 'get_weather', description: 'Weather in a city', strict: false, parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } }],
      tool_choice: 'auto',
      input: [
        { role: 'user', content: 'Weather in Paris, then SF and NY?' },
        { type: 'function_call', call_id: 'toolu_paris', name: 'get_weather', arguments: '{"location":"Paris"}' },
        { type: 'function_call_output', call_id: 'toolu_paris', output: '18C, cloudy' },
      ],
    });
    const calls = data.output.filter((o) => o.type === 'function_call');
    expect(calls).toEqual([
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}', status: 'completed' },
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'toolu_01B19r01rx01mr028946mr0', name: 'get_weather', arguments: '{"location":"New York, NY","unit":"celsius"}', status: 'completed' },
    ]);
    expect(data.output_text).toBe('I\'ll check the weather in both cities.');
    expect(data.usage).toMatchObject({ input_tokens: 472, output_tokens: 121 });

    const sent = anthropic.requests[0]!.body as { tools: unknown; messages: unknown };
    expect(sent.tools).toEqual([{ name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } }]);
    expect(sent.messages).toMatchObject([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris, then SF and NY?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_paris', name: 'get_weather', input: { location: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_paris', content: '18C, cloudy' }] },
    ]);
  });

  it('streams tool calls and reasoning as their own output items', async () => {
    anthropic.enqueue(streamFixture('tool-use'));
    const toolStream = client.responses.stream({ model: 'claude', input: 'Weather in SF?', tools: [{ type: 'function', name: 'get_weather', strict: false, parameters: { type: 'object', properties: {} } }] });
    const argDeltas = new Map<string, string>();
    for await (const event of toolStream) {
      if (event.type === 'response.function_call_arguments.delta') argDeltas.set(event.item_id, (argDeltas.get(event.item_id) ?? '') + event.delta);
    }
    const withTools = await toolStream.finalResponse();
    const calls = withTools.output.filter((o) => o.type === 'function_call');
    expect(calls.map((c) => [c.name, c.status, JSON.parse(c.arguments)])).toEqual([
      ['get_weather', 'completed', { location: 'San Francisco, CA' }],
      ['get_weather', 'completed', { location: 'New York, NY' }],
    ]);
    // Each call's arguments arrive as its own deltas.
    for (const call of calls) expect(argDeltas.get(call.id!)).toBe(call.arguments);

    anthropic.enqueue(streamFixture('thinking'));
    const thinking = await client.responses.create({ model: 'claude', input: 'What is 27 * 453?', reasoning: { effort: 'low' }, stream: true });
    const items: string[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of thinking) {
      if (event.type === 'response.output_item.done') items.push(event.item.type);
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(items[0]).toBe('reasoning');
    expect(items).toContain('message');
    const reasoning = completed!.output[0] as { summary: { text: string }[] };
    expect(reasoning.summary[0]!.text).toContain('27 * 453');
  });

  it('ends a stream the provider breaks in response.failed, recorded as a failure', async () => {
    anthropic.enqueue(streamFixture('overloaded-midstream'));
    const { data: stream, response } = await client.responses.create({ model: 'claude', input: 'hi', stream: true }).withResponse();
    const types: string[] = [];
    let failed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.failed') failed = event.response;
    }
    expect(types[types.length - 1]).toBe('response.failed');
    expect(failed?.status).toBe('failed');
    expect(failed?.error?.message).toMatch(/overloaded/i);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aresponses', status: 'failure' });
  });

  it('answers mock_response through the bridge', async () => {
    const data = await client.responses.create({ model: 'claude', input: 'hi', ...{ mock_response: 'mocked!' } });
    expect(data.output_text).toBe('mocked!');
    expect(anthropic.requests).toHaveLength(0);
  });

  it('serves a group mixing providers from all of them: natively where spoken, through chat elsewhere', async () => {
    for (let i = 0; i < 12; i++) openai.enqueue({ kind: 'json', body: responseObject('gpt-4o-mini', 'native', responsesUsage(5, 2)) });
    const texts = new Set<string>();
    for (let i = 0; i < 12; i++) texts.add((await client.responses.create({ model: 'both', input: 'hi there' })).output_text);
    expect(texts).toEqual(new Set(['native', 'echo: hi there']));
    expect(anthropic.requests.every((r) => r.path === '/v1/messages')).toBe(true);
    expect(openai.requests.every((r) => r.path === '/v1/responses')).toBe(true);
  });

  it('sends what only OpenAI\'s servers can do, in a mixed group, to its OpenAI deployment only', async () => {
    for (let i = 0; i < 6; i++) openai.enqueue({ kind: 'json', body: responseObject('gpt-4o-mini', `native ${i}`, responsesUsage(5, 2)) });
    for (let i = 0; i < 3; i++) {
      expect((await client.responses.create({ model: 'both', input: 'search', tools: [{ type: 'web_search_preview' }] })).output_text).toBe(`native ${i * 2}`);
      expect((await client.responses.create({ model: 'both', input: 'go on', previous_response_id: 'resp_openai_own_1' })).output_text).toBe(`native ${i * 2 + 1}`);
    }
    expect(anthropic.requests).toHaveLength(0);
    expect(openai.requests.map((r) => (r.body as { previous_response_id?: string }).previous_response_id ?? null)).toEqual([null, 'resp_openai_own_1', null, 'resp_openai_own_1', null, 'resp_openai_own_1']);
  });

  it('marks an answer cut off at max_output_tokens incomplete, and its message too', async () => {
    anthropic.enqueue({ kind: 'json', body: {
      id: 'msg_cut', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'Once upon a' }],
      stop_reason: 'max_tokens', stop_sequence: null, usage: { input_tokens: 9, output_tokens: 3 },
    } });
    const data = await client.responses.create({ model: 'claude', input: 'Tell a story', max_output_tokens: 3 });
    expect(data.status).toBe('incomplete');
    expect(data.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(data.output[0]).toMatchObject({ type: 'message', status: 'incomplete', content: [{ type: 'output_text', text: 'Once upon a' }] });
  });

  it('refuses what only OpenAI\'s servers can do with a 400 and no upstream call', async () => {
    const refusal = async (body: Record<string, unknown>) => {
      const err = await client.responses.create({ model: 'claude', input: 'hi', ...body } as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      return err as InstanceType<typeof OpenAI.APIError>;
    };
    expect((await refusal({ previous_response_id: 'resp_123' })).message).toContain('previous_response_id');
    expect((await refusal({ tools: [{ type: 'web_search_preview' }] })).message).toContain('only function tools are supported');
    expect((await refusal({ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] })).message).toContain('file_id is not supported');
    expect(anthropic.requests).toHaveLength(0);
    expect(openai.requests).toHaveLength(0);
  });
});
