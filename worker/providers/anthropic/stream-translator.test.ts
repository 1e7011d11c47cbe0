import { describe, expect, it } from 'vitest';
import { fixtureSse } from '../../../test/fakes/anthropic.ts';
import { AnthropicStreamTranslator, type StreamTranslatorOptions } from './stream-translator.ts';

const options: StreamTranslatorOptions = { clientWantsUsage: true, jsonMode: false, created: 1_700_000_000, secrets: [] };

/** Feeds the bytes in the given pieces through a streaming UTF-8 decoder, as the relay does. */
function translate(bytes: Uint8Array, cuts: number[], opts = options) {
  const translator = new AnthropicStreamTranslator(opts);
  const decoder = new TextDecoder();
  let out = '';
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out += translator.push(decoder.decode(bytes.subarray(from, cut), { stream: true }));
    from = cut;
  }
  out += translator.push(decoder.decode()) + translator.end();
  return { out, translator };
}

const events = (out: string) => out.split('\n\n').filter(Boolean).map((e) => (e === 'data: [DONE]' ? '[DONE]' : JSON.parse(e.slice(6)) as Record<string, unknown>));
const head = (id: string) => ({ id, object: 'chat.completion.chunk', created: 1_700_000_000, model: 'claude-sonnet-4-5-20250929' });
const delta = (id: string, d: Record<string, unknown>, finish: string | null = null) => ({ ...head(id), choices: [{ index: 0, delta: d, finish_reason: finish }] });

describe('AnthropicStreamTranslator', () => {
  it.each(['text', 'tool-use', 'thinking'])('decodes %s the same when split at any byte', (name) => {
    const bytes = new TextEncoder().encode(fixtureSse(name));
    const whole = translate(bytes, []).out;
    for (let i = 1; i < bytes.length; i++) expect(translate(bytes, [i]).out, `split at byte ${i}`).toBe(whole);
    expect(translate(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)).out).toBe(whole);
    expect(translate(new TextEncoder().encode(fixtureSse(name).replaceAll('\n', '\r\n')), [7, 300]).out).toBe(whole);
  });

  it('translates text deltas, the finish and the usage chunk', () => {
    const { out, translator } = translate(new TextEncoder().encode(fixtureSse('text')), []);
    const id = 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY';
    expect(events(out)).toEqual([
      delta(id, { role: 'assistant', content: '' }),
      delta(id, { content: 'Hello' }),
      delta(id, { content: ', wörld 👋' }),
      delta(id, { content: '!' }),
      delta(id, {}, 'stop'),
      { ...head(id), choices: [], usage: { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40, prompt_tokens_details: { cached_tokens: 0 }, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
      '[DONE]',
    ]);
    expect(translator.text).toBe('Hello, wörld 👋!');
  });

  it('streams parallel tool calls in order: id and name first, then arguments', () => {
    const { out, translator } = translate(new TextEncoder().encode(fixtureSse('tool-use')), [], { ...options, clientWantsUsage: false });
    const id = 'msg_014p7gG3wDgGV9EUtLvnow3U';
    expect(events(out)).toEqual([
      delta(id, { role: 'assistant', content: '' }),
      delta(id, { content: 'Okay' }),
      delta(id, { content: ', let\'s check both cities.' }),
      delta(id, { tool_calls: [{ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      delta(id, { tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
      delta(id, { tool_calls: [{ index: 0, function: { arguments: ' "San Francisco, CA"}' } }] }),
      delta(id, { tool_calls: [{ index: 1, id: 'toolu_01V2y2gK45rBnl3uOsSoO8Vq7', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      delta(id, { tool_calls: [{ index: 1, function: { arguments: '{"location": "New' } }] }),
      delta(id, { tool_calls: [{ index: 1, function: { arguments: ' York, NY"}' } }] }),
      delta(id, {}, 'tool_calls'),
      '[DONE]',
    ]);
    // Cache reads and writes from message_start, output from message_delta.
    expect(translator.tokens).toEqual({ input: 472, output: 89, cacheRead: 2000, cacheCreation: 100 });
  });

  it('gives thinking as reasoning_content, its signature in thinking_blocks', () => {
    const { out } = translate(new TextEncoder().encode(fixtureSse('thinking')), [], { ...options, clientWantsUsage: false });
    const id = 'msg_01Think3z';
    expect(events(out).slice(1, 4)).toEqual([
      delta(id, { reasoning_content: '27 * 453 = 12231' }),
      delta(id, { thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' }] }),
      delta(id, { content: '12,231' }),
    ]);
  });

  it('streams the forced JSON tool\'s input as content in JSON mode', () => {
    const sse = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_j","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":9,"output_tokens":1}}}',
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_j","name":"json_tool_call","input":{}}}',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\":"}}',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"1}"}}',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":5}}',
      'event: message_stop\ndata: {"type":"message_stop"}',
    ].join('\n\n') + '\n\n';
    const { out } = translate(new TextEncoder().encode(sse), [], { ...options, clientWantsUsage: false, jsonMode: true });
    const id = 'msg_j';
    expect(events(out)).toEqual([
      delta(id, { role: 'assistant', content: '' }),
      delta(id, { content: '{"a":' }),
      delta(id, { content: '1}' }),
      delta(id, {}, 'stop'),
      '[DONE]',
    ]);
  });

  it('marks the stop sequence that ended an answer as left out of its kept text, and a plain end not', () => {
    const answer = (stop: string) => [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_s","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":9,"output_tokens":1}}}',
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"1, 2, "}}',
      `event: message_delta\ndata: {"type":"message_delta","delta":${stop},"usage":{"output_tokens":5}}`,
      'event: message_stop\ndata: {"type":"message_stop"}',
    ].join('\n\n') + '\n\n';
    const { out, translator } = translate(new TextEncoder().encode(answer('{"stop_reason":"stop_sequence","stop_sequence":"3"}')), [], { ...options, clientWantsUsage: false });
    expect(events(out).at(-2)).toEqual(delta('msg_s', { provider_specific_fields: { stop_sequence: '3' } }, 'stop'));
    expect(translator.partsLeftOut).toBe(true);
    expect(translate(new TextEncoder().encode(answer('{"stop_reason":"end_turn","stop_sequence":null}')), []).translator.partsLeftOut).toBe(false);
  });

  it('ends with an error event on an in-band error, keeping what came before', () => {
    const { out, translator } = translate(new TextEncoder().encode(fixtureSse('overloaded-midstream')), [33]);
    const all = events(out);
    expect(all.at(-2)).toEqual(delta('msg_01Overload5x', { content: 'Partial' }));
    expect(all.at(-1)).toEqual({ error: { message: 'litellm.InternalServerError: AnthropicException - Overloaded', type: 'internal_server_error', param: null, code: '529' } });
    expect(translator.error?.status).toBe(529);
    expect(translator.finishReason).toBeNull();
  });

  it('treats a stream that ends before message_delta as broken', () => {
    const partial = fixtureSse('text').split('event: message_delta')[0] ?? '';
    const { out, translator } = translate(new TextEncoder().encode(partial), []);
    expect(events(out).at(-1)).toEqual({ error: { message: 'litellm.APIConnectionError: AnthropicException - the upstream stream ended unexpectedly', type: 'api_connection_error', param: null, code: '502' } });
    expect(translator.error?.status).toBe(502);
  });

  it('skips unknown event types and fails cleanly on a malformed one', () => {
    const start = 'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":1}}}\n\n';
    const unknown = 'event: future_event\ndata: {"type":"future_event","x":1}\n\n';
    const bad = 'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}\n\n';
    const { out, translator } = translate(new TextEncoder().encode(start + unknown + bad), []);
    expect(events(out)).toHaveLength(2);
    expect(translator.error?.message).toBe('litellm.APIConnectionError: AnthropicException - the upstream sent a malformed content_block_delta event');
  });

  it('keeps the tool calls it sent, whole and in order, only when asked to', () => {
    const bytes = new TextEncoder().encode(fixtureSse('tool-use'));
    const kept = translate(bytes, [200, 900], { ...options, keepText: true }).translator;
    expect(kept.keptToolCalls?.calls.map((c) => [c.id, c.function.name, c.function.arguments])).toEqual([
      ['toolu_01T1x1fJ34qAmk2tNTrN7Up6', 'get_weather', '{"location": "San Francisco, CA"}'],
      ['toolu_01V2y2gK45rBnl3uOsSoO8Vq7', 'get_weather', '{"location": "New York, NY"}'],
    ]);
    expect(translate(bytes, []).translator.keptToolCalls).toBeUndefined();
  });

  it('keeps at most 128 tool calls and 64 K characters of each call\'s input, as any stream\'s are kept, while the client gets them all', () => {
    const sse = (event: Record<string, unknown>) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;
    let wire = sse({ type: 'message_start', message: { id: 'msg_t', model: 'm', usage: { input_tokens: 9, output_tokens: 1 } } });
    for (let i = 0; i < 130; i++) {
      wire += sse({ type: 'content_block_start', index: i, content_block: { type: 'tool_use', id: `toolu_${i}`, name: 'f', input: {} } });
      wire += sse({ type: 'content_block_delta', index: i, delta: { type: 'input_json_delta', partial_json: i === 0 ? 'x'.repeat(70_000) : '{}' } });
      wire += sse({ type: 'content_block_stop', index: i });
    }
    wire += sse({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } }) + sse({ type: 'message_stop' });
    const { out, translator } = translate(new TextEncoder().encode(wire), [], { ...options, keepText: true });
    const calls = translator.keptToolCalls!.calls;
    expect(translator.keptToolCalls!.cut).toBe(true);
    expect(calls).toHaveLength(128);
    expect(calls.at(-1)!.id).toBe('toolu_127');
    expect(calls[0]!.function.arguments).toBe(`${'x'.repeat(64 * 1024)}...(truncated, 70000 characters)`);
    expect(calls[1]!.function.arguments).toBe('{}');
    expect(out).toContain('"id":"toolu_129"');
    expect(out).toContain('x'.repeat(70_000));
  });

  it('keeps no tool call in JSON mode, where the forced tool\'s input is the text', () => {
    const sse = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_j","model":"m","usage":{"input_tokens":9,"output_tokens":1}}}',
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_j","name":"json_tool_call","input":{}}}',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\":1}"}}',
      'event: message_stop\ndata: {"type":"message_stop"}',
    ].join('\n\n') + '\n\n';
    const { translator } = translate(new TextEncoder().encode(sse), [], { ...options, jsonMode: true, keepText: true });
    expect(translator.text).toBe('{"a":1}');
    expect(translator.keptToolCalls).toBeUndefined();
  });
});
