/**
 * A fake Lago API on loopback: `POST /api/v1/events/batch` with `{events: [...]}` (1 to 100) and `POST
 * /api/v1/events` with `{event}` as Lago's Postgres event store takes them: `Authorization: Bearer <key>` required
 * (401 otherwise), JSON content; each event needs a `transaction_id`, an `external_subscription_id` and a `code`,
 * and a transaction id it already holds for that subscription is refused (`value_already_exist`). A refused event
 * makes a 422 `{status, error, code: "validation_errors", error_details}`, by event index for a batch
 * (`{"<index>": {...}}`). A batch is stored all or nothing by default; its mode can make it store the events it
 * does not refuse (saved one by one, the 422 all the same), or fail with a 500 on a duplicate (its insert hitting
 * the unique index). It can be told to fail the next requests with a status (429 with `retry-after`), to store the
 * next batch and drop the connection (the answer lost on the way), to refuse one transaction's event, or to fail
 * every request holding one transaction's event with a 500 (an event Lago always fails on).
 */
import { jsonBody, serveBodies } from './fake-server.ts';

export interface LagoBatch { headers: Record<string, string>; events: Record<string, any>[] }

export interface FakeLago {
  url: string;
  /** Batches stored (200), in order. */
  batches: LagoBatch[];
  /** Events stored one a request (`/api/v1/events`), in order. */
  singles: Record<string, any>[];
  /** Statuses of the batches not stored, in order. */
  refused: number[];
  /** Requests received, by endpoint: how many a delivery cost. */
  hits: { batch: number; single: number };
  /** Events stored, by `<external_subscription_id>\n<transaction_id>`. */
  events: Map<string, Record<string, any>>;
  failNext(status: number, times?: number): void;
  /** Stores the next batch, then drops the connection (the answer lost: the sender cannot know it was taken). */
  loseNextAnswer(): void;
  /** How a batch with refused events is stored: none of it, the rest of it, or none with a 500 on a duplicate. */
  batchMode(mode: BatchMode): void;
  /**
   * Refuses the event of this transaction id as Lago refuses one whose billable metric expression fails on it,
   * with this error code (`invalid_expression` by default; a test may make Lago's words quote a secret).
   */
  refuseTransaction(id: string | undefined, code?: string): void;
  /** Fails every request holding the event of this transaction id with a 500. */
  failTransaction(id: string | undefined): void;
  close(): Promise<void>;
}

export type BatchMode = 'all-or-nothing' | 'stores-the-rest' | 'fails-on-duplicates';

const MAX_EVENTS = 100;
const refusal = (errorDetails: unknown) => ({ status: 422, error: 'Unprocessable Entity', code: 'validation_errors', error_details: errorDetails });

const keyOf = (event: Record<string, any>) => `${event.external_subscription_id}\n${event.transaction_id}`;

export async function startFakeLago(options: { apiKey: string }): Promise<FakeLago> {
  let failing = { status: 0, times: 0 };
  let loseAnswer = false;
  let refusedTransaction: string | undefined;
  let refusalCode = 'invalid_expression';
  let failedTransaction: string | undefined;
  let mode: BatchMode = 'all-or-nothing';
  const fake: Omit<FakeLago, 'url' | 'close'> = {
    batches: [], singles: [], refused: [], events: new Map(), hits: { batch: 0, single: 0 },
    failNext(status, times = 1) {
      failing = { status, times };
    },
    loseNextAnswer() {
      loseAnswer = true;
    },
    refuseTransaction(id, code = 'invalid_expression') {
      refusedTransaction = id;
      refusalCode = code;
    },
    failTransaction(id) {
      failedTransaction = id;
    },
    batchMode(next) {
      mode = next;
    },
  };
  /** An event's refusal (`{field: [codes]}`), if any, against what is stored and what came before it. */
  const problemsOf = (event: Record<string, any>, seen: Set<string>): Record<string, string[]> => {
    const problems: Record<string, string[]> = {};
    for (const field of ['transaction_id', 'external_subscription_id', 'code']) {
      if (typeof event[field] !== 'string' || !event[field]) problems[field] = ['value_is_mandatory'];
    }
    const key = keyOf(event);
    if (event.transaction_id === refusedTransaction) problems.properties = [refusalCode];
    if (!problems.transaction_id && (fake.events.has(key) || seen.has(key))) problems.transaction_id = ['value_already_exist'];
    seen.add(key);
    return problems;
  };
  const server = await serveBodies('fake Lago', (req, res, raw, headers) => {
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      if (status >= 300) fake.refused.push(status);
      res.writeHead(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify(body));
    };
    const single = req.url === '/api/v1/events';
    if (req.method !== 'POST' || (!single && req.url !== '/api/v1/events/batch')) return answer(404, { status: 404, error: 'Not Found', code: 'route_not_found' });
    fake.hits[single ? 'single' : 'batch'] += 1;
    if (headers.authorization !== `Bearer ${options.apiKey}`) return answer(401, { status: 401, error: 'Unauthorized' });
    if (failing.times > 0) {
      failing.times -= 1;
      const extra: Record<string, string> = failing.status === 429 ? { 'retry-after': '1' } : {};
      return answer(failing.status, { status: failing.status, error: 'refused by the test' }, extra);
    }
    let body: any;
    try {
      body = jsonBody(headers, raw);
    } catch {
      return answer(400, { status: 400, error: 'BadRequest: malformed JSON' });
    }
    const held: Record<string, any>[] = single ? [body?.event ?? {}] : Array.isArray(body?.events) ? body.events : [];
    if (failedTransaction !== undefined && held.some((e) => e?.transaction_id === failedTransaction)) return answer(500, { status: 500, error: 'Internal Server Error' });
    if (single) {
      const event: Record<string, any> = body?.event ?? {};
      const problems = problemsOf(event, new Set());
      if (Object.keys(problems).length) return answer(422, refusal(problems));
      fake.events.set(keyOf(event), event);
      fake.singles.push(event);
      return answer(200, { event: { ...event, lago_id: crypto.randomUUID() } });
    }
    const events: Record<string, any>[] = Array.isArray(body?.events) ? body.events : [];
    if (!events.length) return answer(422, refusal({ events: ['no_events'] }));
    if (events.length > MAX_EVENTS) return answer(422, refusal({ events: ['too_many_events'] }));
    const errors: Record<string, Record<string, string[]>> = {};
    const seen = new Set<string>();
    events.forEach((event, index) => {
      const problems = problemsOf(event, seen);
      if (Object.keys(problems).length) errors[String(index)] = problems;
    });
    if (Object.keys(errors).length) {
      if (mode === 'fails-on-duplicates' && Object.values(errors).some((e) => e.transaction_id)) return answer(500, { status: 500, error: 'Internal Server Error' });
      if (mode === 'stores-the-rest') {
        const kept = events.filter((_, index) => !errors[String(index)]);
        for (const event of kept) fake.events.set(keyOf(event), event);
        if (kept.length) fake.batches.push({ headers, events: kept });
      }
      return answer(422, { ...refusal(errors), error_extra: {} });
    }
    for (const event of events) fake.events.set(keyOf(event), event);
    fake.batches.push({ headers, events });
    if (loseAnswer) {
      loseAnswer = false;
      return void res.destroy();
    }
    return answer(200, { events: events.map((e) => ({ ...e, lago_id: crypto.randomUUID(), created_at: new Date().toISOString() })) });
  });
  return { ...fake, ...server };
}
