/**
 * How a batch of Lunary runs reaches `/v1/runs/ingest`: in requests whose waits fit the request's timeout, one
 * after another, each answer's per-event results read (Lunary answers 200 and says in `results[]` which events it
 * refused).
 */
import { log } from '../../../../worker/telemetry/log.ts';
import { isObject, type Json } from './payloads.ts';
import { type PostResult, postForAnswer, refusedAnswer } from './types.ts';

/**
 * Runs that name a parent go at most this many a request, after the others: Lunary's ingest handles a request's
 * events one after another and, for a `start` whose parent run does not exist yet, waits 2 s and looks once more
 * (then stores the run without its parent), so three such waits (6 s) stay inside the request's POST_TIMEOUT_MS (10 s).
 */
export const MAX_CHILD_RUNS_PER_REQUEST = 3;

/**
 * Lunary's answers to a second `start` of a run, what a batch sent again meets (not a failure): its own check's,
 * and the run table's primary key's (older Lunary, without the check).
 */
const ALREADY_EXISTS = /^(Run with this ID already exists|duplicate key value violates unique constraint "run_pkey")/;

/** A reason's longest quote of one refused event: its run id and Lunary's error, scrubbed first. */
const REFUSAL_CHARS = 240;

/** One payload's run: its events, its id and the run its start names as its parent. */
export interface RunEvents { events: Json[]; runId: string; parentRunId?: string }

/**
 * The runs naming a parent in waves: first those whose parent is not among them (sent earlier in the batch, or
 * before it), then those under the first wave's runs, and so on; runs whose parents name each other in a loop
 * come last, together.
 */
function childWaves(children: readonly RunEvents[]): (readonly RunEvents[])[] {
  const waves: (readonly RunEvents[])[] = [];
  let left = children;
  while (left.length) {
    const waiting = new Set(left.map((r) => r.runId));
    const wave = left.filter((r) => !waiting.has(r.parentRunId!));
    if (!wave.length) return [...waves, left];
    waves.push(wave);
    left = left.filter((r) => waiting.has(r.parentRunId!));
  }
  return waves;
}

/**
 * The requests' events: every run without a parent in one request, then the runs with one,
 * MAX_CHILD_RUNS_PER_REQUEST a request, a parent in the same batch in an earlier request than its children (so it
 * exists when they are stored, and they are nested under it).
 */
export function ingestRequests(runs: readonly RunEvents[]): Json[][] {
  const requests: Json[][] = [];
  const top = runs.filter((r) => r.parentRunId === undefined).flatMap((r) => r.events);
  if (top.length) requests.push(top);
  for (const wave of childWaves(runs.filter((r) => r.parentRunId !== undefined))) {
    for (let i = 0; i < wave.length; i += MAX_CHILD_RUNS_PER_REQUEST) {
      requests.push(wave.slice(i, i + MAX_CHILD_RUNS_PER_REQUEST).flatMap((r) => r.events));
    }
  }
  return requests;
}

/** The events an answer says Lunary refused (`results[]` with `success: false`), as `<runId>: <error>`; a second start of a run is not one. */
export function refusedEvents(answer: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer);
  } catch {
    return [];
  }
  const results = isObject(parsed) && Array.isArray(parsed.results) ? parsed.results.filter(isObject) : [];
  return results
    .filter((r) => r.success === false && !ALREADY_EXISTS.test(String(r.error ?? '')))
    .map((r) => `${String(r.id ?? 'unknown').slice(0, 36)}: ${String(r.error ?? 'refused')}`);
}

const encoder = new TextEncoder();

/**
 * Posts the requests in order, stopping at the first not taken (the batch is then retried whole: Lunary refuses
 * the starts it already has, and an end only rewrites its run). Events Lunary refused within taken requests are
 * logged (`scrub` takes the loggers' secrets out of Lunary's words) and reported as dropped: sent again, they
 * would be refused again.
 */
export async function postIngest(url: string, headers: Record<string, string>, requests: readonly Json[][], scrub: (text: string) => string): Promise<PostResult> {
  const refused: string[] = [];
  for (const events of requests) {
    const answered = await postForAnswer(url, { headers, body: encoder.encode(JSON.stringify({ events })) });
    if ('ok' in answered) return answered;
    if (answered.status < 200 || answered.status >= 300) return refusedAnswer(answered);
    refused.push(...refusedEvents(answered.answer));
  }
  if (!refused.length) return { ok: true };
  // Scrubbed whole, then cut: a secret Lunary echoes is never cut in two.
  const lines = refused.map((line) => scrub(line).slice(0, REFUSAL_CHARS));
  for (const line of lines) log.error(`lunary callback: Lunary refused the event of run ${line}; dropped`);
  return { ok: true, dropped: `${lines.length} events Lunary refused, dropped: ${lines.join('; ')}` };
}
