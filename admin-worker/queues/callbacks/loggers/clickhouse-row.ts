/**
 * A StandardLoggingPayload as the `spend_logs` row LiteLLM's ClickHouseSpendLogger writes
 * (spend_log_row_from_payload): the call's ids, key (its hash, never the key), team, user and model, its spend,
 * tokens and times, its status and error, the client's trace and span (`traceparent`), tags, metadata as JSON
 * text, and its messages and answer as JSON text,
 * empty when message logging is off (the payload then holds LiteLLM's redacted copies).
 */
import { REDACTED_INPUT } from '../../../../worker/telemetry/langfuse/redaction.ts';
import { traceContextOf } from '../../../../worker/telemetry/otel/spans.ts';
import { clientMetadata, isObject, type Json } from './payloads.ts';

/** LiteLLM rewrites a cache hit's id as `<id>_cache_hit<time>`; `response_id` is the id without it. */
const CACHE_HIT_SUFFIX = /_cache_hit[0-9.]*$/;

/** OTLP exports to /v1/traces are no LLM calls: LiteLLM writes no spend row for them. */
const TRACE_INGEST = '/v1/traces';

const REDACTED_MESSAGES = JSON.stringify(REDACTED_INPUT.messages);

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
/** A count for a UInt32 column: a whole number from 0, else 0 (as LiteLLM's `_int`). */
const count = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : 0);

/** Epoch seconds as the DateTime64(3) text the insert's best_effort parsing reads (ISO 8601, milliseconds, UTC). */
function isoMs(seconds: unknown): string | null {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return null;
  const ms = Math.trunc(seconds * 1000);
  return Number.isFinite(new Date(ms).getTime()) ? new Date(ms).toISOString() : null;
}

/** JSON text of a value, '' for none (a text stays as it is), as LiteLLM's `_json`. */
const json = (v: unknown): string => (v === null || v === undefined || v === '' ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** Cache read and write tokens from the usage, OpenAI's details first, then Anthropic's fields. */
function cacheTokens(usage: Json): [number, number] {
  const details = isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const read = count(details.cached_tokens) || count(usage.cache_read_input_tokens);
  const write = count(details.cache_write_tokens) || count(details.cache_creation_tokens) || count(usage.cache_creation_input_tokens);
  return [read, write];
}

/**
 * The client's W3C trace and span (its `traceparent`), which the gateway puts in the payload's
 * `metadata.requester_custom_headers` for this logger, where LiteLLM's looks first; none for an invalid one.
 */
function traceOf(metadata: Json): { traceId: string; spanId: string } | undefined {
  const headers = isObject(metadata.requester_custom_headers) ? metadata.requester_custom_headers : {};
  const name = Object.keys(headers).find((k) => k.toLowerCase() === 'traceparent');
  return name === undefined ? undefined : traceContextOf(text(headers[name]));
}

/** Whether the payload's messages are LiteLLM's redacted ones: message logging was off for this call. */
const redacted = (payload: Json): boolean => JSON.stringify(payload.messages) === REDACTED_MESSAGES;

/** Whether a payload makes no row (an OTLP trace export). */
export const noSpendRow = (payload: Json): boolean => text(payload.call_type).startsWith(TRACE_INGEST);

/** The payload's `spend_logs` row, its columns named as LiteLLM's table names them. */
export function spendLogRow(payload: Json): Json {
  const m = isObject(payload.metadata) ? payload.metadata : {};
  const hidden = isObject(payload.hidden_params) ? payload.hidden_params : {};
  const usage = isObject(m.usage_object) ? m.usage_object : isObject(hidden.usage_object) ? hidden.usage_object : {};
  const [cacheRead, cacheWrite] = cacheTokens(usage);
  const requestId = typeof payload.id === 'string' ? payload.id : '';
  const client = clientMetadata(payload).keys;
  const quiet = redacted(payload);
  const spend = typeof payload.response_cost === 'number' && Number.isFinite(payload.response_cost) ? payload.response_cost : 0;
  const trace = traceOf(m);
  return {
    request_id: requestId,
    response_id: requestId.replace(CACHE_HIT_SUFFIX, ''),
    call_type: text(payload.call_type),
    api_key: text(m.user_api_key_hash),
    key_alias: text(m.user_api_key_alias),
    team_id: text(m.user_api_key_team_id) || text(m.team_id),
    team_alias: text(m.user_api_key_team_alias) || text(m.team_alias),
    organization_id: text(m.user_api_key_org_id),
    user: text(m.user_api_key_user_id),
    end_user: text(payload.end_user) || text(m.user_api_key_end_user_id),
    model: text(payload.model),
    model_group: text(payload.model_group),
    model_id: text(payload.model_id),
    custom_llm_provider: text(payload.custom_llm_provider),
    api_base: text(payload.api_base),
    spend,
    prompt_tokens: count(payload.prompt_tokens),
    completion_tokens: count(payload.completion_tokens),
    total_tokens: count(payload.total_tokens),
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    start_time: isoMs(payload.startTime) ?? new Date(0).toISOString(),
    end_time: isoMs(payload.endTime) ?? new Date(0).toISOString(),
    completion_start_time: isoMs(payload.completionStartTime),
    status: text(payload.status),
    error_str: text(payload.error_str),
    cache_hit: payload.cache_hit === true,
    // LiteLLM's spend log session: the call's session id, the request metadata's, else its trace id.
    session_id: text(payload.session_id) || text(client.session_id) || text(payload.trace_id),
    trace_id: trace?.traceId ?? '',
    span_id: trace?.spanId ?? '',
    request_tags: Array.isArray(payload.request_tags) ? payload.request_tags.map(String) : [],
    metadata: json(m),
    messages: quiet ? '' : json(payload.messages),
    response: quiet ? '' : json(payload.response),
  };
}
