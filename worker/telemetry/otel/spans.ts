/**
 * One finished call as an OpenTelemetry span, in OTLP's JSON encoding (the
 * `spans` entries of `ExportTraceServiceRequest.resourceSpans[].scopeSpans[]`),
 * with the attributes LiteLLM's `otel` callback sets: the GenAI semantic
 * conventions (`gen_ai.*`), LiteLLM's call metadata (`metadata.*`) and its cost
 * (`gen_ai.cost.total_cost`). The span is a child of the client's own span when
 * the request carried a W3C `traceparent`, so the gateway shows up inside the
 * caller's trace.
 */
import type { CallEndpoint, RequestHeaders } from '../../providers/types.ts';
import { messageLoggingOff, redactedErrorMessage } from '../langfuse/redaction.ts';

/** What a span is made of: the part of a finished call's CallEvent it reads. */
export interface SpanCall {
  record: {
    request_id: string;
    call_type: string;
    api_key: string;
    spend: number;
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    startTime: string;
    endTime: string;
    model: string;
    model_id: string;
    model_group: string;
    custom_llm_provider: string;
    api_base: string;
    metadata: Record<string, unknown>;
    cache_hit: boolean;
    request_tags: string[];
    end_user: string | null;
    session_id: string | null;
  };
  endpoint: CallEndpoint;
  body: Record<string, unknown>;
  stream: boolean;
  headers: RequestHeaders;
  outcome?: { responseText?: string };
  error?: { message: string; type: string };
}

export interface SpanOptions {
  turnOffMessageLogging: boolean;
  redactUserApiKeyInfo: boolean;
  redactMessagesInExceptions: boolean;
  /** Characters of the prompt's and the answer's JSON kept in the span (each). */
  contentChars: number;
}

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean } | { arrayValue: { values: AnyValue[] } };
interface Attribute { key: string; value: AnyValue }

/** OTLP's span kinds and status codes (the enum values of the protocol). */
const SPAN_KIND_SERVER = 2;
const STATUS_OK = 1;
const STATUS_ERROR = 2;

const OPERATIONS: Partial<Record<CallEndpoint, string>> = {
  chat: 'chat', completion: 'text_completion', embedding: 'embeddings', responses: 'responses', image_generation: 'image_generation',
};

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;

/** The client's trace and span from `traceparent`, when it is a valid W3C one (not all zeros). */
function parentOf(headers: RequestHeaders): { traceId: string; spanId: string } | undefined {
  const match = TRACEPARENT.exec(headers.get('traceparent')?.trim().toLowerCase() ?? '');
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]! };
}

const nanos = (iso: string): string => `${Date.parse(iso)}000000`;

function put(out: Attribute[], key: string, value: unknown): void {
  if (value === null || value === undefined || value === '') return;
  if (typeof value === 'string') out.push({ key, value: { stringValue: value } });
  else if (typeof value === 'boolean') out.push({ key, value: { boolValue: value } });
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return;
    out.push({ key, value: Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value } });
  } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    out.push({ key, value: { arrayValue: { values: value.map((v) => ({ stringValue: v })) } } });
  } else out.push({ key, value: { stringValue: JSON.stringify(value) } });
}

/** A JSON text of at most `max` characters: the value's, or its head with a marker. */
function boundedText(value: unknown, max: number): string {
  const json = typeof value === 'string' ? value : JSON.stringify(value);
  return json.length <= max ? json : `${json.slice(0, max)}...(truncated, ${json.length} characters)`;
}

/** The span of one call, as OTLP JSON text (serialised here: what waits for the flush window is text). */
export function buildSpan(call: SpanCall, options: SpanOptions): string {
  const { record, body } = call;
  const parent = parentOf(call.headers);
  const id = record.request_id.replace(/-/g, '').toLowerCase();
  const own = /^[\da-f]{32}$/.test(id) ? id : randomHex(16);
  const attributes: Attribute[] = [];
  put(attributes, 'gen_ai.operation.name', OPERATIONS[call.endpoint] ?? call.endpoint);
  put(attributes, 'gen_ai.system', record.custom_llm_provider || 'Unknown');
  put(attributes, 'gen_ai.request.model', record.model_group);
  put(attributes, 'gen_ai.response.model', record.model);
  put(attributes, 'gen_ai.request.type', record.call_type);
  put(attributes, 'gen_ai.response.id', record.request_id);
  for (const [param, key] of [['max_tokens', 'gen_ai.request.max_tokens'], ['max_completion_tokens', 'gen_ai.request.max_tokens'], ['temperature', 'gen_ai.request.temperature'], ['top_p', 'gen_ai.request.top_p']] as const) {
    if (typeof body[param] === 'number' && !attributes.some((a) => a.key === key)) put(attributes, key, body[param]);
  }
  put(attributes, 'llm.is_streaming', String(call.stream));
  put(attributes, 'gen_ai.user', record.end_user);
  put(attributes, 'gen_ai.usage.input_tokens', record.prompt_tokens);
  put(attributes, 'gen_ai.usage.output_tokens', record.completion_tokens);
  put(attributes, 'gen_ai.usage.total_tokens', record.total_tokens);
  put(attributes, 'gen_ai.cost.total_cost', record.spend);
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
  if (spendLogsMetadata) put(attributes, 'metadata.spend_logs_metadata', boundedText(spendLogsMetadata, 2048));

  let status: { code: number; message?: string } = { code: STATUS_OK };
  if (call.error) {
    const message = options.redactMessagesInExceptions ? redactedErrorMessage(call.error.message, call.error.type) : call.error.message;
    status = { code: STATUS_ERROR, message: message.slice(0, 2048) };
    put(attributes, 'error.type', call.error.type);
  }
  // The prompt and the answer, as LiteLLM sets them, unless message logging is off for the call.
  if (!messageLoggingOff(body, call.headers, options.turnOffMessageLogging) && options.contentChars > 0) {
    const input = body.messages ?? body.input ?? body.prompt;
    if (input !== undefined) put(attributes, 'gen_ai.input.messages', boundedText(input, options.contentChars));
    if (body.instructions !== undefined) put(attributes, 'gen_ai.system_instructions', boundedText(body.instructions, options.contentChars));
    const text = call.outcome?.responseText;
    if (text !== undefined && !call.error) {
      put(attributes, 'gen_ai.output.messages', boundedText([{ role: 'assistant', content: text }], options.contentChars));
    }
  }
  return JSON.stringify({
    traceId: parent?.traceId ?? own,
    spanId: own.slice(16),
    ...(parent ? { parentSpanId: parent.spanId } : {}),
    name: 'litellm_request',
    kind: SPAN_KIND_SERVER,
    startTimeUnixNano: nanos(record.startTime),
    endTimeUnixNano: nanos(record.endTime),
    attributes,
    status,
  });
}

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let out = '';
  for (const b of buf) out += b.toString(16).padStart(2, '0');
  return out;
}
