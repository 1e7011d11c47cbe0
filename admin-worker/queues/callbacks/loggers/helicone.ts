/**
 * LiteLLM's `helicone` callback (HeliconeLogger): each successful call's StandardLoggingPayload as one request to
 * Helicone's async log API, `<HELICONE_API_BASE>/oai/v1/log` (`/anthropic/v1/log` for a claude model), with
 * `Authorization: Bearer <HELICONE_API_KEY>`. The body is what LiteLLM fills: `providerRequest` ({url, json:
 * {model, messages}, meta}), `providerResponse` ({json, headers, status: 200}) and `timing` (start and end as whole
 * seconds and milliseconds). Helicone takes one call a request, so a batch is posted payload by payload. Helicone
 * may answer 200 with `{"error": ...}` when it did not log the call (a key it refused, a rate limit): that is retried.
 */
import type { EventSegment } from '../segment.ts';
import { clientMetadata, isObject, type Json } from './payloads.ts';
import { responsesChoice } from './responses-answer.ts';
import { ANSWER_CAP, envText, httpUrl, type LoggerEnv, type LoggerPoster, type PostResult, postForAnswer, putEach, refusedAnswer } from './types.ts';

/** Helicone's hosted API, where LiteLLM's logger posts unless HELICONE_API_BASE says otherwise. */
const HELICONE_DEFAULT_BASE = 'https://api.hconeai.com';

/**
 * Model names Helicone prices and shows as themselves (LiteLLM's `helicone_model_list`, matched as substrings);
 * any other model is logged as `gpt-3.5-turbo`, as LiteLLM does, unless it is served by Vertex AI.
 */
const HELICONE_MODELS = ['gpt', 'claude', 'command-r', 'command-light', 'command-medium', 'command-xlarge-nightly', 'command-nightly', 'gemini'];
const FALLBACK_MODEL = 'gpt-3.5-turbo';

/** The provider URL LiteLLM names in `providerRequest.url`: Helicone reads the provider from it. */
const PROVIDER_URLS = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1/messages',
  vertex: 'https://aiplatform.googleapis.com/v1',
  gemini: 'https://generativelanguage.googleapis.com/v1beta',
};

/**
 * An HTTP header name (RFC 9110's token): Helicone makes `new Headers(meta)` of the meta, which throws (a 500,
 * retried to the dead-letter queue) on any other name.
 */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What no header value may hold: CR, LF, NUL, or a character past Latin-1 (Headers throws on them too). */
const BAD_HEADER_VALUE = /[\0\r\n\u0100-\uffff]/;

/** A call id Helicone can take as its request's id (`Helicone-Request-Id` must be a UUID). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const encoder = new TextEncoder();

/** Whole seconds and the milliseconds past them, as LiteLLM splits a time for Helicone. */
function timeOf(seconds: unknown): { seconds: number; milliseconds: number } {
  const t = typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  const whole = Math.floor(t);
  return { seconds: whole, milliseconds: Math.min(999, Math.floor((t - whole) * 1000)) };
}

/**
 * `providerRequest.meta`: the client's `Helicone-*` request metadata (LiteLLM merges the metadata in, so
 * `Helicone-User-Id`, `Helicone-Session-Id`, `Helicone-Property-*` reach Helicone as its headers; Helicone reads
 * no others), as headers Helicone can make: valid names, values as text (numbers and booleans too, objects left
 * out) that a header can hold. No `Helicone-Auth`, whoever names it: the key goes in Authorization alone. No
 * client's `Helicone-Request-Id` either (it would name another's row): the call id is the request's id, so a call
 * sent again names the same request.
 */
function metaOf(payload: Json): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [key, value] of Object.entries(clientMetadata(payload).keys)) {
    const name = key.toLowerCase();
    if (!name.startsWith('helicone-') || name === 'helicone-auth' || name === 'helicone-request-id' || !HEADER_NAME.test(key)) continue;
    const text = typeof value === 'string' ? value : (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean' ? String(value) : undefined;
    if (text !== undefined && !BAD_HEADER_VALUE.test(text)) meta[key] = text;
  }
  if (typeof payload.id === 'string' && UUID.test(payload.id)) meta['Helicone-Request-Id'] = payload.id;
  return meta;
}

/**
 * A chat completion as Anthropic's message, as LiteLLM maps a claude model's answer (tool calls as tool_use blocks);
 * a Responses answer read as its chat choice first.
 */
function anthropicMessage(response: Json, model: string, payload: Json): Json {
  const choice = responsesChoice(response) ?? (Array.isArray(response.choices) && isObject(response.choices[0]) ? response.choices[0] : {});
  const message = isObject(choice.message) ? choice.message : {};
  let content: Json[] = [];
  if (Array.isArray(message.tool_calls) && message.tool_calls.length) {
    content = message.tool_calls.filter(isObject).map((call) => {
      const fn = isObject(call.function) ? call.function : {};
      return { type: 'tool_use', id: call.id, name: fn.name, input: fn.arguments };
    });
  } else if (typeof message.content === 'string' && message.content) {
    content = [{ type: 'text', text: message.content }];
  }
  const tokens = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    id: response.id ?? payload.id, type: 'message', role: 'assistant', model, content,
    // LiteLLM's choices default to "stop" when the provider gave no reason.
    stop_reason: typeof choice.finish_reason === 'string' ? choice.finish_reason : 'stop', stop_sequence: null,
    usage: { input_tokens: tokens(payload.prompt_tokens), output_tokens: tokens(payload.completion_tokens) },
  };
}

/**
 * A payload's Helicone log request: the path under the API base and the body. The model is kept when Helicone
 * knows its family (or Vertex AI serves it), else logged as gpt-3.5-turbo; a claude model's answer is mapped to
 * Anthropic's message shape and logged at `/anthropic/v1/log`. With message logging off the payload's messages
 * and answer are already LiteLLM's redacted ones, and go as they are.
 */
export function heliconeLog(payload: Json): { path: string; body: Json } {
  const called = typeof payload.model === 'string' ? payload.model : '';
  const vertex = payload.custom_llm_provider === 'vertex_ai' || called.startsWith('vertex_ai/');
  const model = vertex || HELICONE_MODELS.some((m) => called.includes(m)) ? called : FALLBACK_MODEL;
  const claude = model.includes('claude');
  const response = payload.response;
  let json: unknown = isObject(response) ? response : typeof response === 'string' ? { text: response } : {};
  if (claude && isObject(response)) json = anthropicMessage(response, model, payload);
  const url = claude ? PROVIDER_URLS.anthropic : vertex ? PROVIDER_URLS.vertex : model.includes('gemini') ? PROVIDER_URLS.gemini : PROVIDER_URLS.openai;
  return {
    path: claude ? '/anthropic/v1/log' : '/oai/v1/log',
    body: {
      providerRequest: { url, json: { model, messages: payload.messages ?? [] }, meta: metaOf(payload) },
      providerResponse: { json, headers: { 'openai-version': '2020-10-01' }, status: 200 },
      timing: { startTime: timeOf(payload.startTime), endTime: timeOf(payload.endTime ?? payload.startTime) },
    },
  };
}

interface HeliconeTarget { base: string; headers: Record<string, string> }

/** The API base and key, or why there is none. */
function heliconeTarget(env: LoggerEnv): HeliconeTarget | { error: string } {
  const apiKey = envText(env, 'HELICONE_API_KEY');
  if (!apiKey) return { error: 'HELICONE_API_KEY is not set for the admin Worker' };
  const base = httpUrl(envText(env, 'HELICONE_API_BASE') ?? HELICONE_DEFAULT_BASE, 'HELICONE_API_BASE');
  if ('error' in base) return base;
  return { base: base.toString().replace(/\/+$/, ''), headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } };
}

/**
 * Why Helicone did not log a call it answered 2xx: its JSON answer's non-null `error` (as text, to ANSWER_CAP), or
 * undefined when it logged it. An answer past ANSWER_CAP is no such short error, and is not parsed.
 */
function heliconeAnswerError(answer: string): string | undefined {
  if (answer.length > ANSWER_CAP) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || parsed.error === null || parsed.error === undefined) return undefined;
  return (typeof parsed.error === 'string' ? parsed.error : JSON.stringify(parsed.error)).slice(0, ANSWER_CAP);
}

/** One payload's log request; a failed call is not logged (LiteLLM's logger runs on success only). */
async function postPayload(target: HeliconeTarget, payload: unknown): Promise<PostResult> {
  if (!isObject(payload) || payload.status === 'failure') return { ok: true };
  const { path, body } = heliconeLog(payload);
  const answered = await postForAnswer(`${target.base}${path}`, { headers: target.headers, body: encoder.encode(JSON.stringify(body)) });
  if ('ok' in answered) return answered;
  if (answered.status < 200 || answered.status >= 300) return refusedAnswer(answered);
  const error = heliconeAnswerError(answered.answer);
  // Not logged, whatever the status says: Helicone's settings or limits are at fault, not the call.
  return error === undefined ? { ok: true } : { ok: false, retry: true, reason: `HTTP ${answered.status} with an error, not logged: ${error}` };
}

export const heliconePoster: LoggerPoster = {
  // Helicone's log API takes one call a request: one payload each, so a retry repeats only the one not taken.
  maxPayloads: 1,
  maxBytes: 5 * 1024 * 1024,
  target(env: LoggerEnv) {
    const target = heliconeTarget(env);
    if ('error' in target) return target;
    return {
      where: new URL(target.base).origin,
      post: (segments: readonly EventSegment[]) => putEach(segments, (payload) => postPayload(target, payload)),
    };
  },
};
