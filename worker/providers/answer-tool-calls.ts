import { isObject, type Json } from '../json.ts';
import { keptReasoning } from './kept-reasoning.ts';
import type { AnswerToolCall, CallOutcome } from './types.ts';

// The tool calls an answer made, kept beside its text for the logs (`CallOutcome.responseToolCalls`).

/** An answer's tool calls as kept: at most this many, each call's `arguments` to this many characters (a hostile upstream's endless calls cost no more). */
const MAX_KEPT_CALLS = 128;
export const MAX_KEPT_ARGUMENT_CHARS = 64 * 1024;

/** An answer's tool calls as kept, and whether they leave out part of the answer's (past a cap, a custom tool's): then a stream's answer is not rebuilt for the cache (`toolCallsCut`). */
export interface KeptToolCalls {
  calls: AnswerToolCall[];
  cut: boolean;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * What an outcome keeps of an answer when the call keeps its text: the text where there is one, the tool calls where
 * it made any, and a plain chat answer's reasoning, read from its first choice's `message` where one is given
 * (`keptReasoning`; a stream's is joined apart). A plain answer's whole list is capped here as a stream's is while it
 * is joined (`cappedCalls`): one rule for both.
 */
export function keptAnswer(
  text: string | undefined,
  toolCalls: KeptToolCalls | readonly AnswerToolCall[] | undefined,
  message?: unknown,
): Pick<CallOutcome, 'responseText' | 'responseToolCalls' | 'toolCallsCut' | 'responseReasoning'> {
  const kept = isKeptList(toolCalls) ? toolCalls : toolCalls && cappedCalls(toolCalls);
  return {
    ...(text !== undefined ? { responseText: text } : {}),
    ...(kept?.calls.length ? { responseToolCalls: kept.calls } : {}),
    ...(kept?.cut ? { toolCallsCut: true } : {}),
    ...keptReasoning(message),
  };
}

const isKeptList = (calls: KeptToolCalls | readonly AnswerToolCall[] | undefined): calls is KeptToolCalls => !!calls && !Array.isArray(calls);

/** A chat answer message's tool calls (`tool_calls`, else the legacy `function_call` as one call without an id); undefined without any. */
export function chatToolCalls(message: unknown): AnswerToolCall[] | undefined {
  if (!isObject(message)) return undefined;
  const calls: AnswerToolCall[] = [];
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (isObject(call) && isObject(call.function)) calls.push(toolCall(str(call.id), call.function));
    }
  } else if (isObject(message.function_call)) {
    calls.push(toolCall('', message.function_call));
  }
  return calls.length ? calls : undefined;
}

/** A Responses API answer's `function_call` items as chat tool calls (their `call_id` the id), in order; undefined without any. */
export function responsesToolCalls(output: unknown): AnswerToolCall[] | undefined {
  if (!Array.isArray(output)) return undefined;
  const calls = output.filter((item): item is Json => isObject(item) && item.type === 'function_call').map((item) => toolCall(str(item.call_id), item));
  return calls.length ? calls : undefined;
}

/** A plain answer's tool calls as kept (`cappedCalls`): a chat completion's first choice's, or a Responses API answer's `function_call` items. */
export function answerToolCalls(answer: unknown): AnswerToolCall[] | undefined {
  if (!isObject(answer)) return undefined;
  const first = Array.isArray(answer.choices) ? answer.choices[0] : undefined;
  const calls = isObject(first) ? chatToolCalls(first.message) : responsesToolCalls(answer.output);
  return calls && cappedCalls(calls).calls;
}

/** A Responses API event's finished `function_call` item (`response.output_item.done`), as a chat tool call; undefined for any other item. */
export function finishedToolCall(event: unknown): AnswerToolCall | undefined {
  return isObject(event) && isObject(event.item) && event.item.type === 'function_call' ? toolCall(str(event.item.call_id), event.item) : undefined;
}

/** An answer's whole tool calls as kept: the first 128, each call's `arguments` cut to 64 K characters and marked. */
export function cappedCalls(calls: readonly AnswerToolCall[]): KeptToolCalls {
  const kept = calls.slice(0, MAX_KEPT_CALLS).map((call) => (call.function.arguments.length > MAX_KEPT_ARGUMENT_CHARS
    ? cutCall(call, call.function.arguments.slice(0, MAX_KEPT_ARGUMENT_CHARS), call.function.arguments.length)
    : call));
  return { calls: kept, cut: calls.length > kept.length || kept.some((call, i) => call !== calls[i]) };
}

/** `kept` with one more whole tool call, as kept (`cappedCalls`); a call past the 128th is left out. */
export function withCall(kept: KeptToolCalls | undefined, call: AnswerToolCall): KeptToolCalls {
  const list = kept ?? { calls: [], cut: false };
  if (list.calls.length >= MAX_KEPT_CALLS) return { ...list, cut: true };
  const one = cappedCalls([call]);
  list.calls.push(...one.calls);
  return one.cut ? { ...list, cut: true } : list;
}

/** A call whose `arguments` were cut to `kept`, marked as the logs mark a cut, with their whole `length`. */
function cutCall(call: AnswerToolCall, kept: string, length: number): AnswerToolCall {
  return { ...call, function: { ...call.function, arguments: `${kept}...(truncated, ${length} characters)` } };
}

function toolCall(id: string, fn: Json): AnswerToolCall {
  return { id, type: 'function', function: { name: str(fn.name), arguments: str(fn.arguments) } };
}

/**
 * A streamed answer's tool calls, joined from their deltas (OpenAI's chunk shape) by `index`: id and name from
 * the first delta carrying them, `arguments` concatenated; the legacy `function_call` as the call at index 0.
 * Fed only the first choice's deltas (the caller picks them). At most 128 calls (later indexes are left out) and 64 K
 * characters of each call's `arguments`, the rest left out and marked with the arguments' whole length.
 */
export class ToolCallJoiner {
  private readonly byIndex = new Map<number, AnswerToolCall>();
  /** The whole length of each call's `arguments`, where more came than is kept. */
  private readonly cutLength = new Map<AnswerToolCall, number>();
  /** A call was left out (a custom tool's, one past the 128th). */
  private leftOut = false;
  /** A delta without `index`: the index of the call last started at its place in the list. */
  private readonly atPosition = new Map<number, number>();

  /** A first choice's delta: its `tool_calls`, or its legacy `function_call`. */
  addDelta(delta: unknown): void {
    if (!isObject(delta)) return;
    if (Array.isArray(delta.tool_calls)) this.add(delta.tool_calls);
    else if (isObject(delta.function_call)) this.add([{ index: 0, function: delta.function_call }]);
  }

  /** A delta's `tool_calls`. */
  add(deltas: unknown): void {
    if (!Array.isArray(deltas)) return;
    deltas.forEach((delta: unknown, position) => {
      if (!isObject(delta)) return;
      const id = str(delta.id);
      const index = typeof delta.index === 'number' ? delta.index : this.unindexed(position, id);
      let call = this.byIndex.get(index);
      if (!call) {
        // A function's call starts with its function, its type or its id alone; a custom tool's call is not kept, as in a plain answer.
        const custom = delta.type === 'custom' || delta.custom !== undefined;
        if (custom || this.byIndex.size >= MAX_KEPT_CALLS) this.leftOut = true;
        if (custom || !(isObject(delta.function) || delta.type === 'function' || id) || this.byIndex.size >= MAX_KEPT_CALLS) return;
        call = { id: '', type: 'function', function: { name: '', arguments: '' } };
        this.byIndex.set(index, call);
      }
      const fn = isObject(delta.function) ? delta.function : {};
      if (!call.id) call.id = id;
      if (!call.function.name) call.function.name = str(fn.name);
      this.append(call, str(fn.arguments));
    });
  }

  /**
   * Where a delta without `index` goes: the call last started in its place in the list, or, where it names another
   * call's id, a new call after all the others (a provider that sends each call whole in its own chunk, each at 0).
   */
  private unindexed(position: number, id: string): number {
    const index = this.atPosition.get(position) ?? position;
    const call = this.byIndex.get(index);
    if (!call || !id || !call.id || call.id === id) return index;
    const next = Math.max(...this.byIndex.keys()) + 1;
    this.atPosition.set(position, next);
    return next;
  }

  private append(call: AnswerToolCall, piece: string): void {
    const had = this.cutLength.get(call) ?? call.function.arguments.length;
    const room = MAX_KEPT_ARGUMENT_CHARS - call.function.arguments.length;
    if (piece.length > room) {
      if (room > 0) call.function.arguments += piece.slice(0, room);
      this.cutLength.set(call, had + piece.length);
    } else {
      call.function.arguments += piece;
    }
  }

  /** The calls joined so far, in index order (cut arguments marked as the logs mark a cut: `...(truncated, N characters)`); undefined when none came. */
  calls(): KeptToolCalls | undefined {
    if (!this.byIndex.size) return undefined;
    const calls = [...this.byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, call]) => {
      const length = this.cutLength.get(call);
      return length === undefined ? call : cutCall(call, call.function.arguments, length);
    });
    return { calls, cut: this.leftOut || this.cutLength.size > 0 };
  }
}
