import { describe, expect, it } from 'vitest';
import { relayOpenAIStream } from './sse-stream.ts';
import { chunk, options, readAll, source, usageChunk } from './sse-stream.fixture.ts';

describe('relayOpenAIStream: tool calls kept with the text', () => {
  // Two parallel calls (indexes 0 and 1) whose arguments arrive interleaved over many chunks, as OpenAI streams them.
  const toolChunk = (calls: Record<string, unknown>[]) => ({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { tool_calls: calls }, finish_reason: null }] });
  const toolSse = [
    chunk('Checking.'),
    toolChunk([{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }]),
    toolChunk([{ index: 0, function: { arguments: '{"city":' } }]),
    toolChunk([{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz"' } }]),
    toolChunk([{ index: 0, function: { arguments: '"Paris \\"FR\\""}' } }]),
    toolChunk([{ index: 1, function: { arguments: ':"CET"}' } }]),
    usageChunk,
  ].map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';

  it.each([1, 13, 10_000])('joins each call\'s deltas by index (%i-byte reads)', async (size) => {
    const { body, outcome } = relayOpenAIStream(source(toolSse, size), options);
    await readAll(body);
    const result = await outcome;
    expect(result.responseText).toBe('Checking.');
    expect(result.responseToolCalls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris \\"FR\\""}' } },
      { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
    ]);
    expect(result.toolCalls).toBe(true);
  });

  it('keeps none when the call does not keep text', async () => {
    const { body, outcome } = relayOpenAIStream(source(toolSse, 64), { ...options, keepText: false });
    await readAll(body);
    const result = await outcome;
    expect(result.responseText).toBeUndefined();
    expect(result.responseToolCalls).toBeUndefined();
    expect(result.toolCalls).toBe(true);
  });

  it('keeps a Responses stream\'s function_call items from its final event', async () => {
    const completed = {
      type: 'response.completed',
      response: {
        id: 'resp_1', status: 'completed', usage: { input_tokens: 5, output_tokens: 7, total_tokens: 12 },
        output: [
          { type: 'reasoning', id: 'rs_1', summary: [] },
          { type: 'function_call', id: 'fc_1', call_id: 'call_x', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' },
          { type: 'message', id: 'msg_1', role: 'assistant', content: [{ type: 'output_text', text: 'Done.', annotations: [] }] },
        ],
      },
    };
    const events = [
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: '{"city":"Oslo"}' },
      { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 2, content_index: 0, delta: 'Done.' },
      completed,
    ].map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
    const responses = { ...options, responsesApi: true };
    const kept = relayOpenAIStream(source(events, 17), responses);
    await readAll(kept.body);
    const result = await kept.outcome;
    expect(result.responseText).toBe('Done.');
    expect(result.responseToolCalls).toEqual([{ id: 'call_x', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
    const dropped = relayOpenAIStream(source(events, 17), { ...responses, keepText: false });
    await readAll(dropped.body);
    expect((await dropped.outcome).responseToolCalls).toBeUndefined();
  });

  it('keeps no text for a Responses stream without an output_text part, as the same answer not streamed keeps none', async () => {
    const wire = (output: object[], deltas: object[] = []) => [...deltas, { type: 'response.completed', response: { id: 'resp_1', status: 'completed', output } }]
      .map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');
    const kept = async (text: string) => {
      const { body, outcome } = relayOpenAIStream(source(text, 64), { ...options, responsesApi: true });
      await readAll(body);
      return outcome;
    };
    // Reasoning and a custom tool's call only: nothing for the logs to show as a message.
    const noText = await kept(wire([{ type: 'reasoning', id: 'rs_1', summary: [] }, { type: 'custom_tool_call', id: 'ct_1', call_id: 'call_c', name: 'grep', input: 'x' }]));
    expect(noText.responseText).toBeUndefined();
    expect(noText.responseToolCalls).toBeUndefined();
    // An empty output_text part (no delta came) is a text, as responsesOutputText reads the plain answer.
    const message = { type: 'message', id: 'msg_1', role: 'assistant', content: [{ type: 'output_text', text: '', annotations: [] }] };
    expect((await kept(wire([message]))).responseText).toBe('');
    const delta = { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hi' };
    expect((await kept(wire([{ ...message, content: [{ type: 'output_text', text: 'Hi', annotations: [] }] }], [delta]))).responseText).toBe('Hi');
  });

  it('keeps a Responses stream\'s finished function_call items when it is cut before its final event', async () => {
    const item = { type: 'function_call', id: 'fc_1', call_id: 'call_x', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' };
    const events = [
      { type: 'response.output_item.added', output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 0, delta: '{"city":"Oslo"}' },
      { type: 'response.output_item.done', output_index: 0, item },
      { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'Do' },
    ].map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
    const { body, outcome } = relayOpenAIStream(source(events, 1000, events.length), { ...options, responsesApi: true });
    await readAll(body);
    const result = await outcome;
    expect(result.error?.type).toBe('api_connection_error');
    expect(result.responseText).toBe('Do');
    expect(result.responseToolCalls).toEqual([{ id: 'call_x', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
  });

  it('keeps a Responses stream\'s calls as a chat stream\'s are kept: 128 of them, 64 K characters of each one\'s arguments', async () => {
    const item = (i: number) => ({ type: 'function_call', id: `fc_${i}`, call_id: `call_${i}`, name: 'f', arguments: i === 0 ? 'x'.repeat(70_000) : '{}', status: 'completed' });
    const done = Array.from({ length: 130 }, (_, i) => ({ type: 'response.output_item.done', output_index: i, item: item(i) }));
    const completed = { type: 'response.completed', response: { id: 'resp_1', status: 'completed', output: done.map((d) => d.item) } };
    const wire = (list: readonly object[]) => list.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');
    const cut = `${'x'.repeat(64 * 1024)}...(truncated, 70000 characters)`;
    // Cut short (its finished items) and whole (the final event's list) alike.
    for (const [events, cutShort] of [[done, true], [[...done, completed], false]] as const) {
      const text = wire(events);
      const { body, outcome } = relayOpenAIStream(source(text, 4096, cutShort ? text.length : undefined), { ...options, responsesApi: true });
      await readAll(body);
      const calls = (await outcome).responseToolCalls!;
      expect(calls).toHaveLength(128);
      expect(calls[0]!.function.arguments).toBe(cut);
      expect(calls.at(-1)!.id).toBe('call_127');
    }
  });

  it('flags no tool call for a text stream whose every delta says "tool_calls":null (the answer stays cacheable)', async () => {
    const nullCalls = (content: string) => ({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content, tool_calls: null, function_call: null }, finish_reason: null }] });
    const wire = [nullCalls('Hel'), nullCalls('lo'), usageChunk].map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
    for (const keepText of [true, false]) {
      const { body, outcome } = relayOpenAIStream(source(wire, 64), { ...options, keepText });
      await readAll(body);
      const result = await outcome;
      expect(result.toolCalls).toBeUndefined();
      expect(result.responseToolCalls).toBeUndefined();
      expect(result.responseText).toBe(keepText ? 'Hello' : undefined);
    }
  });

  it('keeps a legacy function_call as one call, and no stub for a custom tool\'s call', async () => {
    const delta = (d: Record<string, unknown>) => ({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: d, finish_reason: null }] });
    const legacy = [delta({ role: 'assistant', content: null, function_call: { name: 'find', arguments: '' } }), delta({ function_call: { arguments: '{"q":' } }), delta({ function_call: { arguments: '"x"}' } })];
    const custom = delta({ tool_calls: [{ index: 0, id: 'call_c', type: 'custom', custom: { name: 'grammar', input: 'SELECT 1' } }] });
    const joined = async (chunks: unknown[]) => {
      const { body, outcome } = relayOpenAIStream(source(chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n', 64), options);
      await readAll(body);
      return (await outcome).responseToolCalls;
    };
    expect(await joined(legacy)).toEqual([{ id: '', type: 'function', function: { name: 'find', arguments: '{"q":"x"}' } }]);
    // Flagged as a tool call, so a cache never stores the stream as its text alone.
    const { body, outcome } = relayOpenAIStream(source(legacy.map((c) => `data: ${JSON.stringify(c)}\n\n`).join(''), 64), { ...options, keepText: false });
    await readAll(body);
    expect((await outcome).toolCalls).toBe(true);
    expect(await joined([custom])).toBeUndefined();
  });
});

describe('relayOpenAIStream: reasoning kept apart from the text', () => {
  it('keeps only the answer as its text, not the reasoning in OpenRouter\'s reasoning_details or Magistral\'s thinking parts', async () => {
    const delta = (d: Record<string, unknown>) => ({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: d, finish_reason: null }] });
    const openRouter = [
      delta({ role: 'assistant', content: '', reasoning: 'Weighing it.', reasoning_details: [{ type: 'reasoning.text', text: 'Weighing it.', format: 'unknown', index: 0 }] }),
      delta({ content: 'Paris.' }),
    ];
    const magistral = [delta({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Hmm.' }] }] }), delta({ content: [{ type: 'text', text: 'Hello' }] }), delta({ content: ' there.' })];
    const relayed = async (chunks: unknown[], keepText: boolean) => {
      const { body, outcome } = relayOpenAIStream(source(chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n', 64), { ...options, keepText });
      await readAll(body);
      return outcome;
    };
    const routed = await relayed(openRouter, true);
    expect(routed.responseText).toBe('Paris.');
    expect(routed.responseReasoning).toEqual({ reasoning: 'Weighing it.' });
    expect((await relayed(magistral, true)).responseText).toBe('Hello there.');
    // The reasoning's characters still count toward the estimate of a stream without usage, whether the text is kept or not.
    expect(routed.usage).toEqual((await relayed(openRouter, false)).usage);
  });
});
