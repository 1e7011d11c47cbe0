import { describe, expect, it } from 'vitest';
import { fixtureSse } from '../../../test/fakes/anthropic.ts';
import { openaiChatChunks } from '../../../test/fakes/openai-format.ts';
import { AnthropicStreamTranslator } from '../../providers/anthropic/stream-translator.ts';
import { AnthropicEventWriter, toAnthropicStream } from './to-anthropic-stream.ts';

function write(bytes: Uint8Array, cuts: number[]): string {
  const writer = new AnthropicEventWriter();
  const decoder = new TextDecoder();
  let out = '';
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out += writer.push(decoder.decode(bytes.subarray(from, cut), { stream: true }));
    from = cut;
  }
  return out + writer.push(decoder.decode()) + writer.end();
}

const parse = (sse: string) => sse.split('\n\n').filter(Boolean).map((event) => {
  const [typeLine, dataLine] = event.split('\n');
  const data = JSON.parse((dataLine ?? '').slice(6)) as Record<string, unknown>;
  expect(typeLine).toBe(`event: ${String(data.type)}`);
  return data;
});

/** Anthropic's fixture through the adapter's translator: the chat stream the gateway would relay. */
function chatStreamOf(fixture: string): string {
  const translator = new AnthropicStreamTranslator({ clientWantsUsage: true, jsonMode: false, created: 1, secrets: [] });
  return translator.push(fixtureSse(fixture)) + translator.end();
}

describe('AnthropicEventWriter', () => {
  it('turns a chat stream with text and parallel tool calls into Anthropic events, whatever the splits', () => {
    const chat = new TextEncoder().encode(chatStreamOf('tool-use'));
    const whole = write(chat, []);
    for (let i = 1; i < chat.length; i += 1) expect(write(chat, [i]), `split at byte ${i}`).toBe(whole);
    expect(parse(whole)).toEqual([
      {
        type: 'message_start',
        message: { id: 'msg_014p7gG3wDgGV9EUtLvnow3U', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Okay' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ', let\'s check both cities.' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"location":' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ' "San Francisco, CA"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_01V2y2gK45rBnl3uOsSoO8Vq7', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"location": "New' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: ' York, NY"}' } },
      { type: 'content_block_stop', index: 2 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { input_tokens: 472, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, output_tokens: 89 },
      },
      { type: 'message_stop' },
    ]);
  });

  it('turns reasoning and its signature into a thinking block', () => {
    const events = parse(write(new TextEncoder().encode(chatStreamOf('thinking')), []));
    expect(events.slice(1, 6)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: '27 * 453 = 12231' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
    ]);
  });

  it('turns an OpenAI provider\'s stream, usage chunk included, into the same shape', () => {
    const chunks = openaiChatChunks({ model: 'gpt-4o', pieces: ['Hi', ' there'], promptTokens: 10, completionTokens: 2, cachedTokens: 4, includeUsage: true });
    const events = parse(write(new TextEncoder().encode(`${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`), []));
    expect(events.map((e) => e.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(events.at(-2)).toEqual({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { input_tokens: 6, cache_creation_input_tokens: 0, cache_read_input_tokens: 4, output_tokens: 2 } });
  });

  it('turns an error event into Anthropic\'s, and a stream cut short into an api_error', () => {
    const overloaded = parse(write(new TextEncoder().encode(chatStreamOf('overloaded-midstream')), []));
    expect(overloaded.at(-1)).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'litellm.InternalServerError: AnthropicException - Overloaded' } });
    const cut = parse(write(new TextEncoder().encode('data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"x"}}]}\n\n'), []));
    expect(cut.at(-1)).toEqual({ type: 'error', error: { type: 'api_error', message: 'the upstream stream ended unexpectedly' } });
  });

  it('reads the chat stream to its end, and passes a cancel on', async () => {
    let cancelled = false;
    const chat = new ReadableStream<Uint8Array>({
      start(controller) { controller.enqueue(new TextEncoder().encode('data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"x"}}]}\n\n')); },
      cancel() { cancelled = true; },
    });
    const reader = toAnthropicStream(chat).getReader();
    await reader.read();
    await reader.cancel();
    expect(cancelled).toBe(true);
  });
});
