/**
 * LiteLLM's `openmeter` callback (OpenMeterLogger): each successful call's cost and tokens as one CloudEvent for
 * OpenMeter's usage-based billing, posted in batches to `<OPENMETER_API_ENDPOINT>/api/v1/events` as a JSON array
 * (`application/cloudevents-batch+json`, which OpenMeter's ingest takes beside LiteLLM's one-event
 * `application/cloudevents+json`) with `Authorization: Bearer <OPENMETER_API_KEY>`. An event's `id` is the call id
 * and its `source` is fixed, so OpenMeter counts a batch sent again (after a 503) once: it deduplicates on both.
 */
import { log } from '../../../../worker/telemetry/log.ts';
import type { EventSegment } from '../segment.ts';
import { isObject, type Json, payloadsOf, unreadable } from './payloads.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, type PostResult, postClassified, type TargetOptions } from './types.ts';

/** OpenMeter's cloud (LiteLLM's default). */
export const OPENMETER_DEFAULT_ENDPOINT = 'https://openmeter.cloud';
/** LiteLLM's event type when OPENMETER_EVENT_TYPE is unset: the `type` OpenMeter's meters select on. */
export const OPENMETER_DEFAULT_EVENT_TYPE = 'litellm_tokens';
/** LiteLLM's `source` of every event. */
const SOURCE = 'litellm-proxy';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const encoder = new TextEncoder();

/**
 * Who OpenMeter bills for a call, as LiteLLM picks it: the request's end user (the body's `user`, or the customer
 * header or JWT field the gateway takes for it), unless OPENMETER_TRUST_REQUEST_USER is "false" (a multi-tenant
 * proxy's clients must not choose whom they are billed as); then the key's user. None: no event (LiteLLM raises
 * "OpenMeter: user is required" and sends nothing).
 */
export function subjectOf(payload: Json, trustRequestUser: boolean): string | undefined {
  const m = isObject(payload.metadata) ? payload.metadata : {};
  return (trustRequestUser ? text(payload.end_user) : undefined) ?? text(m.user_api_key_user_id);
}

/**
 * A successful call's CloudEvent as LiteLLM builds it: the model, the cost and the token counts as `data`. `time`
 * is the call's end (LiteLLM's is the moment it logs, the same but for the queue's delay), so a retried event
 * still falls in the call's billing window.
 */
export function openmeterEvent(payload: Json, subject: string, type: string): Json {
  const end = num(payload.endTime);
  return {
    specversion: '1.0',
    type,
    id: String(payload.id ?? ''),
    time: new Date(end !== undefined ? end * 1000 : Date.now()).toISOString(),
    source: SOURCE,
    subject,
    data: {
      model: payload.model ?? null,
      cost: payload.response_cost ?? null,
      prompt_tokens: num(payload.prompt_tokens) ?? 0,
      completion_tokens: num(payload.completion_tokens) ?? 0,
      total_tokens: num(payload.total_tokens) ?? 0,
    },
  };
}

interface OpenMeterTarget { url: string; headers: Record<string, string>; type: string; trustRequestUser: boolean }

/** The events URL, key, event type and subject rule, or why there is none. */
function openmeterTarget(env: LoggerEnv): OpenMeterTarget | { error: string } {
  const apiKey = envText(env, 'OPENMETER_API_KEY');
  if (!apiKey) return { error: 'OPENMETER_API_KEY is not set for the admin Worker' };
  const base = httpUrl(envText(env, 'OPENMETER_API_ENDPOINT') ?? OPENMETER_DEFAULT_ENDPOINT, 'OPENMETER_API_ENDPOINT');
  if ('error' in base) return base;
  return {
    // As LiteLLM: the events path appended to the endpoint, whatever path it has.
    url: `${base.toString().replace(/\/+$/, '')}/api/v1/events`,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/cloudevents-batch+json' },
    type: envText(env, 'OPENMETER_EVENT_TYPE') ?? OPENMETER_DEFAULT_EVENT_TYPE,
    trustRequestUser: envText(env, 'OPENMETER_TRUST_REQUEST_USER')?.toLowerCase() !== 'false',
  };
}

/** The segments' successful payloads as events, and the ids of the calls with no subject (left out). */
function eventsOf(segments: readonly EventSegment[], target: OpenMeterTarget): { events: Json[]; unbilled: string[] } {
  const events: Json[] = [];
  const unbilled: string[] = [];
  for (const payload of payloadsOf(segments)) {
    // A failed call is not metered, as in LiteLLM (the gateway queues none; an older message might hold one).
    if (payload.status === 'failure') continue;
    const subject = subjectOf(payload, target.trustRequestUser);
    if (subject === undefined) unbilled.push(String(payload.id ?? ''));
    else events.push(openmeterEvent(payload, subject, target.type));
  }
  return { events, unbilled };
}

export const openmeterPoster: LoggerPoster = {
  // Events are a few hundred bytes each; the payloads they are made from are what these limits measure.
  maxPayloads: 100,
  maxBytes: 4 * 1024 * 1024,
  target(env: LoggerEnv, options?: TargetOptions) {
    const target = openmeterTarget(env);
    if ('error' in target) return target;
    return {
      where: new URL(target.url).origin,
      post: async (segments): Promise<PostResult> => {
        let batch: ReturnType<typeof eventsOf>;
        try {
          batch = eventsOf(segments, target);
        } catch (err) {
          return unreadable(err);
        }
        // /health/services must not call a test payload sent when nothing was: its end user is not billed when
        // OPENMETER_TRUST_REQUEST_USER is "false", and it has no key user.
        if (options?.unsampled && batch.unbilled.length && !batch.events.length) {
          return { ok: false, retry: false, reason: 'the test payload has no subject to bill: with OPENMETER_TRUST_REQUEST_USER "false" only a key\'s user is, and it has none' };
        }
        if (batch.events.length) {
          const result = await postClassified(target.url, { headers: target.headers, body: encoder.encode(JSON.stringify(batch.events)) }, (s) => s >= 200 && s < 300);
          if (!result.ok) return result;
        }
        if (!batch.unbilled.length) return { ok: true };
        // No retry gives these a subject: dropped, as LiteLLM drops them, and counted as the callback's failure.
        log.error(`openmeter callback: the payloads of calls ${batch.unbilled.join(', ')} dropped: no end user (the request's \`user\`${target.trustRequestUser ? '' : ', not trusted with OPENMETER_TRUST_REQUEST_USER "false"'}) or key user to bill`);
        return { ok: true, dropped: `${batch.unbilled.length} payloads without a user to bill dropped (OpenMeter needs a subject)` };
      },
    };
  },
};
