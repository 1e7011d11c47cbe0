/**
 * An answer's tool calls (`CallOutcome.responseToolCalls`) as the logs show them: in the chat message
 * (`{role, content, tool_calls}`, content null when the answer is only tool calls, as OpenAI's and LiteLLM's) or
 * as the Responses API's `function_call` output items, within a character budget so a huge `arguments` string
 * cannot make a record too large for its Queue message.
 */
import { MAX_KEPT_ARGUMENT_CHARS } from '../providers/answer-tool-calls.ts';
import type { AnswerToolCall } from '../providers/types.ts';

/** Characters of a tool call's id and name kept: a provider's, short; a long one is no place for the answer to hide. */
const NAME_CHARS = 256;
/** What a tool call costs in JSON besides its id, name and arguments. */
const CALL_OVERHEAD = 64;

/** The outcome's tool calls, or undefined when it has none. */
export const toolCallsOf = (outcome: { responseToolCalls?: readonly AnswerToolCall[] } | undefined): readonly AnswerToolCall[] | undefined =>
  outcome?.responseToolCalls?.length ? outcome.responseToolCalls : undefined;

/** A text cut to `max` characters, marked when cut with its whole `length` (never half of a surrogate pair). */
export function cutText(text: string, max: number, length = text.length): string {
  return text.length <= max ? text : marked(text, max, length);
}

/** `text` cut to `max` characters (all of it when shorter) and marked with the whole `length` it was cut from. */
function marked(text: string, max: number, length: number): string {
  const end = max > 0 && max < text.length && /[\ud800-\udbff]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}...(truncated, ${length} characters)`;
}

/** The mark the kept answer puts after the first 64 K characters of `arguments` it cut (providers/answer-tool-calls.ts): their whole length. */
const KEPT_CUT = /^\.\.\.\(truncated, (\d+) characters\)$/;

/**
 * A tool call's `arguments` cut to `max` characters and marked: where the kept answer had already cut them, the
 * mark states the whole length the answer's were, not the kept one (one rule for a plain and a streamed answer),
 * and stays when the kept part fits but its mark does not.
 */
function cutArguments(args: string, max: number): string {
  if (args.length <= max) return args;
  const whole = args.length > MAX_KEPT_ARGUMENT_CHARS ? KEPT_CUT.exec(args.slice(MAX_KEPT_ARGUMENT_CHARS))?.[1] : undefined;
  return whole === undefined ? cutText(args, max) : marked(args.slice(0, MAX_KEPT_ARGUMENT_CHARS), max, Number(whole));
}

/**
 * The tool calls within about `max` characters of JSON together: ids and names cut to 256 characters, each
 * `arguments` cut (marked) to what is left of the budget, and the calls past it left out (never the first: what
 * the answer called is always shown).
 */
export function boundedToolCalls(calls: readonly AnswerToolCall[], max: number): AnswerToolCall[] {
  const out: AnswerToolCall[] = [];
  let left = max;
  for (const call of calls) {
    const id = call.id.slice(0, NAME_CHARS);
    const name = call.function.name.slice(0, NAME_CHARS);
    left -= id.length + name.length + CALL_OVERHEAD;
    if (left < 0 && out.length) break;
    const args = cutArguments(call.function.arguments, Math.max(left, 0));
    left -= args.length;
    out.push({ id, type: 'function', function: { name, arguments: args } });
  }
  return out;
}

/** The budget of the tool calls beside a text kept within `max`: what the text leaves, and never under a quarter of it. */
export const toolCallBudget = (max: number, textChars: number): number => Math.max(max - textChars, Math.floor(max / 4));

/**
 * What a logged chat answer shows beside its text, within about `max` characters together with it: the reasoning
 * cut (marked) to what the text leaves, the tool calls to what both leave, each never under a quarter of `max` (a
 * huge one must not make a record too large for its Queue message). The text itself is the caller's to bound, cut to
 * `max` as its log marks a cut.
 */
export function boundedChatParts(text: string | undefined, calls: readonly AnswerToolCall[] | undefined, reasoning: string | undefined, max: number): { reasoning?: string; calls?: AnswerToolCall[] } {
  const textChars = Math.min(text?.length ?? 0, max);
  const thought = reasoning === undefined ? undefined : cutText(reasoning, toolCallBudget(max, textChars));
  return {
    ...(thought !== undefined ? { reasoning: thought } : {}),
    ...(calls ? { calls: boundedToolCalls(calls, toolCallBudget(max, textChars + (thought?.length ?? 0))) } : {}),
  };
}

/** OpenAI's finish reasons a logged answer may name as they came. */
const OPENAI_FINISH = new Set(['stop', 'length', 'tool_calls', 'content_filter']);

/**
 * The finish reason logged beside an answer's tool calls: the one the answer gave where it is OpenAI's (a call cut
 * at `max_tokens` is `length`, a forced call `stop`), else `tool_calls`.
 */
export const toolCallsFinish = (finishReason: string | undefined): string => (finishReason && OPENAI_FINISH.has(finishReason) ? finishReason : 'tool_calls');

/**
 * The answer as a chat completion's message: its text, with its tool calls when it has any (content null then when
 * there is no text), and its reasoning as LiteLLM's message carries it (`reasoning_content`) when there is some.
 */
export function chatMessage(content: unknown, calls: readonly AnswerToolCall[] | undefined, reasoning?: string): Record<string, unknown> {
  const thought = reasoning === undefined ? {} : { reasoning_content: reasoning };
  if (!calls) return { role: 'assistant', content, ...thought };
  return { role: 'assistant', content: content === undefined || content === '' ? null : content, tool_calls: calls, ...thought };
}

/** The answer as a Responses API `output`: a message with its text (none for an empty one beside tool calls), then a `function_call` item per tool call. */
export function responsesOutput(text: unknown, calls: readonly AnswerToolCall[] | undefined): Record<string, unknown>[] {
  const output: Record<string, unknown>[] = [];
  if (text !== undefined && (text !== '' || !calls)) output.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
  for (const call of calls ?? []) output.push({ type: 'function_call', call_id: call.id, name: call.function.name, arguments: call.function.arguments });
  return output;
}
