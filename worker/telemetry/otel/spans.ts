/**
 * One finished call as an OpenTelemetry span, in OTLP's JSON encoding (the
 * `spans` entries of `ExportTraceServiceRequest.resourceSpans[].scopeSpans[]`),
 * with the attributes LiteLLM's `otel` callback sets: the GenAI semantic
 * conventions (`gen_ai.*`), LiteLLM's call metadata (`metadata.*`) and its cost
 * (`gen_ai.cost.total_cost`). The span is a child of the client's own span when
 * the request carried a W3C `traceparent`, so the gateway shows up inside the
 * caller's trace.
 */
import type { AnswerReasoning, AnswerToolCall, CallEndpoint, RequestHeaders } from '../../providers/types.ts';
import { reasoningOf } from '../answer-reasoning.ts';
import { chatMessage, responsesOutput, toolCallsOf } from '../answer-tool-calls.ts';
import { messageLoggingOff, redactedErrorMessage } from '../langfuse/redaction.ts';
import type { SpendLogRecord } from '../spend-log-record.ts';

/** What a span is made of: the part of a finished call's CallEvent it reads. */
export interface SpanCall {
  record: Pick<SpendLogRecord, 'request_id' | 'call_type' | 'api_key' | 'spend' | 'prompt_tokens' | 'completion_tokens' | 'total_tokens'
    | 'startTime' | 'endTime' | 'model' | 'model_id' | 'model_group' | 'custom_llm_provider' | 'api_base' | 'metadata' | 'cache_hit'
    | 'request_tags' | 'end_user' | 'session_id'>;
  endpoint: CallEndpoint;
  body: Record<string, unknown>;
  stream: boolean;
  headers: RequestHeaders;
  outcome?: { responseText?: string; responseToolCalls?: readonly AnswerToolCall[]; responseReasoning?: AnswerReasoning };
  error?: { message: string; type: string };
}

export interface SpanOptions {
  turnOffMessageLogging: boolean;
  /** `callback_settings.otel.message_logging: false` (LiteLLM's): no prompt or answer, whatever the request or its headers say. */
  callbackMessageLoggingOff?: boolean;
  redactUserApiKeyInfo: boolean;
  redactMessagesInExceptions: boolean;
  /** Characters of the prompt's and the answer's JSON kept in the span (each). */
  contentChars: number;
}

/** A call's prompt and answer as JSON text, made once (spanContent) however many times the span is built to fit. */
export interface SpanContent {
  input?: string;
  instructions?: string;
  output?: string;
}

export type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean } | { arrayValue: { values: AnyValue[] } };
export interface Attribute { key: string; value: AnyValue }

/** OTLP's span kinds and status codes (the enum values of the protocol). */
const SPAN_KIND_SERVER = 2;
const STATUS_OK = 1;
const STATUS_ERROR = 2;

const OPERATIONS: Partial<Record<CallEndpoint, string>> = {
  chat: 'chat', completion: 'text_completion', embedding: 'embeddings', responses: 'responses', image_generation: 'image_generation',
};

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

/** The trace and span of a W3C `traceparent` value, when it is a valid one (neither id all zeros). */
export function traceContextOf(traceparent: string | null | undefined): { traceId: string; spanId: string } | undefined {
  const match = TRACEPARENT.exec(traceparent?.trim().toLowerCase() ?? '');
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]! };
}

export const nanos = (iso: string): string => `${Date.parse(iso)}000000`;

export function put(out: Attribute[], key: string, value: unknown): void {
  if (value === null || value === undefined || value === '') return;
  if (typeof value === 'string') out.push({ key, value: { stringValue: value } });
  else if (typeof value === 'boolean') out.push({ key, value: { boolValue: value } });
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return;
    // An int64 as its decimal digits; anything a client could make larger (1e21) is a double.
    out.push({ key, value: Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value } });
  } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    out.push({ key, value: { arrayValue: { values: value.map((v) => ({ stringValue: v })) } } });
  } else out.push({ key, value: { stringValue: JSON.stringify(value) } });
}

/** A number that is always a double (cost, temperature): a backend types an attribute by its first value. */
export function putDouble(out: Attribute[], key: string, value: unknown): void {
  if (typeof value === 'number' && Number.isFinite(value)) out.push({ key, value: { doubleValue: value } });
}

/** The first `max` UTF-16 units of a text, never half of a surrogate pair (a lone one is not valid UTF-8). */
export function headOf(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** A text of at most `max` characters (and a marker): the JSON's head when it is longer. */
export function bounded(json: string, max: number): string {
  return json.length <= max ? json : `${headOf(json, max)}...(truncated, ${json.length} characters)`;
}

/**
 * The call's prompt, system instructions and answer (its text and tool calls) as JSON, as the span carries them
 * (before bounding): a chat answer as its assistant message (its reasoning as `reasoning_content`), a Responses API
 * answer as its `output` items (the message with its text, then a `function_call` item per tool call), the shape its
 * payload and Langfuse log. The output is bounded whole (`contentChars`), so the reasoning counts toward it.
 */
export function spanContent(call: Pick<SpanCall, 'endpoint' | 'body' | 'outcome' | 'error'>): SpanContent {
  const { body } = call;
  const input = body.messages ?? body.input ?? body.prompt;
  const text = call.outcome?.responseText;
  const calls = toolCallsOf(call.outcome);
  // The reasoning uncut, as the text is: this JSON is made once for every size the span is fitted to, and cut whole to
  // it (`bounded`); last in the message, the reasoning is what a cut takes first.
  const answer = call.endpoint === 'responses' ? responsesOutput(text, calls) : [chatMessage(text, calls, reasoningOf(call.endpoint, call.outcome))];
  return {
    ...(input !== undefined ? { input: JSON.stringify(input) } : {}),
    ...(body.instructions !== undefined ? { instructions: JSON.stringify(body.instructions) } : {}),
    ...((text !== undefined || calls) && !call.error ? { output: JSON.stringify(answer) } : {}),
  };
}

/**
 * The span of one call, as OTLP JSON text (serialised here: what waits for the flush window is text), its
 * prompt and answer from `content` (spanContent) cut to `options.contentChars` each.
 */
export function buildSpan(call: SpanCall, options: SpanOptions, content: SpanContent = spanContent(call)): string {
  const { record, body } = call;
  const attributes: Attribute[] = [];
  put(attributes, 'gen_ai.operation.name', OPERATIONS[call.endpoint] ?? call.endpoint);
  put(attributes, 'gen_ai.system', record.custom_llm_provider || 'Unknown');
  put(attributes, 'gen_ai.request.model', record.model_group);
  put(attributes, 'gen_ai.response.model', record.model);
  put(attributes, 'gen_ai.request.type', record.call_type);
  put(attributes, 'gen_ai.response.id', record.request_id);
  put(attributes, 'gen_ai.request.max_tokens', typeof body.max_tokens === 'number' ? body.max_tokens : body.max_completion_tokens);
  putDouble(attributes, 'gen_ai.request.temperature', body.temperature);
  putDouble(attributes, 'gen_ai.request.top_p', body.top_p);
  put(attributes, 'llm.is_streaming', String(call.stream));
  put(attributes, 'gen_ai.user', record.end_user);
  put(attributes, 'gen_ai.usage.input_tokens', record.prompt_tokens);
  put(attributes, 'gen_ai.usage.output_tokens', record.completion_tokens);
  put(attributes, 'gen_ai.usage.total_tokens', record.total_tokens);
  putDouble(attributes, 'gen_ai.cost.total_cost', record.spend);
  if (!options.redactUserApiKeyInfo) {
    const m = record.metadata;
    put(attributes, 'metadata.user_api_key_hash', record.api_key);
    put(attributes, 'metadata.user_api_key_alias', m.user_api_key_alias);
    put(attributes, 'metadata.user_api_key_user_id', m.user_api_key_user_id);
    put(attributes, 'metadata.user_api_key_team_id', m.user_api_key_team_id);
    put(attributes, 'metadata.user_api_key_team_alias', m.user_api_key_team_alias);
    put(attributes, 'metadata.user_api_key_org_id', m.user_api_key_org_id);
    put(attributes, 'metadata.user_api_key_end_user_id', record.end_user);
  }
  put(attributes, 'metadata.model_group', record.model_group);
  put(attributes, 'metadata.model_id', record.model_id);
  put(attributes, 'metadata.api_base', record.api_base);
  put(attributes, 'metadata.cache_hit', record.cache_hit);
  put(attributes, 'metadata.session_id', record.session_id);
  if (record.request_tags.length) put(attributes, 'metadata.tags', record.request_tags);
  const spendLogsMetadata = record.metadata.spend_logs_metadata;
  if (spendLogsMetadata) put(attributes, 'metadata.spend_logs_metadata', bounded(JSON.stringify(spendLogsMetadata), 2048));

  const loggingOff = spanLoggingOff(call, options);
  const status = spanStatus(call, options, loggingOff, attributes);
  // The prompt and the answer, as LiteLLM sets them, unless message logging is off for the call.
  if (!loggingOff && options.contentChars > 0) {
    if (content.input !== undefined) put(attributes, 'gen_ai.input.messages', bounded(content.input, options.contentChars));
    if (content.instructions !== undefined) put(attributes, 'gen_ai.system_instructions', bounded(content.instructions, options.contentChars));
    if (content.output !== undefined) put(attributes, 'gen_ai.output.messages', bounded(content.output, options.contentChars));
  }
  return spanJson(call, attributes, status);
}

/** Whether the call's prompt and answer stay out of its spans: the callback's `message_logging: false`, else LiteLLM's per-call rules. */
export function spanLoggingOff(call: Pick<SpanCall, 'body' | 'headers'>, options: Pick<SpanOptions, 'callbackMessageLoggingOff' | 'turnOffMessageLogging'>): boolean {
  return options.callbackMessageLoggingOff === true || messageLoggingOff(call.body, call.headers, options.turnOffMessageLogging);
}

/** A span's status (OK, or ERROR with the error's message, its detail withheld as the options say), `error.type` added for an error. */
export function spanStatus(call: Pick<SpanCall, 'error'>, options: Pick<SpanOptions, 'redactMessagesInExceptions'>, loggingOff: boolean, attributes: Attribute[]): { code: number; message?: string } {
  if (!call.error) return { code: STATUS_OK };
  // A provider's error may quote the prompt: withheld with it.
  const message = options.redactMessagesInExceptions || loggingOff ? redactedErrorMessage(call.error.message, call.error.type) : call.error.message;
  put(attributes, 'error.type', call.error.type);
  return { code: STATUS_ERROR, message: headOf(message, 2048) };
}

/** What a vendor's span has other than LiteLLM's `litellm_request` server span: its name, kind and events (Langtrace's). */
export interface SpanShape {
  name?: string;
  kind?: number;
  events?: { timeUnixNano: string; name: string; attributes: Attribute[] }[];
}

/**
 * The span's JSON around its attributes: `litellm_request`, kind server, the call's times, a child of the
 * client's span when the request carried a `traceparent`, else a trace of its own whose id is the call id.
 */
export function spanJson(call: Pick<SpanCall, 'record' | 'headers'>, attributes: Attribute[], status: { code: number; message?: string }, shape: SpanShape = {}): string {
  const { record } = call;
  const parent = traceContextOf(call.headers.get('traceparent'));
  const id = record.request_id.replace(/-/g, '').toLowerCase();
  const own = /^[\da-f]{32}$/.test(id) ? id : randomHex(16);
  return JSON.stringify({
    traceId: parent?.traceId ?? own,
    spanId: own.slice(16),
    ...(parent ? { parentSpanId: parent.spanId } : {}),
    name: shape.name ?? 'litellm_request',
    kind: shape.kind ?? SPAN_KIND_SERVER,
    startTimeUnixNano: nanos(record.startTime),
    endTimeUnixNano: nanos(record.endTime),
    attributes,
    ...(shape.events?.length ? { events: shape.events } : {}),
    status,
  });
}

export function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let out = '';
  for (const b of buf) out += b.toString(16).padStart(2, '0');
  return out;
}
