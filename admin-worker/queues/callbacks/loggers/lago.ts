/**
 * LiteLLM's `lago` callback (LagoLogger): each successful call as one Lago usage event, `{transaction_id,
 * external_subscription_id, code, timestamp, properties: {model, response_cost, prompt_tokens, completion_tokens,
 * total_tokens}}`, posted in batches of up to 100 to `<LAGO_API_BASE>/api/v1/events/batch` (`{events: [...]}`), or
 * alone to `/api/v1/events` once a batch Lago failed with a 500 is halved down to them, with `Authorization: Bearer
 * <LAGO_API_KEY>`. `code` is LAGO_API_EVENT_CODE (the billable metric's code); the customer charged is the call's
 * end user (`end_user`: the JWT's, else the body's `user`, else the `x-litellm-end-user-id` header, all but the
 * first the caller's choice), or, by LAGO_API_CHARGE_BY, its key's `user_id` or `team_id`.
 * The transaction id is the call id and the timestamp the call's end, so an event sent again is the same event to
 * Lago (refused as a duplicate by its Postgres store, deduplicated by its ClickHouse one), as LiteLLM's one event
 * a request would be; a call with no customer to charge is logged and dropped, as LiteLLM raises and sends nothing.
 */
import { log } from '../../../../worker/telemetry/log.ts';
import type { EventSegment } from '../segment.ts';
import { isObject, type Json, payloadsOf, unreadable } from './payloads.ts';
import { loggerSecrets, scrub } from './secrets.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, type PostAnswer, type PostResult, postForAnswer, refusedAnswer } from './types.ts';

/** What LAGO_API_CHARGE_BY may name (LiteLLM's values), and its default. */
export const LAGO_CHARGE_BY = ['end_user_id', 'user_id', 'team_id'] as const;
export type LagoChargeBy = (typeof LAGO_CHARGE_BY)[number];

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const encoder = new TextEncoder();

/** Call types whose answer LiteLLM's logger reads token counts from (a ModelResponse or an EmbeddingResponse). */
const COUNTED_CALLS = new Set(['acompletion', 'completion', 'aembedding', 'embedding']);

/** The customer a call is charged to, as LiteLLM picks it: the end user, the key's user or the key's team. */
export function lagoCustomer(payload: Json, chargeBy: LagoChargeBy): string | undefined {
  const m = isObject(payload.metadata) ? payload.metadata : {};
  if (chargeBy === 'user_id') return text(m.user_api_key_user_id);
  if (chargeBy === 'team_id') return text(m.user_api_key_team_id);
  return text(payload.end_user);
}

/** A payload's Lago event, or undefined when it has no customer to charge. */
export function lagoEvent(payload: Json, code: string, chargeBy: LagoChargeBy): Json | undefined {
  const customer = lagoCustomer(payload, chargeBy);
  if (customer === undefined) return undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const tokens = COUNTED_CALLS.has(String(payload.call_type))
    ? { prompt_tokens: num(payload.prompt_tokens), completion_tokens: num(payload.completion_tokens), total_tokens: num(payload.total_tokens) }
    : {};
  return {
    transaction_id: String(payload.id ?? ''),
    external_subscription_id: customer,
    code,
    // The call's time, not the delivery's: a retry keeps its billing period and its ClickHouse dedup key.
    ...(typeof payload.endTime === 'number' && Number.isFinite(payload.endTime) ? { timestamp: payload.endTime } : {}),
    properties: { model: payload.model ?? null, response_cost: payload.response_cost ?? null, ...tokens },
  };
}

interface LagoTarget { batchUrl: string; eventUrl: string; headers: Record<string, string>; code: string; chargeBy: LagoChargeBy }

/** The batch URL, key, event code and charge-by, or why there are none (LiteLLM needs the first three set). */
function lagoTarget(env: LoggerEnv): LagoTarget | { error: string } {
  const missing = ['LAGO_API_BASE', 'LAGO_API_KEY', 'LAGO_API_EVENT_CODE'].filter((name) => !envText(env, name));
  if (missing.length) return { error: `${missing.join(', ')} not set for the admin Worker` };
  const base = httpUrl(envText(env, 'LAGO_API_BASE')!, 'LAGO_API_BASE');
  if ('error' in base) return base;
  const chargeBy = envText(env, 'LAGO_API_CHARGE_BY') ?? 'end_user_id';
  if (!(LAGO_CHARGE_BY as readonly string[]).includes(chargeBy)) return { error: `LAGO_API_CHARGE_BY must be one of ${LAGO_CHARGE_BY.join(', ')}` };
  const events = `${base.toString().replace(/\/+$/, '')}/api/v1/events`;
  return {
    batchUrl: `${events}/batch`,
    eventUrl: events,
    headers: { authorization: `Bearer ${envText(env, 'LAGO_API_KEY')!}`, 'content-type': 'application/json' },
    code: envText(env, 'LAGO_API_EVENT_CODE')!,
    chargeBy: chargeBy as LagoChargeBy,
  };
}

/** A 422's `error_details`, or undefined when the answer is not Lago's JSON. */
function errorDetails(answer: string): unknown {
  try {
    const body: unknown = JSON.parse(answer);
    return isObject(body) ? body.error_details : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A 422's errors by event index (Lago's `error_details: {"<index>": {...}}` for a batch), or undefined when the
 * refusal is not per event (`{events: ["too_many_events"]}`, an answer that is not Lago's).
 */
export function perEventErrors(answer: string, events: number): Map<number, unknown> | undefined {
  const details = errorDetails(answer);
  if (!isObject(details) || !Object.keys(details).length) return undefined;
  const out = new Map<number, unknown>();
  for (const [key, value] of Object.entries(details)) {
    const index = /^\d+$/.test(key) ? Number(key) : NaN;
    if (!(index < events)) return undefined;
    out.set(index, value);
  }
  return out;
}

/** An event Lago already holds: its only error is its transaction id's (`value_already_exist`). */
const alreadyThere = (error: unknown): boolean => isObject(error) && Object.keys(error).length === 1
  && Array.isArray(error.transaction_id) && error.transaction_id.length > 0 && error.transaction_id.every((e) => e === 'value_already_exist');

/**
 * Requests one post may make to Lago. Halving a batch Lago fails with a 500 costs about 2·log2(n) requests a
 * duplicate in it, and a Worker's run may make only so many subrequests: once these are spent, the rest is retried.
 */
export const MAX_LAGO_REQUESTS = 32;

/** An event Lago refused: its call and Lago's words, whole (a secret they quote is scrubbed before they are cut). */
interface Refusal { call: string; error: string }

/**
 * One post's progress: the events Lago holds (taken) and those it refused (to log and drop), the requests left,
 * whether Lago has answered one (it is up, so one event failing stops no other), and the first such failure.
 */
interface Run { target: LagoTarget; taken: number; refused: Refusal[]; requestsLeft: number; up: boolean; failed?: PostResult }

/** An event Lago refused, or already holds (taken): counted. */
function settle(run: Run, event: Json, error: unknown): void {
  if (alreadyThere(error)) run.taken += 1;
  else run.refused.push({ call: String(event.transaction_id), error: JSON.stringify(error) });
}

/** How much of Lago's words about one refused event a log line or a report quotes. */
const REFUSAL_MAX = 200;

/** One request, charged to the post's budget; a 2xx or a 422 says Lago is up. */
async function send(run: Run, url: string, body: unknown): Promise<PostAnswer | PostResult> {
  if (run.requestsLeft === 0) return { ok: false, retry: true, reason: `this post's ${MAX_LAGO_REQUESTS} requests to Lago are spent` };
  run.requestsLeft -= 1;
  const answered = await postForAnswer(url, { headers: run.target.headers, body: encoder.encode(JSON.stringify(body)) });
  if (!('ok' in answered) && ((answered.status >= 200 && answered.status < 300) || answered.status === 422)) run.up = true;
  return answered;
}

/**
 * A failure of some events: it ends the post while Lago has answered nothing (it may be down for all) or the
 * requests are spent; otherwise it is noted and the other events still sent, the post answering it at the end
 * (the events stored meanwhile settle as duplicates when the chunk is sent again).
 */
function fail(run: Run, result: PostResult): PostResult | undefined {
  if (!run.up || run.requestsLeft === 0) return result;
  run.failed ??= result;
  return undefined;
}

/**
 * Posts a group of events to the batch endpoint. A 422 naming events by index (a transaction id Lago already has,
 * after a retry of a batch whose answer was lost; an event it refuses) may have stored none of the others (one
 * transaction) or all of them (saved one by one), so the group is sent again without the named ones: those it
 * holds, now or then, count as taken, the refused ones are logged and dropped. A plain 500 is what the batch
 * endpoint answers for a duplicate in it (its insert hitting the unique index), which no retry of the batch would
 * mend: the group is halved, down to events sent alone (postAlone), so d duplicates cost about 2·d·log2(n)
 * requests. Any other status (502, 503, 504: Lago down or behind a proxy) is a failure to retry.
 */
async function postGroup(run: Run, events: Json[]): Promise<PostResult | undefined> {
  let pending = events;
  while (pending.length) {
    const answered = await send(run, run.target.batchUrl, { events: pending });
    if ('ok' in answered) return fail(run, answered);
    if (answered.status >= 200 && answered.status < 300) {
      run.taken += pending.length;
      return undefined;
    }
    if (answered.status === 500) return postHalves(run, pending);
    const errors = answered.status === 422 ? perEventErrors(answered.answer, pending.length) : undefined;
    if (!errors) return fail(run, refusedAnswer(answered));
    for (const [index, error] of errors) settle(run, pending[index]!, error);
    pending = pending.filter((_, i) => !errors.has(i));
  }
  return undefined;
}

/** The two halves of a group the batch endpoint failed with a 500, in order; an event alone goes to postAlone. */
async function postHalves(run: Run, events: Json[]): Promise<PostResult | undefined> {
  if (events.length === 1) return postAlone(run, events[0]!);
  const half = Math.ceil(events.length / 2);
  for (const part of [events.slice(0, half), events.slice(half)]) {
    const stopped = part.length === 1 ? await postAlone(run, part[0]!) : await postGroup(run, part);
    if (stopped) return stopped;
  }
  return undefined;
}

/**
 * Posts one event alone to `/api/v1/events` (`{event}`, LiteLLM's endpoint), which answers a duplicate 422
 * `value_already_exist` (its unique index caught) rather than failing: the duplicate is settled on its own.
 */
async function postAlone(run: Run, event: Json): Promise<PostResult | undefined> {
  const answered = await send(run, run.target.eventUrl, { event });
  if ('ok' in answered) return fail(run, answered);
  if (answered.status >= 200 && answered.status < 300) {
    run.taken += 1;
    return undefined;
  }
  const error = answered.status === 422 ? errorDetails(answered.answer) : undefined;
  if (isObject(error)) {
    settle(run, event, error);
    return undefined;
  }
  return fail(run, refusedAnswer(answered));
}

/**
 * Posts the events (postGroup) within MAX_LAGO_REQUESTS. Refused events alone, nothing taken, are the request's
 * refusal, for the dispatcher to split; refused events beside taken ones are logged and dropped (the dispatcher
 * counts a failure).
 */
async function postEvents(target: LagoTarget, events: Json[], env: LoggerEnv): Promise<PostResult> {
  const run: Run = { target, taken: 0, refused: [], requestsLeft: MAX_LAGO_REQUESTS, up: false };
  const failed = (await postGroup(run, events)) ?? run.failed;
  if (failed) return failed;
  if (!run.refused.length) return { ok: true };
  // Every logger's secret out of Lago's words, whole, then cut: cut first, a secret's start would stay, which the
  // dispatcher's scrub of these reasons cannot tell from words.
  const secrets = loggerSecrets(env);
  const lines = run.refused.map(({ call, error }) => `call ${call}: ${scrub(error, secrets).slice(0, REFUSAL_MAX)}`);
  if (!run.taken) return { ok: false, retry: false, reason: `HTTP 422: Lago refused the events: ${lines.join('; ')}` };
  for (const line of lines) log.error(`lago callback: Lago refused the event of ${line}; dropped`);
  return { ok: true, dropped: `${run.refused.length} events Lago refused, dropped: ${lines.join('; ')}` };
}

export const lagoPoster: LoggerPoster = {
  // Lago's batch endpoint takes 100 events at most (LAGO_EVENTS_BATCH_MAX_LENGTH); an event is a few hundred bytes.
  maxPayloads: 100,
  maxBytes: 4 * 1024 * 1024,
  target(env, options) {
    const target = lagoTarget(env);
    if ('error' in target) return target;
    return {
      where: new URL(target.batchUrl).origin,
      post: async (segments: readonly EventSegment[]): Promise<PostResult> => {
        const events: Json[] = [];
        const uncharged: string[] = [];
        try {
          for (const payload of payloadsOf(segments)) {
            // A failed call is not billed, as in LiteLLM (the gateway queues none; an older message might hold one).
            if (payload.status === 'failure') continue;
            const event = lagoEvent(payload, target.code, target.chargeBy);
            if (event) events.push(event);
            else uncharged.push(String(payload.id ?? ''));
          }
        } catch (err) {
          return unreadable(err);
        }
        const noCustomer = `no customer to charge (LAGO_API_CHARGE_BY ${target.chargeBy})`;
        // /health/services must not call a test payload sent when nothing was.
        if (options?.unsampled && uncharged.length && !events.length) return { ok: false, retry: false, reason: `the test payload has ${noCustomer}` };
        if (uncharged.length) log.error(`lago callback: calls ${uncharged.join(', ')} have ${noCustomer}; not sent`);
        const result = events.length ? await postEvents(target, events, env) : { ok: true as const };
        if (!result.ok || !uncharged.length) return result;
        const dropped = `${uncharged.length} calls with ${noCustomer}, dropped`;
        return { ok: true, dropped: result.dropped ? `${dropped}; ${result.dropped}` : dropped };
      },
    };
  },
};
