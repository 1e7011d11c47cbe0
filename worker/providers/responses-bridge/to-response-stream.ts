import { SseTranslator } from '../../openai/sse-translator.ts';
import { functionCallItem, incompleteReason, itemId, messageItem, reasoningItem, responseObject, type ChatUsage, type ResponseShell, responsesUsage } from './to-response.ts';

/**
 * OpenAI chat chunks (every adapter's stream) as the Responses API's typed
 * stream events, translated as they arrive: response.created and
 * response.in_progress on the first chunk; one output item per run of
 * reasoning (reasoning_summary_* events), of text (content_part and
 * output_text events) and per tool call (function_call_arguments events),
 * each closed with its `.done` events and response.output_item.done; at the
 * end response.completed (or response.incomplete when the answer was cut
 * off) with the whole response and its usage. An error chunk, or a stream
 * that stops before `[DONE]`, ends in response.failed.
 */

type Json = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');

interface Chunk {
  model?: unknown;
  choices?: { delta?: { content?: unknown; reasoning_content?: unknown; tool_calls?: ToolCallDelta[] | null } | null; finish_reason?: unknown }[] | null;
  usage?: ChatUsage | null;
  error?: { message?: unknown; code?: unknown; type?: unknown } | null;
}
interface ToolCallDelta {
  index?: unknown;
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown } | null;
}

interface OpenItem {
  kind: 'message' | 'reasoning' | 'function_call';
  id: string;
  index: number;
  text: string;
  /** function_call: the chat tool call's index, id and name. */
  toolIndex?: number;
  callId?: string;
  name?: string;
}

export class ResponsesEventWriter extends SseTranslator {
  private started = false;
  private sequence = 0;
  private model = '';
  private readonly output: Json[] = [];
  private open: OpenItem | undefined;
  private finishReason: unknown = null;
  private usage: ChatUsage | null = null;

  private readonly shell: ResponseShell;

  constructor(shell: ResponseShell) {
    super();
    this.shell = shell;
  }

  protected broken(): string {
    return this.fail('upstream_error', 'the upstream stream ended unexpectedly');
  }

  private sse(type: string, data: Json): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...data })}\n\n`;
  }

  protected chunk(data: string): string {
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data) as Chunk;
    } catch {
      return this.fail('upstream_error', 'the upstream sent an event that is not JSON');
    }
    if (chunk.error) return this.fail(str(chunk.error.type) || String(chunk.error.code ?? 'server_error'), str(chunk.error.message) || 'Unknown error');
    let out = this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    const delta = choice?.delta;
    if (delta) {
      if (str(delta.reasoning_content)) out += this.appendText('reasoning', str(delta.reasoning_content));
      if (str(delta.content)) out += this.appendText('message', str(delta.content));
      for (const call of delta.tool_calls ?? []) out += this.toolCall(call);
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
    this.model = str(chunk.model);
    const response = responseObject(this.shell, this.model, 'in_progress', [], null);
    return this.sse('response.created', { response }) + this.sse('response.in_progress', { response });
  }

  /** Continues the open item of this kind, or closes the open one and starts it. */
  private appendText(kind: 'message' | 'reasoning', delta: string): string {
    let out = '';
    if (this.open?.kind !== kind) {
      out += this.close();
      const item: OpenItem = { kind, id: itemId(kind === 'message' ? 'msg' : 'rs'), index: this.output.length, text: '' };
      this.open = item;
      this.output.push({});
      const at = { item_id: item.id, output_index: item.index };
      if (kind === 'message') {
        out += this.sse('response.output_item.added', { output_index: item.index, item: messageItem(item.id, '', 'in_progress') });
        out += this.sse('response.content_part.added', { ...at, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      } else {
        out += this.sse('response.output_item.added', { output_index: item.index, item: reasoningItem(item.id, '') });
        out += this.sse('response.reasoning_summary_part.added', { ...at, summary_index: 0, part: { type: 'summary_text', text: '' } });
      }
    }
    const item = this.open!;
    item.text += delta;
    const at = { item_id: item.id, output_index: item.index };
    return out + (kind === 'message'
      ? this.sse('response.output_text.delta', { ...at, content_index: 0, delta, logprobs: [] })
      : this.sse('response.reasoning_summary_text.delta', { ...at, summary_index: 0, delta }));
  }

  private toolCall(call: ToolCallDelta): string {
    const toolIndex = typeof call.index === 'number' ? call.index : 0;
    let out = '';
    // A new call: another index, or (from hosts that send no index) another id.
    if (this.open?.kind !== 'function_call' || this.open.toolIndex !== toolIndex || (str(call.id) !== '' && str(call.id) !== this.open.callId)) {
      out += this.close();
      const item: OpenItem = { kind: 'function_call', id: itemId('fc'), index: this.output.length, text: '', toolIndex, callId: str(call.id), name: str(call.function?.name) };
      this.open = item;
      this.output.push({});
      out += this.sse('response.output_item.added', { output_index: item.index, item: functionCallItem(item.id, item.callId!, item.name!, '', 'in_progress') });
    }
    const args = str(call.function?.arguments);
    if (!args) return out;
    this.open!.text += args;
    return out + this.sse('response.function_call_arguments.delta', { item_id: this.open!.id, output_index: this.open!.index, delta: args });
  }

  /** Closes the open item: its `.done` events, and its final form in the output. */
  private close(): string {
    const item = this.open;
    if (!item) return '';
    this.open = undefined;
    const at = { item_id: item.id, output_index: item.index };
    let out = '';
    let done: Json;
    if (item.kind === 'message') {
      const part = { type: 'output_text', text: item.text, annotations: [] };
      out += this.sse('response.output_text.done', { ...at, content_index: 0, text: item.text, logprobs: [] });
      out += this.sse('response.content_part.done', { ...at, content_index: 0, part });
      // An answer cut off (max_output_tokens) leaves its message incomplete, as OpenAI marks it.
      done = messageItem(item.id, item.text, incompleteReason(this.finishReason) ? 'incomplete' : 'completed');
    } else if (item.kind === 'reasoning') {
      const part = { type: 'summary_text', text: item.text };
      out += this.sse('response.reasoning_summary_text.done', { ...at, summary_index: 0, text: item.text });
      out += this.sse('response.reasoning_summary_part.done', { ...at, summary_index: 0, part });
      done = reasoningItem(item.id, item.text);
    } else {
      out += this.sse('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.text });
      done = functionCallItem(item.id, item.callId!, item.name!, item.text);
    }
    this.output[item.index] = done;
    return out + this.sse('response.output_item.done', { output_index: item.index, item: done });
  }

  protected finish(): string {
    let out = this.start({});
    out += this.close();
    this.done = true;
    const incomplete = incompleteReason(this.finishReason);
    const response = responseObject(this.shell, this.model, incomplete ? 'incomplete' : 'completed', this.output, responsesUsage(this.usage), incomplete ? { incomplete } : {});
    return out + this.sse(incomplete ? 'response.incomplete' : 'response.completed', { response });
  }

  private fail(code: string, message: string): string {
    if (this.done) return '';
    let out = this.start({});
    out += this.close();
    this.done = true;
    const response = responseObject(this.shell, this.model, 'failed', this.output, responsesUsage(this.usage), { error: { code, message } });
    return out + this.sse('response.failed', { response });
  }
}

/** The chat stream's bytes, translated as they arrive. */
export function toResponsesStream(chat: ReadableStream<Uint8Array>, shell: ResponseShell): ReadableStream<Uint8Array> {
  const writer = new ResponsesEventWriter(shell);
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  return chat.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(bytes, controller) {
      const out = writer.push(decoder.decode(bytes, { stream: true }));
      if (out) controller.enqueue(encoder.encode(out));
    },
    flush(controller) {
      const out = writer.push(decoder.decode()) + writer.end();
      if (out) controller.enqueue(encoder.encode(out));
    },
  }));
}
