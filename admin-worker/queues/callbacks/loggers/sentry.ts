/**
 * LiteLLM's `sentry` failure callback (sentry_sdk's capture_exception): each failed call as one Sentry error
 * event, posted as an envelope to the project SENTRY_DSN names (`https://<public key>@<host>/<project id>` →
 * `POST https://<host>/api/<project id>/envelope/`, `X-Sentry-Auth: Sentry sentry_version=7, sentry_key=...`).
 * The event holds the exception (LiteLLM's class and message), the model, the call id and the key's and team's
 * aliases as tags; never the prompt, the answer or a credential. Who made the call (key hash, user id, end user)
 * is sent only with SENTRY_SEND_DEFAULT_PII=true, as LiteLLM starts sentry_sdk with send_default_pii off. SENTRY_API_SAMPLE_RATE keeps that share of
 * failures (sentry_sdk's `sample_rate`), SENTRY_ENVIRONMENT names the environment (default "production", as
 * sentry_sdk's). Successes are sent nothing: LiteLLM only leaves them as breadcrumbs in its own process.
 */
import type { EventSegment } from '../segment.ts';
import { isObject, type Json } from './payloads.ts';
import { envText, type LoggerEnv, type LoggerPoster, type PostResult, postClassified, putEach, type TargetOptions } from './types.ts';

const encoder = new TextEncoder();

/** The client name the envelopes carry (in X-Sentry-Auth and the event's sdk). */
export const SENTRY_CLIENT = 'tollgate/1.0';

/** A DSN's parts: the envelope URL and the public key; or why it is none. */
export function parseDsn(dsn: string): { url: string; publicKey: string } | { error: string } {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    return { error: 'SENTRY_DSN is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: 'SENTRY_DSN is not an http(s) URL' };
  const parts = url.pathname.split('/').filter(Boolean);
  const project = parts.pop();
  if (!url.username || !project || !/^\d+$/.test(project)) return { error: 'SENTRY_DSN is not a DSN (https://<public key>@<host>/<project id>)' };
  const prefix = parts.length ? `/${parts.join('/')}` : '';
  return { url: `${url.protocol}//${url.host}${prefix}/api/${project}/envelope/`, publicKey: decodeURIComponent(url.username) };
}

/** FNV-1a, for the event id: the same call always makes the same id, so Sentry keeps one event across retries. */
function eventIdOf(callId: string): string {
  let out = '';
  for (let seed = 0; seed < 4; seed++) {
    let h = (0x811c9dc5 ^ seed) >>> 0;
    for (let i = 0; i < callId.length; i++) h = Math.imul(h ^ callId.charCodeAt(i), 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/**
 * A failed call's Sentry event: the exception (LiteLLM's error class and message), level error, tags to search by
 * (model, model group, provider, call type, status code, key alias, team alias) and the call's ids as extra; the
 * key's hash, its user and the end user only when `sendPii` (SENTRY_SEND_DEFAULT_PII) opts in.
 */
export function sentryEvent(payload: Json, environment: string, sendPii = false): Json {
  const m = isObject(payload.metadata) ? payload.metadata : {};
  const info = isObject(payload.error_information) ? payload.error_information : {};
  const failed = payload.status === 'failure';
  const type = text(info.error_class) ?? (failed ? 'Exception' : undefined);
  const value = text(info.error_message) ?? text(payload.error_str) ?? '';
  const tags: Record<string, string> = {};
  const tag = (name: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') tags[name] = String(v).slice(0, 200);
  };
  tag('model', payload.model);
  tag('model_group', payload.model_group);
  tag('llm_provider', info.llm_provider ?? payload.custom_llm_provider);
  tag('call_type', payload.call_type);
  tag('status_code', info.error_code);
  tag('user_api_key_alias', m.user_api_key_alias);
  tag('user_api_key_team_alias', m.user_api_key_team_alias);
  const extra: Json = {
    litellm_call_id: payload.id ?? null, trace_id: payload.trace_id ?? null, user_api_key_team_id: m.user_api_key_team_id ?? null,
    user_api_key_org_id: m.user_api_key_org_id ?? null, api_base: payload.api_base ?? null,
  };
  if (sendPii) Object.assign(extra, { user_api_key_hash: m.user_api_key_hash ?? null, user_api_key_user_id: m.user_api_key_user_id ?? null, end_user: m.user_api_key_end_user_id ?? null });
  const end = typeof payload.endTime === 'number' && Number.isFinite(payload.endTime) ? payload.endTime : Date.now() / 1000;
  return {
    event_id: eventIdOf(String(payload.id ?? '')), timestamp: end, platform: 'other', level: failed ? 'error' : 'info', logger: 'litellm',
    environment, sdk: { name: SENTRY_CLIENT.split('/')[0], version: SENTRY_CLIENT.split('/')[1] }, tags, extra,
    ...(type ? { exception: { values: [{ type, value, module: 'litellm' }] } } : { message: { formatted: `litellm call ${String(payload.id ?? '')}` } }),
  };
}

interface SentryTarget { url: string; headers: Record<string, string>; environment: string; sampleRate: number; sendPii: boolean }

/** The envelope URL, auth header, environment and sample rate, or why there is none. */
function sentryTarget(env: LoggerEnv): SentryTarget | { error: string } {
  const dsn = envText(env, 'SENTRY_DSN');
  if (!dsn) return { error: 'SENTRY_DSN is not set for the admin Worker' };
  const parsed = parseDsn(dsn);
  if ('error' in parsed) return parsed;
  const rateText = envText(env, 'SENTRY_API_SAMPLE_RATE');
  const rate = rateText === undefined ? 1 : Number(rateText);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) return { error: 'SENTRY_API_SAMPLE_RATE is not a number from 0 to 1' };
  return {
    url: parsed.url, environment: envText(env, 'SENTRY_ENVIRONMENT') ?? 'production', sampleRate: rate,
    sendPii: envText(env, 'SENTRY_SEND_DEFAULT_PII')?.toLowerCase() === 'true',
    headers: { 'content-type': 'application/x-sentry-envelope', 'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${parsed.publicKey}, sentry_client=${SENTRY_CLIENT}` },
  };
}

/**
 * Whether an event is kept at a sample rate: decided by its event id (a hash of the call id), not a fresh roll, so
 * a call picked once stays picked when its post is retried after a refusal.
 */
export function sentrySampled(eventId: string, rate: number): boolean {
  if (rate >= 1) return true;
  return parseInt(eventId.slice(-8), 16) / 0x1_0000_0000 < rate;
}

export const sentryPoster: LoggerPoster = {
  // An envelope carries one event (Sentry's rule), so one payload a request.
  maxPayloads: 1,
  maxBytes: 1024 * 1024,
  target(env: LoggerEnv, options?: TargetOptions) {
    const target = sentryTarget(env);
    if ('error' in target) return target;
    const sampled = options?.unsampled ? 1 : target.sampleRate;
    return {
      where: new URL(target.url).origin,
      post: async (segments: readonly EventSegment[]): Promise<PostResult> => {
        // One envelope a payload; a payload sampled out is taken as sent (its id decides, so a retry decides the same).
        return putEach(segments, async (payload) => {
          const event = sentryEvent(payload as Json, target.environment, target.sendPii);
          if (!sentrySampled(event.event_id as string, sampled)) return { ok: true };
          const envelope = `${JSON.stringify({ event_id: event.event_id, sent_at: new Date().toISOString() })}\n${JSON.stringify({ type: 'event', content_type: 'application/json' })}\n${JSON.stringify(event)}\n`;
          return postClassified(target.url, { headers: target.headers, body: encoder.encode(envelope) }, (s) => s >= 200 && s < 300);
        });
      },
    };
  },
};
