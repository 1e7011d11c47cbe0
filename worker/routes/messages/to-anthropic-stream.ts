import { SseTranslator } from '../../openai/sse-translator.ts';
import { anthropicErrorBody } from './errors.ts';
import { anthropicUsage, type ChatUsage, stopReasonOf } from './to-anthropic-response.ts';

type Json = Record<string, unknown>;

interface ChunkDelta {
  content?: unknown;
  reasoning_content?: unknown;
  thinking_blocks?: unknown;
  tool_calls?: unknown;
  provider_specific_fields?: { stop_sequence?: unknown } | null;
}
interface Chunk {
  id?: unknown;
  model?: unknown;
  choices?: { delta?: ChunkDelta | null; finish_reason?: unknown }[] | null;
  usage?: ChatUsage | null;
  error?: { message?: unknown; code?: unknown } | null;
}
interface ToolCallDelta {
  index?: unknown;
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown } | null;
}

const sse = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/**
 * OpenAI chat chunks (the gateway's stream of any provider), translated as
 * they arrive into Anthropic's stream events: message_start on the first
 * chunk; one content block per run of text, of thinking (its signature
 * ends it), and per tool call (content_block_start with the tool's id and
 * name, input_json_delta with its arguments), each closed by
 * content_block_stop; at the end message_delta
 * with the stop reason and the usage, then message_stop. An error event
 * becomes Anthropic's `error` event. Pure: feed text, send what comes out.
 */
export class AnthropicEventWriter extends SseTranslator {
  private started = false;
  private nextIndex = 0;
  private open: { kind: 'text' | 'thinking' | 'tool'; index: number } | undefined;
  private readonly toolBlocks = new Map<number, number>();
  private finishReason: string | null = null;
  private stopSequence: string | null = null;
  private usage: ChatUsage | null = null;

  protected broken(): string {
    return this.fail(502, 'the upstream stream ended unexpectedly');
  }

  fail(status: number, message: string): string {
    if (this.done) return '';
    this.done = true;
    return sse('error', anthropicErrorBody(status, message));
  }

  protected chunk(data: string): string {
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data) as Chunk;
    } catch {
      return this.fail(502, 'the upstream sent an event that is not JSON');
    }
    if (chunk.error) return this.fail(Number(chunk.error.code) || 500, str(chunk.error.message) || 'Unknown error');
    let out = this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    const delta = choice?.delta;
    if (delta) {
      if (str(delta.reasoning_content)) out += this.append('thinking', 'thinking_delta', { thinking: delta.reasoning_content });
      if (Array.isArray(delta.thinking_blocks)) out += this.thinkingBlocks(delta.thinking_blocks as Json[]);
      if (str(delta.content)) out += this.append('text', 'text_delta', { text: delta.content });
      if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls as ToolCallDelta[]) out += this.toolCall(call);
      const stop = delta.provider_specific_fields?.stop_sequence;
      if (typeof stop === 'string') this.stopSequence = stop;
    }
    if (typeof choice?.finish_reason === 'string') {
      this.finishReason = choice.finish_reason;
      out += this.close();
    }
    return out;
  }

  private start(chunk: Chunk): string {
    if (this.started) return '';
    this.started = true;
    return sse('message_start', {
      type: 'message_start',
      message: {
        id: str(chunk.id), type: 'message', role: 'assistant', model: str(chunk.model), content: [],
        stop_reason: null, stop_sequence: null,
        // Known only at the end: message_delta carries the counts.
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
  }

  /** Continues the open block of this kind, or closes the open one and starts it. */
  private append(kind: 'text' | 'thinking', deltaType: string, delta: Json): string {
    let out = '';
    if (this.open?.kind !== kind) {
      out += this.close();
      const index = this.nextIndex++;
      this.open = { kind, index };
      const block = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
      out += sse('content_block_start', { type: 'content_block_start', index, content_block: block });
    }
    return out + sse('content_block_delta', { type: 'content_block_delta', index: this.open!.index, delta: { type: deltaType, ...delta } });
  }

  private thinkingBlocks(blocks: Json[]): string {
    let out = '';
    for (const block of blocks) {
      if (block.type === 'thinking' && str(block.signature)) {
        // A signature is a thinking block's last delta: thinking after it is a block of its own.
        out += this.append('thinking', 'signature_delta', { signature: block.signature }) + this.close();
      } else if (block.type === 'redacted_thinking') {
        out += this.close();
        const index = this.nextIndex++;
        out += sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'redacted_thinking', data: str(block.data) } });
        out += sse('content_block_stop', { type: 'content_block_stop', index });
      }
    }
    return out;
  }

  private toolCall(call: ToolCallDelta): string {
    const position = typeof call.index === 'number' ? call.index : 0;
    let out = '';
    let index = this.toolBlocks.get(position);
    if (index === undefined || (typeof call.id === 'string' && call.id)) {
      out += this.close();
      index = this.nextIndex++;
      this.toolBlocks.set(position, index);
      this.open = { kind: 'tool', index };
      out += sse('content_block_start', {
        type: 'content_block_start', index,
        content_block: { type: 'tool_use', id: str(call.id), name: str(call.function?.name), input: {} },
      });
    }
    const args = str(call.function?.arguments);
    if (args) out += sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: args } });
    return out;
  }

  private close(): string {
    if (!this.open) return '';
    const { index } = this.open;
    this.open = undefined;
    return sse('content_block_stop', { type: 'content_block_stop', index });
  }

  protected finish(): string {
    this.done = true;
    const out = this.start({}) + this.close();
    const stopReason = stopReasonOf(this.finishReason, this.stopSequence);
    return out
      + sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: stopReason === 'stop_sequence' ? this.stopSequence : null },
        usage: anthropicUsage(this.usage),
      })
      + sse('message_stop', { type: 'message_stop' });
  }
}

/**
 * The gateway's chat stream relayed as Anthropic events, pulled by the
 * client: its going away cancels the chat stream, which cancels the upstream.
 */
export function toAnthropicStream(chat: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = chat.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const writer = new AnthropicEventWriter();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch {
          if (!writer.done) controller.enqueue(encoder.encode(writer.fail(502, 'the upstream stream ended unexpectedly')));
          controller.close();
          return;
        }
        // After message_stop the chat stream is read to its end, so the call settles as complete, not as a disconnect.
        if (writer.done) {
          if (result.done) return controller.close();
          continue;
        }
        const out = result.done
          ? writer.push(decoder.decode()) + writer.end()
          : writer.push(decoder.decode(result.value, { stream: true }));
        if (out) controller.enqueue(encoder.encode(out));
        if (result.done) return controller.close();
        if (out) return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
