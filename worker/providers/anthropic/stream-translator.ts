import { errorEnvelope, type GatewayError } from '../../errors.ts';
import { type KeptToolCalls, ToolCallJoiner } from '../answer-tool-calls.ts';
import { type StreamReasoning, ThinkingJoiner } from '../kept-reasoning.ts';
import type { StreamedAs } from '../types.ts';
import { RESPONSE_FORMAT_TOOL_NAME } from './convert-tools.ts';
import { upstreamBroke, streamEventError } from './errors.ts';
import { mapStopReason } from './finish-reason.ts';
import { type AnthropicStreamEvent, anthropicStreamEventSchema, STREAM_EVENT_TYPES } from './schemas.ts';
import { type AnthropicTokenCounts, mergeUsage, NO_TOKENS, openAIUsage } from './usage.ts';

type Json = Record<string, unknown>;
const EVENT_END = /\r?\n\r?\n/;

export interface StreamTranslatorOptions {
  /** The client asked for `stream_options.include_usage`: a last chunk with `usage` and no choices. */
  clientWantsUsage: boolean;
  /** `response_format` was turned into the forced JSON tool: its input streams as content. */
  jsonMode: boolean;
  /** Seconds since the epoch, the same on every chunk (OpenAI's `created`). */
  created: number;
  /** Credentials to scrub from in-band error messages. */
  secrets: readonly (string | undefined)[];
  /** The call keeps its answer (for the logs): the tool calls and thinking are kept too (`keptToolCalls`, `keptThinking`). */
  keepText?: boolean;
}

/**
 * Anthropic's stream events, translated as they arrive into OpenAI chat
 * chunks (`data: {...}\n\n` text). Pure: the caller feeds decoded text in
 * pieces of any size and sends on what comes out.
 *
 * - message_start → the first chunk (`role: assistant`); input tokens noted
 * - text_delta → `content`; thinking_delta → `reasoning_content`
 * - tool_use block start → a tool call with its index (one per tool_use
 *   block, in order), id and name; input_json_delta → its `arguments`
 * - message_delta → the chunk with `finish_reason`; final counts noted
 * - message_stop → the usage chunk (if asked for), then `data: [DONE]`
 * - error → an OpenAI error event, and the end
 * - ping and unknown event types → nothing
 */
export class AnthropicStreamTranslator {
  tokens: AnthropicTokenCounts = NO_TOKENS;
  /** message_start was seen. */
  started = false;
  /** Set by message_delta: the counts in `tokens` are final. */
  finishReason: string | null = null;
  /** Nothing more will come out: the stream ended, failed or sent an error. */
  done = false;
  error: GatewayError | undefined;
  /** Characters of generated text, thinking and tool input, for an estimate when the stream is cut short. */
  outputChars = 0;
  /** The answer's text (in JSON mode, the forced tool's input, as the client gets it). */
  text = '';
  /** The answer carried the stop sequence that ended it (`provider_specific_fields`), which its kept answer leaves out. */
  partsLeftOut = false;

  private buffer = '';
  private id = '';
  private model = '';
  private readonly toolOfBlock = new Map<number, number>();
  private readonly jsonBlocks = new Set<number>();
  /** The tool calls the client got, joined as any stream's are (so capped alike); only with `keepText`. */
  private readonly joiner: ToolCallJoiner | undefined;
  /** The thinking blocks, rebuilt with their signatures; only with `keepText`. */
  private readonly thinking: ThinkingJoiner | undefined;

  private readonly options: StreamTranslatorOptions;

  constructor(options: StreamTranslatorOptions) {
    this.options = options;
    this.joiner = options.keepText ? new ToolCallJoiner() : undefined;
    this.thinking = options.keepText ? new ThinkingJoiner() : undefined;
  }

  /**
   * The thinking as the non-streamed answer carries it (`reasoning_content`, `thinking_blocks`), nothing without any or
   * without `keepText`; where some is not kept whole (unsigned, unfinished, past the cap), none and `partsLeftOut`: the
   * answer is not stored.
   */
  get keptThinking(): StreamReasoning {
    return this.thinking?.kept() ?? {};
  }

  /** The tool calls the client got as kept, with whether they leave out part of them (`keptAnswer`); undefined without any or without `keepText`. */
  get keptToolCalls(): KeptToolCalls | undefined {
    return this.joiner?.calls();
  }

  /** The id, `created` and model its chunks carry. */
  get streamedAs(): StreamedAs {
    return { id: this.id, created: this.options.created, model: this.model };
  }

  /** Decoded upstream text; returns the OpenAI events it completes. */
  push(text: string): string {
    if (this.done) return '';
    this.buffer += text;
    let out = '';
    for (;;) {
      const match = EVENT_END.exec(this.buffer);
      if (!match) break;
      const raw = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      out += this.event(raw);
      if (this.done) {
        this.buffer = '';
        break;
      }
    }
    return out;
  }

  /** The upstream ended. Without message_stop (or at least message_delta) that is a broken stream. */
  end(): string {
    if (this.done) return '';
    const out = this.buffer.trim() ? this.event(this.buffer) : '';
    this.buffer = '';
    if (this.done) return out;
    return out + (this.finishReason !== null ? this.closing() : this.fail(upstreamBroke()));
  }

  /** Ends the stream with an OpenAI error event. */
  fail(error: GatewayError): string {
    if (this.done) return '';
    this.done = true;
    this.error = error;
    return `data: ${JSON.stringify(errorEnvelope(error))}\n\n`;
  }

  private event(raw: string): string {
    let data = '';
    for (const line of raw.split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue;
      data += (data ? '\n' : '') + line.slice(line.startsWith('data: ') ? 6 : 5);
    }
    if (!data) return '';
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return this.fail(upstreamBroke('the upstream sent an event that is not JSON'));
    }
    const type = (json as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !STREAM_EVENT_TYPES.has(type)) return '';
    const parsed = anthropicStreamEventSchema.safeParse(json);
    if (!parsed.success) return this.fail(upstreamBroke(`the upstream sent a malformed ${type} event`));
    return this.handle(parsed.data);
  }

  private handle(event: AnthropicStreamEvent): string {
    switch (event.type) {
      case 'message_start':
        this.started = true;
        this.id = event.message.id;
        this.model = event.message.model;
        this.tokens = mergeUsage(this.tokens, event.message.usage);
        return this.chunk({ role: 'assistant', content: '' });
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'tool_use') {
          if (this.options.jsonMode && block.name === RESPONSE_FORMAT_TOOL_NAME) {
            this.jsonBlocks.add(event.index);
            return '';
          }
          const index = this.toolOfBlock.size;
          this.toolOfBlock.set(event.index, index);
          const call = { index, id: block.id ?? '', type: 'function', function: { name: block.name ?? '', arguments: '' } };
          this.joiner?.add([call]);
          return this.chunk({ tool_calls: [call] });
        }
        if (block.type === 'text' && block.text) return this.content(block.text);
        if (block.type === 'redacted_thinking') {
          this.thinking?.start(event.index, { type: 'redacted_thinking', data: block.data ?? '' });
          return this.chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: block.data ?? '' }] });
        }
        if (block.type === 'thinking') this.thinking?.start(event.index, { type: 'thinking', thinking: block.thinking ?? '', signature: block.signature ?? '' });
        return '';
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (delta.type === 'text_delta' && delta.text) return this.content(delta.text);
        if (delta.type === 'input_json_delta' && delta.partial_json) {
          if (this.jsonBlocks.has(event.index)) return this.content(delta.partial_json);
          const index = this.toolOfBlock.get(event.index);
          if (index === undefined) return '';
          this.outputChars += delta.partial_json.length;
          const call = { index, function: { arguments: delta.partial_json } };
          this.joiner?.add([call]);
          return this.chunk({ tool_calls: [call] });
        }
        if (delta.type === 'thinking_delta' && delta.thinking) {
          this.thinking?.thinking(event.index, delta.thinking);
          this.outputChars += delta.thinking.length;
          return this.chunk({ reasoning_content: delta.thinking });
        }
        if (delta.type === 'signature_delta' && delta.signature) {
          this.thinking?.signature(event.index, delta.signature);
          return this.chunk({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: delta.signature }] });
        }
        return '';
      }
      case 'message_delta': {
        this.tokens = mergeUsage(this.tokens, event.usage);
        const stop = event.delta.stop_reason;
        // JSON mode: the forced tool's input went out as content, so the answer simply stopped.
        const jsonOnly = this.jsonBlocks.size > 0 && this.toolOfBlock.size === 0;
        this.finishReason = jsonOnly && stop === 'tool_use' ? 'stop' : mapStopReason(stop) ?? 'stop';
        const sequence = stop === 'stop_sequence' ? event.delta.stop_sequence : undefined;
        if (sequence) this.partsLeftOut = true;
        const delta = sequence ? { provider_specific_fields: { stop_sequence: sequence } } : {};
        return this.chunk(delta, this.finishReason);
      }
      case 'message_stop':
        return this.closing();
      case 'error':
        return this.fail(streamEventError(event.error.type, event.error.message, this.options.secrets));
      case 'content_block_stop':
        this.thinking?.stop(event.index);
        return '';
      case 'ping':
        return '';
    }
  }

  private content(text: string): string {
    this.note(text);
    return this.chunk({ content: text });
  }

  private note(text: string): void {
    this.outputChars += text.length;
    this.text += text;
  }

  private chunk(delta: Json, finishReason: string | null = null): string {
    const chunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.options.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }

  private closing(): string {
    this.done = true;
    let out = this.finishReason === null ? this.chunk({}, (this.finishReason = 'stop')) : '';
    if (this.options.clientWantsUsage) {
      const usage = { id: this.id, object: 'chat.completion.chunk', created: this.options.created, model: this.model, choices: [], usage: openAIUsage(this.tokens) };
      out += `data: ${JSON.stringify(usage)}\n\n`;
    }
    return `${out}data: [DONE]\n\n`;
  }
}
