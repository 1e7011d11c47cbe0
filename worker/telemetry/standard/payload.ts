/**
 * LiteLLM's `StandardLoggingPayload` (litellm/types/utils.py): the one record
 * of a finished call every generic logger sends (`generic_api`, `datadog`, and
 * any logger added beside them in registry.ts). Built from the call's
 * CallEvent off the hot path; the virtual key appears only as its hash, no
 * provider credential ever, and the prompt and answer only as far as message
 * logging allows (the same rules as the Langfuse and otel callbacks).
 */
import { GATEWAY_PARAMS } from '../../providers/openai-compatible/params.ts';
import type { AnswerReasoning, AnswerToolCall, CallEndpoint, RequestHeaders } from '../../providers/types.ts';
import { reasoningOf } from '../answer-reasoning.ts';
import { boundedChatParts, chatMessage, cutText, responsesOutput, toolCallsFinish, toolCallsOf } from '../answer-tool-calls.ts';
import { boundedJson } from '../bounded-json.ts';
import { messageLoggingOff, REDACTED_INPUT, redactedErrorMessage } from '../langfuse/redaction.ts';
import { requestLangfuseMetadata } from '../langfuse/request-metadata.ts';
import { isSecretParam, withoutSecretParams } from '../secret-params.ts';
import { REDACTED } from '../langfuse/types.ts';
import { traceContextOf } from '../otel/spans.ts';
import { requesterMetadataOf } from './requester-ids.ts';
import type { SpendLogRecord } from '../spend-log-record.ts';

type Json = Record<string, unknown>;

/** What the payload is made of: the part of a CallEvent it reads. */
export interface StandardCall {
  record: Pick<SpendLogRecord, 'request_id' | 'call_type' | 'api_key' | 'spend' | 'prompt_tokens' | 'completion_tokens' | 'total_tokens'
    | 'startTime' | 'endTime' | 'completionStartTime' | 'model' | 'model_id' | 'model_group' | 'custom_llm_provider' | 'api_base'
    | 'metadata' | 'cache_hit' | 'cache_key' | 'request_tags' | 'end_user'>;
  endpoint: CallEndpoint;
  body: Json;
  stream: boolean;
  headers: RequestHeaders;
  outcome?: { responseText?: string; responseToolCalls?: readonly AnswerToolCall[]; responseReasoning?: AnswerReasoning; finishReason?: string; aborted?: boolean };
  error?: { message: string; type: string; status: number; provider?: string | undefined };
  overheadMs?: number;
}

export interface StandardOptions {
  /** `litellm_settings.turn_off_message_logging` (a request's headers and body may override it, as in LiteLLM). */
  turnOffMessageLogging: boolean;
  /** `callback_settings.<name>.message_logging: false`: no prompt or answer, whatever the request says. */
  callbackMessageLoggingOff: boolean;
  /** A counts-only logger's payload (registry.ts): `messages` and `response` null, not even the answer's length or a redacted copy. */
  countsOnly?: boolean;
  /** `litellm_settings.redact_user_api_key_info`: no `user_api_key_*` metadata. */
  redactUserApiKeyInfo: boolean;
  /** `redact_messages_in_exceptions`: an error keeps only its class. */
  redactMessagesInExceptions: boolean;
  /** Characters of the messages', the answer's and the client metadata's JSON kept (each): the payload must fit a queue message. */
  contentChars: number;
  /**
   * The request's W3C `traceparent` (when valid) in `metadata.requester_custom_headers`, where LiteLLM's ClickHouse
   * logger looks for it first: its row's `trace_id` / `span_id`. Only for a logger that reads it (registry.ts).
   */
  traceContext?: boolean;
}

/**
 * Fields that are the prompt itself, not model parameters: never in `model_parameters` (so hidden when message
 * logging is off). Rerank's (and search's) `query` and `documents` and a chat's `prediction` (the expected
 * answer's text) are content too, and may be any size.
 */
const PROMPT_FIELDS = new Set(['messages', 'prompt', 'input', 'instructions', 'file', 'image', 'mask', 'document', 'document_annotation_prompt', 'user', 'query', 'documents', 'prediction']);

/** Characters of a client's `litellm_trace_id` kept as the payload's `trace_id` (a longer one is not an id: the call's id instead). */
const TRACE_ID_CHARS = 256;

/** LiteLLM's exception classes by status, for `error_information.error_class`. */
const CLASS_BY_STATUS: Record<number, string> = {
  400: 'BadRequestError', 401: 'AuthenticationError', 403: 'PermissionDeniedError', 404: 'NotFoundError', 408: 'Timeout',
  422: 'UnprocessableEntityError', 429: 'RateLimitError', 500: 'InternalServerError', 502: 'APIConnectionError', 503: 'ServiceUnavailableError',
};

const seconds = (iso: string | null): number | null => (iso ? Date.parse(iso) / 1000 : null);

/** An api_base without anything that may be a credential (user info, query, fragment). */
export function publicApiBase(apiBase: string): string {
  if (!apiBase) return '';
  try {
    const url = new URL(apiBase);
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

/** The error's class as LiteLLM names it: from a `litellm.<Class>:` prefix, else by status. */
function errorClass(error: NonNullable<StandardCall['error']>): string {
  const prefixed = /^litellm\.([A-Za-z]+)[:\s]/.exec(error.message)?.[1];
  return prefixed ?? CLASS_BY_STATUS[error.status] ?? (error.status >= 500 ? 'APIError' : 'BadRequestError');
}

/**
 * Number and boolean request parameters, and (with message logging on) the others each bounded by `cut` (a large
 * `response_format` or `metadata` must not make the payload too large for a queue message, and so lost), as
 * LiteLLM's `model_parameters`; never a field that may hold a credential, at any depth (secret-params.ts).
 */
function modelParameters(body: Json, scalarsOnly: boolean, cut: (v: unknown) => unknown): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined || GATEWAY_PARAMS.has(key) || PROMPT_FIELDS.has(key) || isSecretParam(key)) continue;
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') out[key] = value;
    else if (!scalarsOnly && key !== 'tools' && key !== 'functions') {
      const kept = cut(withoutSecretParams(value));
      if (kept !== null) out[key] = kept;
    }
  }
  return out;
}

/**
 * The answer as LiteLLM logs it: a chat completion object for chat (its message's `tool_calls` and the answer's
 * `finish_reason` when it called tools: `tool_calls` where it gave none of OpenAI's; its reasoning as
 * `reasoning_content`), a Responses API object for a Responses answer (its `output`: the message with its text,
 * then a `function_call` item per tool call), the text otherwise, nothing for embeddings and the like.
 */
function responseOf(call: StandardCall, text: string | undefined, calls?: readonly AnswerToolCall[], reasoning?: string): unknown {
  if (text === undefined && !calls) return null;
  const { record } = call;
  const usage = { prompt_tokens: record.prompt_tokens, completion_tokens: record.completion_tokens, total_tokens: record.total_tokens };
  if (call.endpoint === 'chat') {
    const choice = { index: 0, message: chatMessage(text, calls, reasoning), ...(calls ? { finish_reason: toolCallsFinish(call.outcome?.finishReason) } : {}) };
    return { id: record.request_id, object: 'chat.completion', model: record.model, choices: [choice], usage };
  }
  if (call.endpoint === 'responses') {
    const tokens = { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens, total_tokens: usage.total_tokens };
    return { id: record.request_id, object: 'response', model: record.model, output: responsesOutput(text, calls), usage: tokens };
  }
  return text ?? null;
}

const TEXT_ENDPOINTS = new Set<CallEndpoint>(['chat', 'completion', 'responses', 'transcription', 'ocr']);

/**
 * One call's StandardLoggingPayload, as a plain object (its field names are
 * LiteLLM's, camelCase times included). Times are epoch seconds;
 * `response_time` is the time to the first chunk for a stream, else the
 * whole call, as in LiteLLM.
 */
export function buildStandardPayload(call: StandardCall, options: StandardOptions): Json {
  const { record, body } = call;
  const failed = !!call.error;
  const loggingOff = options.callbackMessageLoggingOff || messageLoggingOff(body, call.headers, options.turnOffMessageLogging);
  const requester = requestLangfuseMetadata(body, call.headers).requester;
  const start = seconds(record.startTime) ?? 0;
  const end = seconds(record.endTime) ?? start;
  const firstChunk = seconds(record.completionStartTime) ?? end;
  const apiBase = publicApiBase(record.api_base);
  const m = record.metadata;
  const cut = (v: unknown) => (options.contentChars > 0 ? boundedJson(v, options.contentChars) : null);

  const keyInfo: Json = options.redactUserApiKeyInfo ? {} : {
    user_api_key_hash: record.api_key || null,
    user_api_key_alias: m.user_api_key_alias ?? null,
    user_api_key_org_id: m.user_api_key_org_id ?? null,
    user_api_key_team_id: m.user_api_key_team_id ?? null,
    user_api_key_user_id: m.user_api_key_user_id ?? null,
    user_api_key_team_alias: m.user_api_key_team_alias ?? null,
    user_api_key_end_user_id: record.end_user,
  };
  const metadata: Json = {
    ...keyInfo,
    spend_logs_metadata: m.spend_logs_metadata ?? null,
    requester_ip_address: null,
    requester_metadata: Object.keys(requester).length ? requesterMetadataOf(requester, cut(requester)) : {},
    prompt_management_metadata: null,
    mcp_tool_call_metadata: null,
    vector_store_request_metadata: null,
    applied_guardrails: Array.isArray(m.applied_guardrails) ? m.applied_guardrails : [],
    usage_object: null,
  };
  const traceparent = options.traceContext ? call.headers.get('traceparent')?.trim().toLowerCase() : undefined;
  if (traceContextOf(traceparent)) metadata.requester_custom_headers = { traceparent };

  let errorStr: string | null = null;
  let errorInformation: Json | null = null;
  if (call.error) {
    const message = options.redactMessagesInExceptions || loggingOff ? redactedErrorMessage(call.error.message, call.error.type) : call.error.message;
    errorStr = message.slice(0, 4096);
    errorInformation = {
      error_code: String(call.error.status),
      error_class: errorClass(call.error),
      llm_provider: call.error.provider ?? record.custom_llm_provider ?? null,
      traceback: '',
      error_message: errorStr,
    };
  }

  let messages: unknown = null;
  let response: unknown = null;
  if (options.countsOnly) {
    // Nothing of the prompt or answer, whatever text the call kept for other loggers.
  } else if (loggingOff) {
    messages = REDACTED_INPUT.messages;
    // As LiteLLM's perform_redaction: a chat completion or a Responses API object keeps its shape with the text
    // redacted (never a tool call's name or arguments), any other answer is `{text}`.
    if (!failed && TEXT_ENDPOINTS.has(call.endpoint)) response = call.endpoint === 'chat' || call.endpoint === 'responses' ? responseOf(call, REDACTED) : { text: REDACTED };
  } else {
    const input = body.messages ?? body.prompt ?? body.input;
    if (input !== undefined) messages = cut(input);
    const text = call.outcome?.responseText;
    const calls = toolCallsOf(call.outcome);
    if (!failed && TEXT_ENDPOINTS.has(call.endpoint) && (text !== undefined || calls)) {
      // The reasoning and the tool calls share the answer's budget: a huge one must not make the payload too large for its queue message.
      const parts = boundedChatParts(text, calls, reasoningOf(call.endpoint, call.outcome), options.contentChars);
      response = responseOf(call, text === undefined ? undefined : cutText(text, options.contentChars), parts.calls, parts.reasoning);
    }
  }

  return {
    id: record.request_id,
    trace_id: typeof body.litellm_trace_id === 'string' && body.litellm_trace_id && body.litellm_trace_id.length <= TRACE_ID_CHARS ? body.litellm_trace_id : record.request_id,
    call_type: record.call_type,
    stream: call.stream,
    response_cost: record.spend,
    response_cost_failure_debug_info: null,
    status: failed ? 'failure' : 'success',
    status_fields: { llm_api_status: failed ? 'failure' : 'success' },
    custom_llm_provider: record.custom_llm_provider || null,
    total_tokens: record.total_tokens,
    prompt_tokens: record.prompt_tokens,
    completion_tokens: record.completion_tokens,
    startTime: start,
    endTime: end,
    completionStartTime: firstChunk,
    response_time: call.stream ? firstChunk - start : end - start,
    model_map_information: { model_map_key: record.model, model_map_value: null },
    model: record.model,
    model_id: record.model_id || null,
    model_group: record.model_group || null,
    api_base: apiBase,
    metadata,
    cache_hit: record.cache_hit,
    cache_key: record.cache_key,
    saved_cache_cost: 0,
    request_tags: record.request_tags,
    end_user: record.end_user,
    requester_ip_address: null,
    messages,
    response,
    error_str: errorStr,
    error_information: errorInformation,
    model_parameters: modelParameters(body, loggingOff || call.endpoint === 'pass_through' || call.endpoint === 'interaction', cut),
    hidden_params: {
      model_id: record.model_id || null,
      cache_key: record.cache_key,
      api_base: apiBase || null,
      response_cost: String(record.spend),
      litellm_overhead_time_ms: call.overheadMs ?? null,
      additional_headers: null,
      batch_models: null,
      litellm_model_name: record.model,
      usage_object: null,
    },
    guardrail_information: null,
    standard_built_in_tools_params: null,
  };
}
