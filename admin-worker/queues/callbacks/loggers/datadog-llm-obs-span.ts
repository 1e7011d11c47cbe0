/**
 * A StandardLoggingPayload as one Datadog LLM Observability span, as LiteLLM's DataDogLLMObsLogger
 * (`create_llm_obs_payload`) fills it: the call's place in a trace (the request metadata's `parent_id`, `span_id`,
 * `name`), `meta` (kind, input and output messages, LiteLLM's metadata, the error of a failed call), token and
 * cost `metrics`, nanosecond times, `ok`/`error` status and the call's Datadog tags. Pure: the poster
 * (datadog-llm-obs.ts) batches the spans.
 */
import { datadogTags, type DatadogSettings } from './datadog.ts';
import { isObject, type Json } from './payloads.ts';
import { responsesChoice } from './responses-answer.ts';

/** Call types whose answer's first choice is logged as the output message (LiteLLM's chat-like calls). */
const CHAT_CALL_TYPES = new Set([
  'completion', 'acompletion', 'text_completion', 'atext_completion', 'generate_content', 'agenerate_content',
  'generate_content_stream', 'agenerate_content_stream', 'anthropic_messages',
]);

const both = (...names: string[]): string[] => names.flatMap((n) => [n, `a${n}`]);

/** LiteLLM's span kinds by call type; anything else (and every root span) is `llm`. */
const KIND_BY_CALL_TYPE = new Map<string, string>([
  ...both('embedding').map((t) => [t, 'embedding'] as const),
  ['call_mcp_tool', 'tool'],
  ...[...both('get_assistants', 'get_thread', 'get_messages', 'file_retrieve', 'file_list', 'file_content', 'retrieve_batch', 'retrieve_fine_tuning_job'), 'alist_input_items']
    .map((t) => [t, 'retrieval'] as const),
  ...[...both('create_batch', 'create_fine_tuning_job', 'cancel_fine_tuning_job', 'list_fine_tuning_jobs', 'create_assistants', 'delete_assistant',
    'create_thread', 'run_thread', 'run_thread_stream', 'file_delete', 'create_file', 'image_generation', 'image_edit', 'moderation',
    'transcription', 'speech', 'rerank'), 'add_message', 'a_add_message'].map((t) => [t, 'task'] as const),
]);

/**
 * The span's kind: `llm` for a root span (Datadog takes no other kind without a parent, so LiteLLM maps the call
 * type only when the request names a `parent_id`).
 */
export function spanKind(callType: unknown, parentId: string | undefined): string {
  if (typeof callType !== 'string' || !parentId) return 'llm';
  return KIND_BY_CALL_TYPE.get(callType) ?? 'llm';
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** A field as Python's `dict.get(key, fallback)` reads it: the fallback only when the key is missing, a null kept. */
const got = (o: Json, key: string, fallback: unknown): unknown => (key in o ? o[key] : fallback);

/** The message's text parts joined, as LiteLLM's `convert_content_list_to_str` (throws on a part that is not an object). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (!isObject(part)) throw new TypeError('a content part that is not an object');
    if (typeof part.text === 'string') text += part.text;
  }
  return text;
}

/**
 * The input messages as LiteLLM logs them: each message's content list made one text; a prompt that is not a list
 * of messages (an embedding's strings, a text completion's prompt) as `{input: <its JSON>}` items instead.
 */
export function inputMessages(messages: unknown): unknown[] {
  if (messages === null || messages === undefined) return [];
  // A prompt cut to fit a queue message (bounded-json's marker) is shown as what it is.
  if (isObject(messages) && messages.truncated === true) return [{ input: JSON.stringify(messages) }];
  const list = typeof messages === 'string' ? [messages] : Array.isArray(messages) ? messages : isObject(messages) ? [String(messages.content ?? '')] : [];
  try {
    return list.map((m) => {
      if (!isObject(m)) throw new TypeError('a message that is not an object');
      const text = contentText(m.content);
      return text ? { ...m, content: text } : m;
    });
  } catch {
    return list.map((m) => ({ input: JSON.stringify(m) }));
  }
}

/**
 * The answer's first choice's message, for a chat-like call whose answer has one; a Responses API answer's output
 * read as that message (its text, its `function_call` items as `tool_calls`), where LiteLLM's logger shows none;
 * otherwise none.
 */
function outputMessages(response: unknown, callType: unknown): unknown[] {
  let answer = response;
  if (typeof answer === 'string') {
    try {
      answer = JSON.parse(answer);
    } catch {
      return [];
    }
  }
  const responses = callType === 'aresponses' || callType === 'responses' ? responsesChoice(answer) : undefined;
  if (responses) return [responses.message];
  if (typeof callType !== 'string' || !CHAT_CALL_TYPES.has(callType) || !isObject(answer) || !Array.isArray(answer.choices)) return [];
  const first: unknown = answer.choices[0];
  return isObject(first) && 'message' in first ? [first.message] : [];
}

/** Seconds to the first token: the first chunk's time (the answer's, for a call not streamed), else the whole call. */
function timeToFirstToken(payload: Json): number {
  const start = payload.startTime;
  if (typeof start !== 'number') return 0;
  if (typeof payload.completionStartTime === 'number') return payload.completionStartTime - start;
  return typeof payload.endTime === 'number' ? payload.endTime - start : 0;
}

/** A message's tool calls as LiteLLM's flat `tool_calls.<i>.*` metadata keys, under `prefix`. */
function toolCallKeys(toolCalls: unknown, prefix: string, out: Json): void {
  if (!Array.isArray(toolCalls)) return;
  toolCalls.forEach((call: unknown, i) => {
    if (!isObject(call)) return;
    if (call.id) out[`${prefix}tool_calls.${i}.id`] = call.id;
    if (call.type) out[`${prefix}tool_calls.${i}.type`] = call.type;
    const fn = isObject(call.function) ? call.function : undefined;
    if (fn?.name) out[`${prefix}tool_calls.${i}.function.name`] = fn.name;
    if (fn?.arguments) out[`${prefix}tool_calls.${i}.function.arguments`] = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments);
  });
}

/** LiteLLM's span metadata: the model and provider, ids, cache, stream, latency and spend, tool calls, then the payload's metadata. */
function spanMetadata(payload: Json): Json {
  const model = isObject(payload.model_parameters) ? payload.model_parameters : {};
  const latency: Json = {};
  const ttft = timeToFirstToken(payload);
  if (ttft > 0) latency.time_to_first_token_ms = ttft * 1000;
  const hidden = isObject(payload.hidden_params) ? payload.hidden_params : {};
  if (hidden.litellm_overhead_time_ms !== null && hidden.litellm_overhead_time_ms !== undefined) latency.litellm_overhead_time_ms = hidden.litellm_overhead_time_ms;
  if (Array.isArray(payload.guardrail_information)) {
    const seconds = payload.guardrail_information.reduce((sum: number, g: unknown) => sum + (isObject(g) ? num(g.duration) : 0), 0);
    if (seconds > 0) latency.guardrail_overhead_time_ms = seconds * 1000;
  }
  const metadata: Json = {
    model_name: got(payload, 'model', 'unknown'),
    model_provider: got(payload, 'custom_llm_provider', 'unknown'),
    id: got(payload, 'id', 'unknown'),
    trace_id: got(payload, 'trace_id', 'unknown'),
    cache_hit: got(payload, 'cache_hit', 'unknown'),
    cache_key: got(payload, 'cache_key', 'unknown'),
    saved_cache_cost: got(payload, 'saved_cache_cost', 0),
    guardrail_information: payload.guardrail_information ?? null,
    is_streamed_request: payload.stream === true || model.stream === true,
    latency_metrics: latency,
    spend_metrics: { response_cost: got(payload, 'response_cost', 0) },
  };
  if (Array.isArray(payload.messages)) for (const m of payload.messages) if (isObject(m)) toolCallKeys(m.tool_calls, 'input_', metadata);
  const response = isObject(payload.response) ? payload.response : {};
  const choices = Array.isArray(response.choices) ? response.choices : [responsesChoice(response)];
  for (const c of choices) if (isObject(c) && isObject(c.message)) toolCallKeys(c.message.tool_calls, 'output_', metadata);
  return Object.assign(metadata, isObject(payload.metadata) ? payload.metadata : {});
}

/** The error of a failed call, as LiteLLM's `_assemble_error_info`: none without the payload's error_information. */
function spanError(payload: Json): Json | null {
  if (payload.status !== 'failure' || !isObject(payload.error_information)) return null;
  const info = payload.error_information;
  return { message: info.error_message || payload.error_str || 'Unknown error', type: info.error_class ?? null, stack: info.traceback ?? null };
}

/** A trace placement the request's metadata gives: a non-empty string, else none. */
const placement = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * One payload's span. Its place in a trace comes from the client's request metadata (`parent_id`, `span_id`,
 * `name`, as LiteLLM reads them; a metadata cut for message logging off or its size keeps the first two, so the
 * span is then named `litellm_llm_call`, requester-ids.ts); the span id defaults to the call id (LiteLLM's is random), so a batch sent again
 * after a failure names the same span ids. Datadog does not document merging spans by id: a batch it took but
 * whose answer was lost may show twice.
 */
export function llmObsSpan(payload: Json, settings: DatadogSettings): Json {
  const m = isObject(payload.metadata) ? payload.metadata : {};
  const requester = isObject(m.requester_metadata) ? m.requester_metadata : {};
  const parentId = placement(requester.parent_id);
  const error = spanError(payload);
  const start = num(payload.startTime);
  const end = typeof payload.endTime === 'number' ? payload.endTime : start;
  return {
    parent_id: parentId ?? 'undefined',
    trace_id: placement(payload.trace_id) ?? String(payload.id ?? ''),
    span_id: placement(requester.span_id) ?? String(payload.id ?? ''),
    name: placement(requester.name) ?? 'litellm_llm_call',
    meta: {
      kind: spanKind(payload.call_type, parentId),
      input: { messages: inputMessages(payload.messages) },
      output: { messages: outputMessages(payload.response, payload.call_type) },
      metadata: spanMetadata(payload),
      error,
    },
    start_ns: Math.round(start * 1e9),
    duration: Math.max(0, Math.trunc((end - start) * 1e9)),
    metrics: {
      input_tokens: num(payload.prompt_tokens),
      output_tokens: num(payload.completion_tokens),
      total_tokens: num(payload.total_tokens),
      total_cost: num(payload.response_cost),
      time_to_first_token: timeToFirstToken(payload),
    },
    status: error ? 'error' : 'ok',
    tags: datadogTags(payload, settings),
  };
}
