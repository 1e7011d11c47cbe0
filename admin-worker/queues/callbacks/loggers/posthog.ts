/**
 * LiteLLM's `posthog` callback (PostHogLogger): each call, success or failure, as a PostHog LLM-analytics event
 * (`$ai_generation`, `$ai_embedding` for an embedding), posted in batches to `<POSTHOG_API_URL>/batch/` as
 * `{api_key: <POSTHOG_API_KEY>, batch: [...]}`: PostHog's capture API takes the project API key in the body, with
 * no auth header. POSTHOG_API_URL defaults to LiteLLM's `https://us.i.posthog.com`.
 */
import { REDACTED_INPUT } from '../../../../worker/telemetry/langfuse/redaction.ts';
import { KEPT_KEYS } from '../../../../worker/telemetry/standard/requester-ids.ts';
import type { EventSegment } from '../segment.ts';
import { baseOf } from './base-url.ts';
import { clientMetadata, isObject, type Json, payloadsOf, unreadable } from './payloads.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, type PostResult, postClassified } from './types.ts';

/** PostHog's US cloud ingestion host, LiteLLM's default (its docs still say app.posthog.com, which redirects). */
export const POSTHOG_DEFAULT_URL = 'https://us.i.posthog.com';

const encoder = new TextEncoder();

/**
 * Request metadata keys LiteLLM keeps out of an event's properties: the proxy's own plumbing and attribution,
 * and `user_id` (the event's distinct_id) and the parent ids (its `$ai_parent_id`).
 */
const INTERNAL_METADATA = new Set([
  'endpoint', 'caching_groups', 'user_api_key_hash', 'user_api_key_alias', 'user_api_key_team_id', 'user_api_key_user_id',
  'user_api_key_org_id', 'user_api_key_team_alias', 'user_api_key_end_user_id', 'user_api_key_user_email', 'user_api_key',
  'user_api_end_user_max_budget', 'litellm_api_version', 'global_max_parallel_requests', 'user_api_key_team_max_budget',
  'user_api_key_team_spend', 'user_api_key_spend', 'user_api_key_max_budget', 'user_api_key_model_max_budget',
  'user_api_key_metadata', 'headers', 'litellm_parent_otel_span', 'requester_ip_address', 'model_group', 'model_group_size',
  'deployment', 'model_info', 'api_base', 'hidden_params', 'parent_run_id', 'parent_id', 'user_id',
]);

/**
 * The `$` keys a client's metadata may set: the LLM-analytics properties PostHog's docs leave to the caller
 * (`$ai_session_id` groups traces, `$ai_span_name` names the generation). Every other `$` key is either one the
 * gateway measures (`$ai_is_error`, `$ai_http_status`, `$ai_output_tokens`, ...) or PostHog's own: `$set` and
 * `$set_once` rewrite the profile of the person the event counts for (a client picks it with `user_id`), `$groups`,
 * `$process_person_profile`, `$ip` change how PostHog files the event. LiteLLM passes them all.
 */
const CLIENT_DOLLAR_KEYS = new Set(['$ai_session_id', '$ai_span_name']);

/**
 * The keys the gateway keeps of a client's metadata it cuts (requester-ids.ts: other loggers' identifiers, PostHog's,
 * Opik's object): a payload with room for no metadata at all (message logging off for posthog) carries these alone.
 */
const KEPT_THROUGH_CUT = new Set<string>([...KEPT_KEYS, 'opik']);
const REDACTED_MESSAGES = JSON.stringify(REDACTED_INPUT.messages);

/** The call types LiteLLM logs as `$ai_embedding` (the proxy's async name too: LiteLLM's check misses it). */
const EMBEDDING_CALLS = new Set(['embedding', 'aembedding']);

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/**
 * The client's request metadata as a payload carries it, without a cut's marker, and whether it was cut: marked
 * cut for size, or left out for message logging off (or a payload too large for any), which leaves only the keys
 * kept through a cut beside messages that are none or redacted.
 */
function posthogClientMetadata(payload: Json): { keys: Json; cut: boolean } {
  const client = clientMetadata(payload);
  if (client.cut) return client;
  const noMessages = payload.messages === null || payload.messages === undefined || JSON.stringify(payload.messages) === REDACTED_MESSAGES;
  return { keys: client.keys, cut: noMessages && Object.keys(client.keys).every((k) => KEPT_THROUGH_CUT.has(k)) };
}

/**
 * Who PostHog counts the event for, as LiteLLM picks: the request metadata's `user_id`, else the call's end user,
 * else its trace id (LiteLLM's last resort, a random id, is the call id here, so a retry counts the same person).
 */
export function distinctIdOf(payload: Json): string {
  return text(posthogClientMetadata(payload).keys.user_id) ?? text(payload.end_user) ?? text(payload.trace_id) ?? String(payload.id ?? '');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The event's `uuid`, PostHog's deduplication key: the call id when it is a UUID, else one made from it, so a
 * batch sent again after an answer that never came is counted once.
 */
async function eventUuid(id: string): Promise<string> {
  if (UUID.test(id)) return id.toLowerCase();
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(`posthog:${id}`)));
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = [...hash.slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A payload's PostHog event, as LiteLLM's `create_posthog_event_payload` builds one: the model and provider, the
 * messages as `$ai_input` and the response as `$ai_output_choices` (what message logging leaves of them), the token
 * counts, cost and latency, `$ai_is_error`, `$ai_error` and `$ai_http_status` for a failure, the trace, span and
 * parent ids, and the client's own metadata keys beside them, but those starting with `$` other than
 * CLIENT_DOLLAR_KEYS: one caller's metadata cannot forge what an operator's dashboards sum or rewrite a person.
 * Of a cut metadata only `user_id` (the distinct_id), `parent_id` (the parent) and CLIENT_DOLLAR_KEYS are read:
 * the other ids kept through the cut are there for LangSmith, Braintrust and Opik, not for PostHog's properties.
 */
export async function posthogEvent(payload: Json): Promise<Json> {
  const event = EMBEDDING_CALLS.has(String(payload.call_type)) ? '$ai_embedding' : '$ai_generation';
  const { keys: client, cut } = posthogClientMetadata(payload);
  const properties: Json = {
    $ai_model: payload.model ?? '',
    $ai_provider: payload.custom_llm_provider ?? '',
  };
  if (payload.messages !== null && payload.messages !== undefined) properties.$ai_input = payload.messages;
  if (event === '$ai_generation' && payload.response !== null && payload.response !== undefined) properties.$ai_output_choices = payload.response;
  properties.$ai_input_tokens = num(payload.prompt_tokens, 0);
  if (event === '$ai_generation') properties.$ai_output_tokens = num(payload.completion_tokens, 0);
  if (payload.response_cost !== null && payload.response_cost !== undefined) properties.$ai_total_cost_usd = payload.response_cost;
  properties.$ai_latency = num(payload.response_time, 0);
  if (payload.status === 'failure') {
    properties.$ai_is_error = true;
    if (typeof payload.error_str === 'string') properties.$ai_error = payload.error_str;
    const status = Number(isObject(payload.error_information) ? payload.error_information.error_code : undefined);
    if (Number.isInteger(status) && status >= 100 && status <= 599) properties.$ai_http_status = status;
  }
  const id = String(payload.id ?? '');
  properties.$ai_trace_id = text(payload.trace_id) ?? id;
  properties.$ai_span_id = id;
  const parent = (cut ? undefined : text(client.parent_run_id)) ?? text(client.parent_id);
  if (parent) properties.$ai_parent_id = parent;
  for (const [k, v] of Object.entries(client)) {
    if (CLIENT_DOLLAR_KEYS.has(k) || (!cut && !INTERNAL_METADATA.has(k) && !k.startsWith('$'))) properties[k] = v;
  }
  const end = num(payload.endTime, NaN);
  return {
    event,
    distinct_id: distinctIdOf(payload),
    properties,
    uuid: await eventUuid(id),
    // When the call ended, not when the Queue delivered it (LiteLLM sends none: PostHog stamps its arrival).
    ...(Number.isFinite(end) ? { timestamp: new Date(end * 1000).toISOString() } : {}),
  };
}

interface PosthogTarget { url: string; apiKey: string }

/** The batch URL and project API key, or why there is none. */
function posthogTarget(env: LoggerEnv): PosthogTarget | { error: string } {
  const apiKey = envText(env, 'POSTHOG_API_KEY');
  if (!apiKey) return { error: 'POSTHOG_API_KEY is not set for the admin Worker' };
  const base = httpUrl(envText(env, 'POSTHOG_API_URL') ?? POSTHOG_DEFAULT_URL, 'POSTHOG_API_URL');
  if ('error' in base) return base;
  const url = posthogBatchUrl(base);
  return url ? { url, apiKey } : { error: 'POSTHOG_API_URL is not an http(s) URL without credentials' };
}

/**
 * LiteLLM's `<url>/batch/`, of the URL's base (base-url.ts: origin and path alone, as the environment's key is
 * compared), or undefined for a URL that has none.
 */
export const posthogBatchUrl = (url: string | URL): string | undefined => {
  const base = baseOf(url);
  return base === undefined ? undefined : `${base}/batch/`;
};

/** The segments' payloads as PostHog events, in order. */
async function eventsOf(segments: readonly EventSegment[]): Promise<Json[]> {
  const events: Json[] = [];
  for (const payload of payloadsOf(segments)) events.push(await posthogEvent(payload));
  return events;
}

export const posthogPoster: LoggerPoster = {
  // LiteLLM's POSTHOG_MAX_BATCH_SIZE; PostHog takes batches far larger than 4 MB.
  maxPayloads: 100,
  maxBytes: 4 * 1024 * 1024,
  target(env: LoggerEnv) {
    const target = posthogTarget(env);
    if ('error' in target) return target;
    return {
      where: new URL(target.url).origin,
      post: async (segments): Promise<PostResult> => {
        let batch: Json[];
        try {
          batch = await eventsOf(segments);
        } catch (err) {
          return unreadable(err);
        }
        const body = encoder.encode(JSON.stringify({ api_key: target.apiKey, batch }));
        return postClassified(target.url, { headers: { 'content-type': 'application/json' }, body }, (s) => s >= 200 && s < 300);
      },
    };
  },
};
