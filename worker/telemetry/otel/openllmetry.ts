/**
 * The spans of LiteLLM's `traceloop` and `langtrace` callbacks, in OTLP's JSON encoding:
 * - `traceloop`: OpenLLMetry's attributes, as LiteLLM's TraceloopLogger sets them (a `litellm.completion` client
 *   span): `gen_ai.request.model`, `gen_ai.prompt.N.role|content`, `gen_ai.completion.N.role|content`, the answer's
 *   tool calls as `gen_ai.completion.0.tool_calls.N.id|name|arguments`,
 *   `gen_ai.usage.prompt_tokens|completion_tokens`, `llm.usage.total_tokens`, `llm.user`, the request's parameters.
 * - `langtrace`: LiteLLM's LangtraceAttributes: `gen_ai.operation.name`, `langtrace.service.name` (the provider),
 *   the same `gen_ai.*` / `llm.*` names, and the prompt and completion as JSON in the span events
 *   `gen_ai.content.prompt` (`gen_ai.prompt`) and `gen_ai.content.completion` (`gen_ai.completion`).
 * Both also carry the call's cost (`gen_ai.cost.total_cost`, as the `otel` span) and its id (`gen_ai.response.id`).
 * The prompt (its newest 256 messages at most, within one budget, each charged its role, text and an overhead) and
 * the answer have limits of their own (fit.ts lowers the prompt's to nothing before the answer's until the span
 * fits a Queue message), and are left out when message logging is off for the call; a null content has no text.
 * Every other request-derived attribute is bounded too (the first 4 stop sequences of 256 characters, names of
 * 256), so no request makes a span that fits no message at any content limit.
 */
import type { AnswerToolCall } from '../../providers/types.ts';
import { boundedToolCalls, toolCallsOf } from '../answer-tool-calls.ts';
import { type ContentLimits, contentText, newestWindow, omittedMarker } from './openinference-content.ts';
import { type Attribute, bounded, nanos, put, putDouble, type SpanCall, spanJson, spanLoggingOff, type SpanOptions, type SpanShape, spanStatus } from './spans.ts';

/** OTLP's client span kind: LiteLLM's Traceloop span is one (the call to the model, seen from the proxy). */
const SPAN_KIND_CLIENT = 3;

/** OpenLLMetry's `llm.request.type` values for the endpoints that have one. */
const REQUEST_TYPES: Record<string, string> = { chat: 'chat', completion: 'completion', embedding: 'embedding', rerank: 'rerank' };

/** At most this many of the newest prompt messages are looked at: a body of many tiny messages costs no more than this. */
export const MAX_PROMPT_MESSAGES = 256;
/** A role is cut to this many characters (a role is a short word; a long one is no place for the prompt to hide). */
const ROLE_CHARS = 64;
/** What each prompt message costs against the prompt's budget besides its role and text (its two attribute keys), so empty ones are not free. */
const MESSAGE_OVERHEAD = 64;

/** At most this many stop sequences are shown, each cut to STOP_CHARS (as OpenInference's span bounds its parameters). */
export const MAX_STOP_SEQUENCES = 4;
const STOP_CHARS = 256;
/** A name the request may set (a model through a wildcard route, the end user) is cut to this many characters. */
const NAME_CHARS = 256;

/** The request's `stop` (a string or a list of them) as the span shows it: the first few, each bounded; a huge list is not walked. */
function stopSequences(stop: unknown): string[] | undefined {
  const list = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop : undefined;
  if (!list) return undefined;
  const out: string[] = [];
  for (let i = 0; i < list.length && out.length < MAX_STOP_SEQUENCES; i++) {
    const s: unknown = list[i];
    if (typeof s === 'string') out.push(bounded(s, STOP_CHARS));
  }
  return out.length ? out : undefined;
}

/** A request-derived name cut to NAME_CHARS (anything else passed through). */
const short = (v: unknown): unknown => (typeof v === 'string' ? v.slice(0, NAME_CHARS) : v);

/** A prompt message as the spans show it: its role (cut) and its content's text (none for a null content). */
interface PromptMessage { role: string; text?: string }

/** The newest messages of the request's prompt (`messages`, else a `prompt` or `input` as one user message), and how many older ones were not looked at. */
function promptMessages(body: Record<string, unknown>): { messages: PromptMessage[]; skipped: number } {
  if (Array.isArray(body.messages)) {
    const skipped = Math.max(0, body.messages.length - MAX_PROMPT_MESSAGES);
    const messages = body.messages.slice(skipped).map((m): PromptMessage => {
      const record: Record<string, unknown> = m && typeof m === 'object' ? (m as Record<string, unknown>) : { content: m };
      return { role: String(record.role ?? 'user').slice(0, ROLE_CHARS), text: contentText(record.content) };
    });
    return { messages, skipped };
  }
  const text = contentText(body.prompt ?? body.input);
  return { messages: text === undefined ? [] : [{ role: 'user', text }], skipped: 0 };
}

/**
 * The prompt's newest messages within `limit` characters together (each charged its role, its text and an
 * overhead), the oldest kept one cut to fit, after a `system` marker saying how many earlier ones were left out.
 */
function promptWithin(prompt: { messages: PromptMessage[]; skipped: number }, limit: number): PromptMessage[] {
  const { messages, skipped } = prompt;
  const { first, cut } = newestWindow(messages.map((m) => m.role.length + (m.text?.length ?? 0)), limit, MESSAGE_OVERHEAD);
  const kept = messages.slice(first).map((m, i) => (i === 0 && cut !== undefined && m.text !== undefined ? { ...m, text: bounded(m.text, cut) } : m));
  return first + skipped > 0 ? [{ role: 'system', text: omittedMarker(first + skipped) }, ...kept] : kept;
}

/** The request's parameters under OpenLLMetry's names (LiteLLM's SpanAttributes). */
function putParameters(attributes: Attribute[], body: Record<string, unknown>, loggingOff: boolean): void {
  put(attributes, 'gen_ai.request.max_tokens', typeof body.max_tokens === 'number' ? body.max_tokens : body.max_completion_tokens);
  putDouble(attributes, 'gen_ai.request.temperature', body.temperature);
  putDouble(attributes, 'gen_ai.request.top_p', body.top_p);
  put(attributes, 'llm.top_k', typeof body.top_k === 'number' ? body.top_k : undefined);
  putDouble(attributes, 'llm.frequency_penalty', body.frequency_penalty);
  putDouble(attributes, 'llm.presence_penalty', body.presence_penalty);
  put(attributes, 'llm.user', typeof body.user === 'string' ? short(body.user) : undefined);
  // A stop sequence may quote the prompt: withheld with it.
  if (!loggingOff) put(attributes, 'llm.chat.stop_sequences', stopSequences(body.stop));
}

/** What both vendors' spans share: the model, the usage, the cost and the call's id. */
function commonAttributes(call: SpanCall, attributes: Attribute[]): void {
  const { record } = call;
  put(attributes, 'gen_ai.system', short(record.custom_llm_provider || 'Unknown'));
  put(attributes, 'gen_ai.request.model', short(record.model_group));
  put(attributes, 'gen_ai.response.model', short(record.model));
  put(attributes, 'gen_ai.response.id', short(record.request_id));
  put(attributes, 'llm.request.type', REQUEST_TYPES[call.endpoint] ?? record.call_type);
  put(attributes, 'llm.is_streaming', call.stream);
  put(attributes, 'gen_ai.usage.prompt_tokens', record.prompt_tokens);
  put(attributes, 'gen_ai.usage.completion_tokens', record.completion_tokens);
  put(attributes, 'llm.usage.total_tokens', record.total_tokens);
  putDouble(attributes, 'gen_ai.cost.total_cost', record.spend);
}

/** The answer, when the call has one to show. */
const answerOf = (call: SpanCall): string | undefined => (call.error ? undefined : call.outcome?.responseText);
/** The answer's tool calls, when the call has any to show. */
const toolCallsShown = (call: SpanCall): readonly AnswerToolCall[] | undefined => (call.error ? undefined : toolCallsOf(call.outcome));

/**
 * A `traceloop` span (OpenLLMetry's attributes) at given limits: the prompt's newest messages within
 * `limits.input` together, the answer within `limits.output`, so fitting the span to a message lowers the
 * prompt to nothing before the answer (fit.ts INFERENCE_LIMITS). The prompt is read from the call once.
 */
export function traceloopSpanBuilder(call: SpanCall, options: Omit<SpanOptions, 'contentChars'>): (limits: ContentLimits) => string {
  const loggingOff = spanLoggingOff(call, options);
  const prompt = loggingOff ? { messages: [], skipped: 0 } : promptMessages(call.body);
  const answer = answerOf(call);
  const calls = toolCallsShown(call);
  return (limits) => {
    const attributes: Attribute[] = [];
    commonAttributes(call, attributes);
    putParameters(attributes, call.body, loggingOff);
    const status = spanStatus(call, options, loggingOff, attributes);
    if (!loggingOff) {
      if (limits.input > 0) {
        promptWithin(prompt, limits.input).forEach((message, i) => {
          put(attributes, `gen_ai.prompt.${i}.role`, message.role);
          if (message.text !== undefined) put(attributes, `gen_ai.prompt.${i}.content`, message.text);
        });
      }
      if ((answer !== undefined || calls) && limits.output > 0) {
        put(attributes, 'gen_ai.completion.0.role', 'assistant');
        if (answer !== undefined) put(attributes, 'gen_ai.completion.0.content', bounded(answer, limits.output));
        // OpenLLMetry's names for the answer's tool calls, within the answer's limit together.
        if (calls) {
          boundedToolCalls(calls, limits.output).forEach((c, i) => {
            put(attributes, `gen_ai.completion.0.tool_calls.${i}.id`, c.id);
            put(attributes, `gen_ai.completion.0.tool_calls.${i}.name`, c.function.name);
            put(attributes, `gen_ai.completion.0.tool_calls.${i}.arguments`, c.function.arguments);
          });
        }
      }
    }
    return spanJson(call, attributes, status, { name: 'litellm.completion', kind: SPAN_KIND_CLIENT });
  };
}

/** A `traceloop` span with the prompt and the answer cut to `contentChars` each. */
export const traceloopSpan = (call: SpanCall, options: SpanOptions): string => traceloopSpanBuilder(call, options)({ input: options.contentChars, output: options.contentChars });

/**
 * A `langtrace` span (LiteLLM's LangtraceAttributes) at given limits: the prompt's newest messages within
 * `limits.input` as the JSON of its prompt event, the answer within `limits.output` in its completion event.
 */
export function langtraceSpanBuilder(call: SpanCall, options: Omit<SpanOptions, 'contentChars'>): (limits: ContentLimits) => string {
  const loggingOff = spanLoggingOff(call, options);
  const prompt = loggingOff ? { messages: [], skipped: 0 } : promptMessages(call.body);
  const answer = answerOf(call);
  const calls = toolCallsShown(call);
  return (limits) => {
    const attributes: Attribute[] = [];
    put(attributes, 'gen_ai.operation.name', 'chat');
    put(attributes, 'langtrace.service.name', short(call.record.custom_llm_provider));
    commonAttributes(call, attributes);
    putParameters(attributes, call.body, loggingOff);
    const status = spanStatus(call, options, loggingOff, attributes);
    const events: NonNullable<SpanShape['events']> = [];
    if (!loggingOff) {
      const kept = limits.input > 0 ? promptWithin(prompt, limits.input) : [];
      if (kept.length) {
        const json = JSON.stringify(kept.map((m) => (m.text === undefined ? { role: m.role } : { role: m.role, content: m.text })));
        events.push({ timeUnixNano: nanos(call.record.startTime), name: 'gen_ai.content.prompt', attributes: [{ key: 'gen_ai.prompt', value: { stringValue: bounded(json, limits.input + kept.length * MESSAGE_OVERHEAD) } }] });
      }
      if ((answer !== undefined || calls) && limits.output > 0) {
        const message = { role: 'assistant', content: answer === undefined ? null : bounded(answer, limits.output), ...(calls ? { tool_calls: boundedToolCalls(calls, limits.output) } : {}) };
        const completion = JSON.stringify([message]);
        events.push({ timeUnixNano: nanos(call.record.endTime), name: 'gen_ai.content.completion', attributes: [{ key: 'gen_ai.completion', value: { stringValue: completion } }] });
      }
    }
    return spanJson(call, attributes, status, { events });
  };
}

/** A `langtrace` span with the prompt and the answer cut to `contentChars` each. */
export const langtraceSpan = (call: SpanCall, options: SpanOptions): string => langtraceSpanBuilder(call, options)({ input: options.contentChars, output: options.contentChars });
