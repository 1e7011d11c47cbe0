/**
 * One finished call as an OpenTelemetry span with the OpenInference semantic
 * conventions, as LiteLLM's `arize_phoenix`, `arize`, `weave_otel` and `langfuse_otel`
 * callbacks set them (litellm/integrations/arize/_utils.py `set_attributes`):
 * `openinference.span.kind`, `llm.model_name`, `llm.provider`, `input.value` /
 * `output.value`, `llm.input_messages.N.message.role|content`,
 * `llm.output_messages.N...`, `llm.token_count.*`, `llm.invocation_parameters`,
 * `metadata`, `user.id`, `session.id`, `tag.tags`. `langfuse_otel` carries the
 * prompt and answer as `langfuse.observation.input|output` instead of the input
 * messages, plus its `langfuse.*` attributes (langfuse-attributes.ts). The prompt
 * and answer are kept within budgets (openinference-content.ts); a Responses API answer is shown as its `output`
 * items (openinference-responses.ts).
 */
import { requestLangfuseMetadata } from '../langfuse/request-metadata.ts';
import { isSecretParam } from '../secret-params.ts';
import { langfuseAttributes } from './langfuse-attributes.ts';
import { reasoningOf } from '../answer-reasoning.ts';
import { boundedToolCalls, chatMessage, cutText, responsesOutput, toolCallsOf } from '../answer-tool-calls.ts';
import { putResponsesOutput } from './openinference-responses.ts';
import { type ContentLimits, langfuseInput, promptParts, putInputMessages, putOutputToolCalls, putTools, toolEntries } from './openinference-content.ts';
import { type Attribute, bounded, put, putDouble, type SpanCall, spanJson, spanLoggingOff, type SpanOptions, spanStatus } from './spans.ts';

/** Which vendor's flavour of the OpenInference attributes a span carries. */
export type InferenceFlavour = 'arize_phoenix' | 'arize' | 'langfuse_otel' | 'weave_otel';

export interface InferenceOptions extends SpanOptions {
  /** Characters of the prompt kept (the input messages together, the tools together); `contentChars` when unset. */
  inputChars?: number;
  /** `LANGFUSE_TRACING_ENVIRONMENT` (langfuse_otel only): the span's `langfuse.environment`. */
  langfuseEnvironment?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** OpenInference's span kind for a call type, as LiteLLM infers it (`_infer_open_inference_span_kind`). */
function spanKind(callType: string): string {
  const t = callType.toLowerCase();
  if (t.includes('embed')) return 'EMBEDDING';
  if (t.includes('rerank')) return 'RERANKER';
  if (t.includes('search')) return 'RETRIEVER';
  if (t.includes('moderation') || t.includes('guardrail')) return 'GUARDRAIL';
  if (/completion|chat|image|audio|speech|transcription|generate_content|response|realtime|pass_through|anthropic_messages|ocr/.test(t)) return 'LLM';
  if (/file|batch|container|fine_tuning_job/.test(t)) return 'CHAIN';
  return 'UNKNOWN';
}

/** Request fields that are the prompt, the routing or the client's metadata, never model parameters. */
const NOT_PARAMETERS = new Set(['messages', 'input', 'prompt', 'instructions', 'model', 'metadata', 'litellm_metadata', 'tools', 'functions', 'mock_response', 'documents', 'query']);
/** Object-valued parameters worth keeping: none of them carries a credential. */
const OBJECT_PARAMETERS = new Set(['response_format', 'stream_options', 'tool_choice', 'reasoning', 'logit_bias', 'text']);

/**
 * LiteLLM's `model_parameters` of a call (`llm.invocation_parameters`): numbers, flags and short texts of the
 * request, never a credential, and with message logging off only numbers and flags (a `stop` or `suffix` may
 * quote the prompt).
 */
function invocationParameters(body: Record<string, unknown>, loggingOff: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    // A credential a client may send in the body (`api_key`, as LiteLLM allows): the list all telemetry shares.
    if (NOT_PARAMETERS.has(name) || isSecretParam(name)) continue;
    if (typeof value === 'number' || typeof value === 'boolean') out[name] = value;
    else if (loggingOff) continue;
    else if (typeof value === 'string') out[name] = value.slice(0, 512);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) out[name] = value.slice(0, 32);
    else if (isObject(value) && OBJECT_PARAMETERS.has(name)) out[name] = value;
  }
  return out;
}

/** LiteLLM's `metadata` attribute: the call's standard logging metadata, the key's identity left out under `redact_user_api_key_info`. */
function metadataOf(call: SpanCall, options: Pick<SpanOptions, 'redactUserApiKeyInfo'>, requester: Record<string, unknown>): string {
  const { record } = call;
  const m = record.metadata;
  const metadata: Record<string, unknown> = options.redactUserApiKeyInfo ? {} : {
    user_api_key_hash: record.api_key || undefined,
    user_api_key_alias: m.user_api_key_alias,
    user_api_key_user_id: m.user_api_key_user_id,
    user_api_key_team_id: m.user_api_key_team_id,
    user_api_key_team_alias: m.user_api_key_team_alias,
    user_api_key_org_id: m.user_api_key_org_id,
    user_api_key_end_user_id: record.end_user || undefined,
  };
  if (m.spend_logs_metadata) metadata.spend_logs_metadata = m.spend_logs_metadata;
  if (Object.keys(requester).length) metadata.requester_metadata = requester;
  metadata.model_group = record.model_group || undefined;
  metadata.model_id = record.model_id || undefined;
  return bounded(JSON.stringify(metadata), 4096);
}

/**
 * The span of one call for an OpenInference-based callback, as OTLP JSON text, its prompt and answer cut to
 * `options.contentChars` characters (the input messages together; `options.inputChars` for the prompt when
 * set), none when message logging is off for the call or the callback.
 */
export function buildInferenceSpan(call: SpanCall, flavour: InferenceFlavour, options: InferenceOptions): string {
  return inferenceSpanBuilder(call, flavour, options)({ input: options.inputChars ?? options.contentChars, output: options.contentChars });
}

/**
 * Weave's own attributes, as LiteLLM's `weave_otel` sets them: the call's name in Weave (`metadata.display_name`,
 * else `provider__model`), and the session as a Weave thread whose turn the call is.
 */
function weaveAttributes(frame: Attribute[], call: SpanCall, sessionId: string | undefined): void {
  const metadata = isObject(call.body.metadata) ? call.body.metadata : {};
  const { model, custom_llm_provider: provider } = call.record;
  const named = typeof metadata.display_name === 'string' && metadata.display_name ? metadata.display_name : provider && model ? `${provider}/${model}` : model;
  if (named) put(frame, 'wandb.display_name', named.replace(/\//g, '__').slice(0, 256));
  if (sessionId) {
    put(frame, 'wandb.thread_id', sessionId);
    put(frame, 'wandb.is_turn', true);
  }
}

/**
 * What builds a call's span for an OpenInference-based callback at given content limits: everything but the
 * prompt and the answer is made once, so the sink can try smaller limits (the prompt's first, so the answer
 * survives) without reading the call again.
 */
export function inferenceSpanBuilder(call: SpanCall, flavour: InferenceFlavour, options: Omit<InferenceOptions, 'contentChars'>): (limits: ContentLimits) => string {
  const { record, body } = call;
  const frame: Attribute[] = [];
  const loggingOff = spanLoggingOff(call, options);
  const lf = requestLangfuseMetadata(body, call.headers);
  const status = spanStatus(call, options, loggingOff, frame);

  put(frame, 'metadata', metadataOf(call, options, loggingOff ? {} : lf.requester));
  put(frame, 'llm.model_name', record.model || record.model_group);
  put(frame, 'llm.request.type', record.call_type);
  put(frame, 'llm.provider', record.custom_llm_provider || 'Unknown');
  const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : body.max_completion_tokens;
  if (maxTokens) put(frame, 'llm.request.max_tokens', maxTokens);
  if (body.temperature) putDouble(frame, 'llm.request.temperature', body.temperature);
  if (body.top_p) putDouble(frame, 'llm.request.top_p', body.top_p);
  put(frame, 'llm.is_streaming', String(call.stream));
  const user = typeof body.user === 'string' && body.user ? body.user : undefined;
  if (user) put(frame, 'llm.user', user);
  put(frame, 'llm.response.id', record.request_id);
  put(frame, 'llm.response.model', record.model);
  put(frame, 'llm.token_count.total', record.total_tokens);
  if (record.completion_tokens) put(frame, 'llm.token_count.completion', record.completion_tokens);
  if (record.prompt_tokens) put(frame, 'llm.token_count.prompt', record.prompt_tokens);
  const parameters = invocationParameters(body, loggingOff);
  if (Object.keys(parameters).length) put(frame, 'llm.invocation_parameters', bounded(JSON.stringify(parameters), 4096));

  if (flavour === 'langfuse_otel') {
    langfuseAttributes(frame, call, lf, { user, environment: options.langfuseEnvironment });
  } else {
    put(frame, 'user.id', user);
    put(frame, 'session.id', lf.sessionId ?? (record.session_id || undefined));
    if (record.request_tags.length) put(frame, 'tag.tags', record.request_tags);
    const project = isObject(body.metadata) ? body.metadata.phoenix_project_name : undefined;
    if (flavour === 'arize_phoenix' && typeof project === 'string' && project) put(frame, 'openinference.project.name', project.slice(0, 200));
    if (flavour === 'weave_otel') weaveAttributes(frame, call, lf.sessionId ?? (record.session_id || undefined));
  }

  const kind = spanKind(record.call_type);
  const parts = loggingOff ? undefined : promptParts(body, call.error ? undefined : call.outcome?.responseText, flavour === 'langfuse_otel', call.error ? undefined : toolCallsOf(call.outcome));
  const tools = toolEntries(body.tools);
  const responses = call.endpoint === 'responses';
  // A chat answer's reasoning: only Langfuse's output message has a place for it (OpenInference has no attribute for it).
  const reasoning = parts && flavour === 'langfuse_otel' && !call.error ? reasoningOf(call.endpoint, call.outcome) : undefined;
  return (limits) => {
    const attributes = frame.slice();
    const input = parts ? limits.input : 0;
    const output = parts ? limits.output : 0;
    const hasTools = putTools(attributes, tools, input);
    put(attributes, 'openinference.span.kind', hasTools && kind !== 'TOOL' ? 'TOOL' : kind);
    if (input > 0) {
      if (flavour !== 'langfuse_otel') putInputMessages(attributes, parts!, input);
      else if (!lf.maskInput) put(attributes, 'langfuse.observation.input', langfuseInput(parts!, body, input));
    }
    const answer = parts?.answer;
    const calls = parts?.toolCalls;
    if (output > 0 && (answer !== undefined || calls) && !(flavour === 'langfuse_otel' && lf.maskOutput)) {
      if (flavour === 'langfuse_otel') {
        // The answer as Langfuse shows it (a Responses answer as its `output` items), its tool calls and reasoning cut before they are serialised.
        const kept = calls && boundedToolCalls(calls, output);
        const shown = responses ? responsesOutput(answer, kept) : chatMessage(answer, kept, reasoning && cutText(reasoning, output));
        put(attributes, 'langfuse.observation.output', bounded(JSON.stringify(shown), output));
      }
      if (responses) putResponsesOutput(attributes, answer, calls, output);
      else {
        // A tool-call-only answer's output value is its tool calls' JSON, so the span still shows what it answered.
        const value = answer || !calls ? answer : JSON.stringify(boundedToolCalls(calls, output));
        if (value !== undefined) put(attributes, 'output.value', bounded(value, output));
        put(attributes, 'llm.output_messages.0.message.role', 'assistant');
        if (answer !== undefined) put(attributes, 'llm.output_messages.0.message.content', bounded(answer, output));
        if (calls) putOutputToolCalls(attributes, calls, output);
      }
    }
    return spanJson(call, attributes, status);
  };
}
