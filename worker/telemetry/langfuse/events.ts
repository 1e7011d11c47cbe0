import { GATEWAY_PARAMS } from '../../providers/openai-compatible/params.ts';
import type { AnswerReasoning, AnswerToolCall, CallEndpoint, RequestHeaders } from '../../providers/types.ts';
import { reasoningOf } from '../answer-reasoning.ts';
import { chatMessage, cutText, responsesOutput, toolCallsOf } from '../answer-tool-calls.ts';
import { isSecretParam, withoutSecretParams } from '../secret-params.ts';
import { messageLoggingOff, REDACTED_INPUT, redactedErrorMessage } from './redaction.ts';
import { requestLangfuseMetadata } from './request-metadata.ts';
import { type GenerationBody, type IngestionEvent, type ObservationLevel, REDACTED, type TraceBody } from './types.ts';

/** The settings of config.yaml (and the environment) that shape the events. */
export interface LangfuseOptions {
  /** `litellm_settings.turn_off_message_logging`. */
  turnOffMessageLogging: boolean;
  /** `callback_settings.langfuse.message_logging: false`: no prompt or answer, whatever the request or its headers say. */
  callbackMessageLoggingOff?: boolean;
  /** `litellm_settings.redact_user_api_key_info`: no `user_api_key*` metadata or tags. */
  redactUserApiKeyInfo: boolean;
  /** `general_settings.redact_messages_in_exceptions`. */
  redactMessagesInExceptions: boolean;
  /** `litellm_settings.langfuse_default_tags`. */
  defaultTags: string[];
  /** `PROXY_BASE_URL`, for the `proxy_base_url` default tag. */
  proxyBaseUrl?: string;
}

type Json = Record<string, unknown>;

/**
 * Characters of an answer's reasoning logged (cut and marked past it): a model's thinking runs to tens of thousands,
 * and past the queue message's room (packing.ts) it would have the prompt and the answer's text cut too.
 */
const REASONING_CHARS = 16 * 1024;

/**
 * What the events are made of: the part of a finished call's CallEvent
 * (telemetry/call-event.ts) they read, spelt out so this module stays free of
 * the Worker's bindings.
 */
export interface LangfuseCall {
  record: {
    request_id: string;
    call_type: string;
    api_key: string;
    spend: number;
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    cache_read_input_tokens: number;
    cache_creation_input_tokens: number;
    startTime: string;
    endTime: string;
    completionStartTime: string | null;
    model: string;
    model_id: string;
    model_group: string;
    custom_llm_provider: string;
    api_base: string;
    metadata: Json;
    cache_hit: boolean;
    cache_key: string | null;
    request_tags: string[];
    end_user: string | null;
    session_id: string | null;
  };
  endpoint: CallEndpoint;
  body: Json;
  headers: RequestHeaders;
  outcome?: { responseText?: string; responseToolCalls?: readonly AnswerToolCall[]; responseReasoning?: AnswerReasoning; aborted?: boolean };
  error?: { message: string; type: string };
  finishedAt: number;
  overheadMs?: number;
}

/** Fields that are the prompt itself (logged as input) rather than model parameters. */
// An OCR call's `document` (a URL, or the whole file as a data: URI) and its annotation prompt too.
const PROMPT_FIELDS = new Set(['messages', 'prompt', 'input', 'instructions', 'tools', 'functions', 'turn_off_message_logging', 'file', 'image', 'mask', 'document', 'document_annotation_prompt']);

/** trace_* metadata keys (prefix stripped) → the trace body's field. */
const TRACE_FIELDS: Record<string, keyof TraceBody> = {
  user_id: 'userId', session_id: 'sessionId', metadata: 'metadata', release: 'release', version: 'version',
  public: 'public', tags: 'tags', name: 'name', input: 'input', output: 'output',
};

/**
 * The Langfuse events of one finished call, as LiteLLM's Langfuse logger
 * makes them (`_log_langfuse_v2`): a `trace-create` (none, or an update of
 * the listed keys, when the client continues a trace with
 * `existing_trace_id`) and a `generation-create`. Their event ids are the
 * call's id with the event's kind (LiteLLM draws a uuid4 for each; Langfuse
 * needs them unique, and a redelivered event then keeps its id).
 */
export function buildLangfuseEvents(event: LangfuseCall, options: LangfuseOptions): IngestionEvent[] {
  const { record, body, outcome } = event;
  const meta = requestLangfuseMetadata(body, event.headers);
  const failed = !!event.error;
  const callType = record.call_type;
  const startTime = record.startTime;
  const endTime = record.endTime;
  const now = new Date(event.finishedAt).toISOString();

  const loggingOff = options.callbackMessageLoggingOff === true || messageLoggingOff(body, event.headers, options.turnOffMessageLogging);
  let statusMessage: string | undefined;
  if (event.error) {
    // A provider's or guardrail's error may quote the prompt: withheld with it.
    const redact = options.redactMessagesInExceptions || loggingOff;
    statusMessage = redact ? redactedErrorMessage(event.error.message, event.error.type) : event.error.message;
  }
  const input = meta.maskInput ? REDACTED : loggingOff ? REDACTED_INPUT : promptOf(event);
  const answer = failed ? statusMessage : loggingOff ? redactedAnswer(event) : answerOf(event);
  const output = meta.maskOutput ? REDACTED : answer;

  // LiteLLM's proxy metadata (user_api_key_*), then what the call produced.
  const keyInfo: Json = {
    user_api_key: record.api_key,
    user_api_key_hash: record.api_key,
    user_api_key_alias: record.metadata.user_api_key_alias ?? null,
    user_api_key_user_id: record.metadata.user_api_key_user_id ?? null,
    user_api_key_team_id: record.metadata.user_api_key_team_id ?? null,
    user_api_key_team_alias: record.metadata.user_api_key_team_alias ?? null,
    user_api_key_org_id: record.metadata.user_api_key_org_id ?? null,
    user_api_key_end_user_id: record.end_user,
  };
  const visibleKeyInfo = options.redactUserApiKeyInfo ? {} : keyInfo;
  const generationMetadata: Json = {
    ...visibleKeyInfo,
    model_group: record.model_group,
    api_base: record.api_base || undefined,
    litellm_response_cost: record.spend,
    cache_hit: record.cache_hit,
    hidden_params: {
      model_id: record.model_id,
      api_base: record.api_base || null,
      response_cost: record.spend,
      custom_llm_provider: record.custom_llm_provider,
      litellm_model_name: record.model,
      cache_key: record.cache_key,
      ...(event.overheadMs !== undefined ? { litellm_overhead_time_ms: event.overheadMs } : {}),
    },
    ...(record.metadata.usage_estimated ? { usage_estimated: true } : {}),
    ...(record.metadata.client_disconnected ? { client_disconnected: true } : {}),
    requester_metadata: meta.requester,
  };

  const tags = [...record.request_tags];
  const tagSource: Json = { ...visibleKeyInfo, model_group: record.model_group };
  for (const name of options.defaultTags) {
    if (name === 'cache_hit') tags.push(`cache_hit:${record.cache_hit ? 'True' : 'False'}`);
    else if (name === 'proxy_base_url') {
      if (options.proxyBaseUrl) tags.push(`proxy_base_url:${options.proxyBaseUrl}`);
    } else if (name === 'cache_key') {
      if (record.cache_key) tags.push(`cache_key:${record.cache_key}`);
    } else {
      const value = tagSource[name] ?? meta.requester[name];
      if (value !== null && value !== undefined && typeof value !== 'object') tags.push(`${name}:${String(value)}`);
    }
  }

  const traceId = meta.existingTraceId ?? meta.traceId ?? record.request_id;
  const events: IngestionEvent[] = [];
  if (meta.existingTraceId) {
    // Continuing someone's trace: only the keys the client asked to update, never its name or timestamp.
    const update: TraceBody = { id: meta.existingTraceId };
    for (const key of meta.updateTraceKeys) {
      if (key === 'input') update.input = input;
      else if (key === 'output') update.output = output;
      else setTraceField(update, key.replace(/^trace_/, ''), meta.requester[key]);
    }
    if (Object.keys(update).length > 1) events.push({ id: `${record.request_id}-trace`, timestamp: now, type: 'trace-create', body: update });
  } else {
    const trace: TraceBody = { id: traceId, timestamp: startTime, name: meta.traceName ?? `litellm-${callType}` };
    const userId = record.end_user ?? undefined;
    if (userId) trace.userId = userId;
    const sessionId = meta.sessionId ?? record.session_id ?? undefined;
    if (sessionId) trace.sessionId = sessionId;
    if (meta.version) trace.version = meta.version;
    for (const [key, value] of Object.entries(meta.traceFields)) setTraceField(trace, key, value);
    if (input !== undefined) trace.input = input;
    if (!failed && output !== undefined) trace.output = output;
    if (meta.debug) trace.metadata = { ...(isObject(trace.metadata) ? trace.metadata : {}), metadata_passed_to_litellm: meta.requester };
    trace.tags = tags;
    events.push({ id: `${record.request_id}-trace`, timestamp: now, type: 'trace-create', body: trace });
  }

  const alias = visibleKeyInfo.user_api_key_alias;
  const level: ObservationLevel = failed ? 'ERROR' : outcome?.aborted ? 'WARNING' : 'DEFAULT';
  const generation: GenerationBody = {
    id: meta.generationId ?? record.request_id,
    traceId,
    name: meta.generationName ?? (typeof alias === 'string' && alias ? `litellm:${alias}` : `litellm-${callType}`),
    startTime,
    endTime,
    model: record.model,
    // A provider's own format keeps its prompt in fields of its own (system, contents, instances, ...), and text
    // parameters may carry the prompt (a rerank's query and documents, prediction, suffix, stop): only numbers and flags then.
    modelParameters: modelParameters(body, event.endpoint === 'pass_through' || event.endpoint === 'interaction' || loggingOff),
    metadata: generationMetadata,
    level,
  };
  if (!failed) generation.completionStartTime = record.completionStartTime ?? endTime;
  if (input !== undefined) generation.input = input;
  if (output !== undefined) generation.output = output;
  if (outcome) {
    generation.usage = { input: record.prompt_tokens, output: record.completion_tokens, total: record.total_tokens, unit: 'TOKENS', totalCost: record.spend };
    generation.usageDetails = {
      input: record.prompt_tokens, output: record.completion_tokens, total: record.total_tokens,
      cache_creation_input_tokens: record.cache_creation_input_tokens, cache_read_input_tokens: record.cache_read_input_tokens,
    };
  }
  if (statusMessage !== undefined) generation.statusMessage = statusMessage;
  else if (outcome?.aborted) generation.statusMessage = 'client disconnected before the end of the stream';
  if (meta.version) generation.version = meta.version;
  if (meta.parentObservationId) generation.parentObservationId = meta.parentObservationId;
  events.push({ id: `${record.request_id}-generation`, timestamp: now, type: 'generation-create', body: generation });
  return events;
}

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

function setTraceField(trace: TraceBody, key: string, value: unknown): void {
  const field = TRACE_FIELDS[key];
  if (!field || value === undefined || value === null) return;
  if (field === 'public') trace.public = value === true || value === 'true';
  else if (field === 'tags') {
    if (Array.isArray(value)) trace.tags = value.filter((t): t is string => typeof t === 'string');
  } else if (field === 'metadata' || field === 'input' || field === 'output') trace[field] = value;
  else if (typeof value === 'string' || typeof value === 'number') trace[field] = String(value);
}

/** LiteLLM's prompt object: the messages (the prompt or input on the other endpoints), with tools and functions. */
function promptOf(event: LangfuseCall): Json {
  const { body } = event;
  const prompt: Json = { messages: body.messages ?? body.prompt ?? body.input ?? null };
  // The Responses API's system prompt.
  if (body.instructions !== undefined) prompt.instructions = body.instructions;
  if (body.functions !== undefined) prompt.functions = body.functions;
  if (body.tools !== undefined) prompt.tools = body.tools;
  return prompt;
}

/**
 * The answer as LiteLLM logs it: the assistant message for chat (`{role, content, tool_calls, reasoning_content}`),
 * the text for completions, nothing for embeddings. A Responses API answer is its `output` items (the message with
 * its text, then the `function_call`s), as LiteLLM logs `response.output`.
 */
function answerOf(event: LangfuseCall): unknown {
  const text = event.outcome?.responseText;
  const calls = toolCallsOf(event.outcome);
  // The transcript of a transcription too (LiteLLM logs it as the output), and the pages an OCR call read.
  if (event.endpoint !== 'chat' && event.endpoint !== 'completion' && event.endpoint !== 'responses' && event.endpoint !== 'transcription' && event.endpoint !== 'ocr') return undefined;
  if (text === undefined && !calls) return undefined;
  if (event.endpoint === 'responses') return responsesOutput(text, calls);
  const reasoning = reasoningOf(event.endpoint, event.outcome);
  return event.endpoint === 'chat' ? chatMessage(text, calls, reasoning && cutText(reasoning, REASONING_CHARS)) : text;
}

/**
 * The answer with message logging off: LiteLLM's redacted text only, never a tool call's name or arguments (a
 * Responses API answer keeps its `output` shape, its text redacted, as LiteLLM redacts `response.output`).
 */
function redactedAnswer(event: LangfuseCall): unknown {
  if (event.endpoint !== 'chat' && event.endpoint !== 'completion' && event.endpoint !== 'responses' && event.endpoint !== 'transcription' && event.endpoint !== 'ocr') return undefined;
  if (event.endpoint === 'responses') return responsesOutput(REDACTED, undefined);
  return event.endpoint === 'chat' ? { role: 'assistant', content: REDACTED } : REDACTED;
}

/**
 * The request's model parameters as Langfuse takes them: scalars and string lists as they are, anything else as
 * JSON text; with `scalarsOnly`, numbers and booleans alone. Never a field that may hold a credential.
 */
function modelParameters(body: Json, scalarsOnly = false): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined || GATEWAY_PARAMS.has(key) || PROMPT_FIELDS.has(key) || isSecretParam(key)) continue;
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') out[key] = value;
    else if (scalarsOnly) continue;
    else if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value as string[];
    else out[key] = JSON.stringify(withoutSecretParams(value));
  }
  return out;
}
