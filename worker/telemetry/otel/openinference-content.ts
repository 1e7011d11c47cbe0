/**
 * The prompt and the answer of an OpenInference span (openinference.ts) within
 * character budgets: the input messages share one budget, newest first, so a
 * long conversation keeps its latest turns (and says how many earlier ones were
 * left out) instead of growing past a queue message and losing everything; the
 * answer has a budget of its own, which the sink lowers only after the prompt's.
 */
import type { AnswerToolCall } from '../../providers/types.ts';
import { boundedToolCalls } from '../answer-tool-calls.ts';
import { type Attribute, bounded, put } from './spans.ts';

/** Characters of the prompt (the input messages together, the tools together) and of the answer (each copy) a span keeps. */
export interface ContentLimits {
  input: number;
  output: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A message's content as a span value: text as it is, parts (text, images) as their JSON. */
export const contentText = (content: unknown): string | undefined =>
  content === undefined || content === null ? undefined : typeof content === 'string' ? content : JSON.stringify(content);

/** What an input message's role and content attributes cost in the span besides its text (keys, role, JSON around them). */
const MESSAGE_OVERHEAD = 160;
/** An older message with less room than this left is left out rather than cut. */
const MIN_CUT = 64;

/** The first kept message, standing in for the `omitted` earlier ones. */
export const omittedMarker = (omitted: number) => `(${omitted} earlier message${omitted === 1 ? '' : 's'} left out)`;

/**
 * The newest messages whose sizes (plus `overhead` each) fit in `budget` together: the index of the oldest
 * one kept, and, when that one does not fit whole, the characters its text is cut to. The newest message is
 * always kept (cut to at least half the budget), so the question a call answered is never lost.
 */
export function newestWindow(sizes: readonly number[], budget: number, overhead: number): { first: number; cut?: number } {
  let left = budget;
  for (let i = sizes.length - 1; i >= 0; i--) {
    const cost = sizes[i]! + overhead;
    if (cost <= left) {
      left -= cost;
      continue;
    }
    const newest = i === sizes.length - 1;
    const room = newest ? Math.max(left - overhead, Math.ceil(budget / 2)) : left - overhead;
    return room >= (newest ? 1 : MIN_CUT) ? { first: i, cut: room } : { first: i + 1 };
  }
  return { first: 0 };
}

/** What the content attributes are made of, read from the call once however many times the span is built to fit. */
export interface PromptParts {
  /** Chat messages and their texts (`arize_phoenix`, `arize`). */
  messages?: Record<string, unknown>[];
  texts?: (string | undefined)[];
  /** A request's `input` or `prompt` as text, when it has no messages (`arize_phoenix`, `arize`). */
  single?: string;
  /** `langfuse_otel`'s prompt items (messages, a Responses `input` list), their JSON sizes made on first use. */
  items?: unknown[];
  itemSizes?: number[];
  /** `langfuse_otel`'s request `tools` and `functions` as JSON, made on first use. */
  toolsJson?: { tools?: string; functions?: string };
  answer?: string;
  /** The answer's tool calls (none when it has none). */
  toolCalls?: readonly AnswerToolCall[];
}

/** The parts of a call's prompt and answer (its text and tool calls) a span of this flavour shows. */
export function promptParts(body: Record<string, unknown>, answer: string | undefined, langfuse: boolean, toolCalls?: readonly AnswerToolCall[]): PromptParts {
  const said = { answer, ...(toolCalls ? { toolCalls } : {}) };
  if (langfuse) {
    const raw = body.messages ?? body.input ?? body.prompt;
    return Array.isArray(raw) ? { items: raw, ...said } : said;
  }
  const messages = Array.isArray(body.messages) ? body.messages.filter(isObject) : undefined;
  if (messages?.length) return { messages, texts: messages.map((m) => contentText(m.content)), ...said };
  return { single: contentText(body.input ?? body.prompt), ...said };
}

/**
 * The answer's tool calls as OpenInference's `llm.output_messages.0.message.tool_calls.N.tool_call.id|function.name|
 * function.arguments`, within `limit` characters together (boundedToolCalls).
 */
export function putOutputToolCalls(out: Attribute[], calls: readonly AnswerToolCall[], limit: number): void {
  boundedToolCalls(calls, limit).forEach((call, i) => {
    const prefix = `llm.output_messages.0.message.tool_calls.${i}.tool_call`;
    put(out, `${prefix}.id`, call.id);
    put(out, `${prefix}.function.name`, call.function.name);
    put(out, `${prefix}.function.arguments`, call.function.arguments);
  });
}

/** `llm.input_messages.N.*` and `input.value` (the newest message) for Phoenix and Arize, the messages within `limit` together. */
export function putInputMessages(out: Attribute[], parts: PromptParts, limit: number): void {
  const { messages, texts } = parts;
  if (!messages || !texts) {
    if (parts.single !== undefined) put(out, 'input.value', bounded(parts.single, limit));
    return;
  }
  put(out, 'input.value', bounded(texts[texts.length - 1] ?? '', limit));
  const { first, cut } = newestWindow(texts.map((t) => t?.length ?? 0), limit, MESSAGE_OVERHEAD);
  let n = 0;
  if (first > 0) {
    put(out, 'llm.input_messages.0.message.role', 'system');
    put(out, 'llm.input_messages.0.message.content', omittedMarker(first));
    n = 1;
  }
  for (let i = first; i < messages.length; i++, n++) {
    put(out, `llm.input_messages.${n}.message.role`, messages[i]!.role);
    const text = texts[i];
    if (text !== undefined) put(out, `llm.input_messages.${n}.message.content`, i === first && cut !== undefined ? bounded(text, cut) : text);
  }
}

/**
 * `langfuse.observation.input`'s JSON (`{"messages": [...], "tools": [...]}`): the newest prompt items within
 * `limit` together, after a marker of how many were left out; then the tools and functions, serialised once (in
 * `parts`) and each cut to what is left of twice `limit` (a cut one as a string, so the whole stays JSON).
 */
export function langfuseInput(parts: PromptParts, body: Record<string, unknown>, limit: number): string {
  let messages: string | undefined;
  if (parts.items) {
    const items = parts.items;
    parts.itemSizes ??= items.map((item) => JSON.stringify(item)?.length ?? 4);
    const { first, cut } = newestWindow(parts.itemSizes, limit, 0);
    const kept = items.slice(first);
    if (cut !== undefined && kept.length) {
      const oldest = kept[0];
      const byContent = isObject(oldest) && oldest.content !== undefined ? { ...oldest, content: bounded(contentText(oldest.content) ?? '', cut) } : undefined;
      // An item whose other fields (tool calls) are what is long is cut as JSON text instead.
      kept[0] = byContent && JSON.stringify(byContent).length <= 2 * cut + MESSAGE_OVERHEAD ? byContent : bounded(JSON.stringify(oldest) ?? '', cut);
    }
    messages = JSON.stringify(first > 0 ? [{ role: 'system', content: omittedMarker(first) }, ...kept] : kept);
  } else {
    const raw = body.messages ?? body.input ?? body.prompt;
    if (raw !== undefined) messages = cutJson(typeof raw === 'string' ? raw : JSON.stringify(raw) ?? 'null', typeof raw === 'string', limit);
  }
  const fields = messages === undefined ? [] : [`"messages":${messages}`];
  let left = 2 * limit - 2 - (fields[0]?.length ?? 0);
  for (const field of ['tools', 'functions'] as const) {
    if (body[field] === undefined) continue;
    const json = (parts.toolsJson ??= {})[field] ??= JSON.stringify(body[field]) ?? 'null';
    const key = `"${field}":`;
    const value = cutJson(json, false, Math.max(left - key.length - 1, 0));
    fields.push(key + value);
    left -= key.length + 1 + value.length;
  }
  return `{${fields.join(',')}}`;
}

/**
 * A value's JSON within `max` characters (and a marker): as it is when it fits, else its head (a string's text,
 * else the JSON) as a JSON string, cut shorter by what escaping it added (each unit cut takes at least one off).
 */
function cutJson(text: string, isString: boolean, max: number): string {
  if (!isString && text.length <= max) return text;
  const out = JSON.stringify(bounded(text, max));
  const over = out.length - max - CUT_MARKER;
  return over > 0 ? JSON.stringify(bounded(text, Math.max(max - over, 0))) : out;
}

/** What a cut text's marker and quotes may add to it: `"...(truncated, N characters)"`. */
const CUT_MARKER = 48;

/** Tools listed at most (OpenAI takes 128 a request), the characters of a name kept, and what a name's attribute costs besides it. */
const MAX_TOOLS = 128;
const TOOL_NAME_CHARS = 128;
const TOOL_NAME_OVERHEAD = 48;
/** Characters the listed tools' names (and their attributes) take together, at every content limit. */
const TOOL_NAMES_CHARS = 4096;

/** A tool of the request as its span shows it: its name (cut), description and parameters' JSON, made at most once. */
export interface ToolEntry {
  index: number;
  name?: string;
  description?: string;
  parameters: unknown;
  parametersJson?: string;
}

/**
 * The function tools a request offers, read once however many times the span is built: the first ones whose
 * names (cut to 128 characters) fit in 4,096 characters together, at most 128; undefined when it offers none.
 */
export function toolEntries(tools: unknown): ToolEntry[] | undefined {
  if (!Array.isArray(tools)) return undefined;
  const entries: ToolEntry[] = [];
  let left = TOOL_NAMES_CHARS;
  let any = false;
  for (let i = 0; i < tools.length; i++) {
    const tool: unknown = tools[i];
    const fn = isObject(tool) && isObject(tool.function) ? tool.function : undefined;
    if (!fn) continue;
    any = true;
    const name = typeof fn.name === 'string' ? bounded(fn.name, TOOL_NAME_CHARS) : undefined;
    left -= (name?.length ?? 0) + TOOL_NAME_OVERHEAD;
    if (left < 0 || entries.length === MAX_TOOLS) break;
    entries.push({ index: i, name, description: typeof fn.description === 'string' ? fn.description : undefined, parameters: fn.parameters });
  }
  return any ? entries : undefined;
}

/**
 * The tools a request offers (`llm.tools.N.name|description|parameters`, from toolEntries): every listed name, and
 * descriptions and parameters within `limit` together, each parameters' JSON made once and only while there is room.
 */
export function putTools(out: Attribute[], tools: ToolEntry[] | undefined, limit: number): boolean {
  if (!tools) return false;
  let left = limit;
  const within = (text: string): string => {
    const kept = bounded(text, left);
    left -= kept.length;
    return kept;
  };
  for (const tool of tools) {
    put(out, `llm.tools.${tool.index}.name`, tool.name);
    if (left > 0 && tool.description !== undefined) put(out, `llm.tools.${tool.index}.description`, within(tool.description));
    if (left > 0 && tool.parameters !== undefined) put(out, `llm.tools.${tool.index}.parameters`, within(tool.parametersJson ??= JSON.stringify(tool.parameters) ?? ''));
  }
  return true;
}
