import { type AnthropicTokenCounts, mergeUsage, NO_TOKENS, usageReport } from '../providers/anthropic/usage.ts';
import type { AnthropicUsage } from '../providers/anthropic/schemas.ts';
import { geminiUsage, usageMetadataSchema } from '../providers/google/gemini-response.ts';
import { readOpenAIUsage } from '../providers/openai-compatible/usage.ts';
import { converseUsage, converseUsageSchema } from '../providers/bedrock/converse-response.ts';
import type { UsageReport } from '../providers/types.ts';
import { isObject } from '../json.ts';

/**
 * What a provider's own answer said it used, read from its JSON (a whole answer, or each event of a
 * stream) without knowing the API it came from: a pass-through call goes to any path of the provider.
 * Each provider's usage has a shape of its own, and they do not collide:
 * - Anthropic's Messages: `usage` of a message (`input_tokens` beside `cache_read_input_tokens`), in a
 *   stream `message.usage` at `message_start` and cumulative counts at `message_delta`;
 * - OpenAI's chat, completions and embeddings (`usage.prompt_tokens`), the Responses API
 *   (`usage.input_tokens`, a stream's `response.usage` at `response.completed`), and every
 *   OpenAI-compatible server (vLLM, Mistral);
 * - Gemini and Vertex AI (`usageMetadata`, cumulative in a stream: the last wins);
 * - Cohere (`usage.billed_units` of a v2 answer, `delta.usage` at a v2 stream's `message-end`; `meta.billed_units`
 *   of a v1 answer, `response.meta` at a v1 stream's `stream-end`; a rerank's `search_units`).
 * - Bedrock's Converse (`usage.inputTokens`, camel-cased; a stream's `metadata` event).
 * - Google's Interactions API (`usage.total_input_tokens` of an interaction, a stream's `interaction.usage` at
 *   `interaction.completed`).
 * An array (Gemini's `streamGenerateContent` without `alt=sse` answers a JSON array of events) is read element by element.
 */
export interface UsageReading {
  /** Anthropic's counts, merged event by event. */
  anthropic?: AnthropicTokenCounts;
  /** The latest whole report of any other shape. */
  report?: UsageReport;
  /** The model the answer names (`model`, Gemini's `modelVersion`), for its price. */
  model?: string;
  /** Characters of text the answer carried (what the model wrote), for an estimate where usage is missing or cut short. */
  textChars?: number;
  /** Bedrock's own count (`amazon-bedrock-invocationMetrics`), for a model whose events carry no usage of their own. */
  bedrockMetrics?: UsageReport;
}

/** The complete object elements at the top of a JSON array's text, however it ends. */
function wholeElements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = text.indexOf('['); i >= 0 && i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      depth++;
      if (depth === 2 && ch === '{') start = i;
    } else if (ch === '}' || ch === ']') {
      if (depth === 2 && ch === '}' && start >= 0) {
        out.push(text.slice(start, i + 1));
        start = -1;
      }
      depth--;
    }
  }
  return out;
}

// Where answers carry what the model wrote: chat deltas and messages, Anthropic's text and tool input, Gemini's parts, Responses deltas.
const TEXT_KEYS = new Set(['text', 'content', 'partial_json', 'delta', 'thinking', 'arguments', 'refusal', 'transcript', 'outputText']);

function textChars(value: unknown, depth = 0): number {
  if (depth > 8 || !value || typeof value !== 'object') return 0;
  let n = 0;
  for (const [key, item] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    if (typeof item === 'string') n += TEXT_KEYS.has(String(key)) ? item.length : 0;
    else if (item && typeof item === 'object') n += textChars(item, depth + 1);
  }
  return n;
}

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** Reads one JSON value of an answer (the whole body, or one stream event's data) into `reading`. */
export function readUsage(value: unknown, reading: UsageReading): void {
  if (Array.isArray(value)) {
    for (const item of value.slice(0, 10_000)) readUsage(item, reading);
    return;
  }
  if (!isObject(value)) return;
  reading.textChars = (reading.textChars ?? 0) + textChars(value);
  const metrics = value['amazon-bedrock-invocationMetrics'];
  if (isObject(metrics) && (count(metrics.inputTokenCount) || count(metrics.outputTokenCount))) {
    reading.bedrockMetrics = { promptTokens: count(metrics.inputTokenCount), completionTokens: count(metrics.outputTokenCount), cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
  }
  const message = isObject(value.message) ? value.message : undefined;
  const response = isObject(value.response) ? value.response : undefined;
  const interaction = isObject(value.interaction) ? value.interaction : undefined;
  const model = value.model ?? message?.model ?? response?.model ?? interaction?.model ?? value.modelVersion;
  if (typeof model === 'string' && model) reading.model = model.slice(0, 256);
  if (isObject(value.usageMetadata)) {
    const parsed = usageMetadataSchema.safeParse(value.usageMetadata);
    const report = parsed.success ? geminiUsage(parsed.data) : undefined;
    if (report) reading.report = report;
    return;
  }
  const meta = isObject(value.meta) ? value.meta : isObject(response?.meta) ? response.meta : undefined;
  if (meta && isObject(meta.billed_units)) {
    const billed = meta.billed_units;
    const searches = count(billed.search_units);
    reading.report = {
      promptTokens: count(billed.input_tokens), completionTokens: count(billed.output_tokens), cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true,
      ...(searches ? { searches } : {}),
    };
    return;
  }
  const delta = isObject(value.delta) ? value.delta : undefined;
  const usage = isObject(value.usage) ? value.usage : isObject(message?.usage) ? message.usage : isObject(response?.usage) ? response.usage
    : isObject(interaction?.usage) ? interaction.usage : isObject(delta?.usage) ? delta.usage : undefined;
  if (!usage) return;
  if ('total_input_tokens' in usage || 'total_output_tokens' in usage) {
    reading.report = interactionUsage(usage);
    return;
  }
  if (isObject(usage.billed_units)) {
    const billed = usage.billed_units;
    reading.report = { promptTokens: count(billed.input_tokens), completionTokens: count(billed.output_tokens), cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
    return;
  }
  if ('inputTokens' in usage || 'outputTokens' in usage) {
    const parsed = converseUsageSchema.safeParse(usage);
    const report = parsed.success ? converseUsage(parsed.data) : undefined;
    if (report) reading.report = report;
    return;
  }
  // Anthropic's alone says cache reads beside input (OpenAI's Responses API says input_tokens too, but in *_details).
  const anthropic = value.type === 'message' || value.type === 'message_start' || value.type === 'message_delta'
    || 'cache_read_input_tokens' in usage || 'cache_creation_input_tokens' in usage;
  if (anthropic) {
    reading.anthropic = mergeUsage(reading.anthropic ?? NO_TOKENS, usage as AnthropicUsage);
    return;
  }
  const report = readOpenAIUsage(usage);
  if (report) reading.report = report;
}

/**
 * An interaction's `usage`: thoughts are billed as output (as Gemini's `thoughtsTokenCount` is), cached tokens are
 * part of the input, image tokens by modality priced as images.
 */
function interactionUsage(usage: Record<string, unknown>): UsageReport {
  const byModality = (list: unknown, modality: string) => (Array.isArray(list) ? list.reduce((n: number, m: unknown) => n + (isObject(m) && m.modality === modality ? count(m.tokens) : 0), 0) : 0);
  const report: UsageReport = {
    promptTokens: count(usage.total_input_tokens), completionTokens: count(usage.total_output_tokens) + count(usage.total_thought_tokens),
    cachedPromptTokens: count(usage.total_cached_tokens), cacheCreationTokens: 0, reported: true,
  };
  const imageIn = byModality(usage.input_tokens_by_modality, 'image');
  const imageOut = byModality(usage.output_tokens_by_modality, 'image');
  if (imageIn) report.imagePromptTokens = imageIn;
  if (imageOut) report.imageCompletionTokens = imageOut;
  return report;
}

/** The call's usage once its answer is read; undefined when the answer never said. */
export function usageOf(reading: UsageReading): UsageReport | undefined {
  if (reading.anthropic) return usageReport(reading.anthropic, true);
  return reading.report ?? reading.bedrockMetrics;
}

/**
 * A JSON answer's text read: one JSON value; else a JSON array cut short (Gemini's streamGenerateContent
 * without alt=sse, its client gone before the `]`): its whole elements; else (Cohere's v1 streams, NDJSON)
 * one value a line.
 */
export function readJsonText(text: string, reading: UsageReading): void {
  try {
    readUsage(JSON.parse(text) as unknown, reading);
    return;
  } catch {
    // Not one value: an array cut short, or one value a line.
  }
  if (text.trimStart().startsWith('[')) {
    for (const element of wholeElements(text)) {
      try {
        readUsage(JSON.parse(element) as unknown, reading);
      } catch {
        // Not JSON after all.
      }
    }
    return;
  }
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      readUsage(JSON.parse(trimmed) as unknown, reading);
    } catch {
      // A line that is not JSON: nothing in it.
    }
  }
}
