/**
 * A fake Lunary API on loopback: `POST /v1/runs/ingest` with `{events: [...]}` (or one event) and
 * `Authorization: Bearer <key>` (401 `{message}` otherwise, as Lunary answers an unknown project; 400 for a body
 * that is not JSON or holds no events). As Lunary's ingest does, it handles the events one after another, in
 * timestamp order, and answers 200 `{results: [{id, success, error?}]}` whatever became of each: an event Lunary
 * cannot store (no UUID `runId`, an unknown `type` or `event`, no ISO `timestamp`) fails in its result; `start`
 * makes a run (a second start of a run id fails, "Run with this ID already exists"), `end` and `error` finish it.
 * A `start` whose `parentRunId` run does not exist yet waits `parentWaitMs` (Lunary's 2 s) and looks once more,
 * then stores the run without its parent (success, as Lunary does to spare its foreign key). It can be told to fail the next requests with a status (a 429 with
 * `retry-after`; echoing the key sent, as a careless error page does, with `echo`), to refuse the next starts in
 * its 200 answer's results (`refuseStartsNext`: Lunary's own error, a database's failure), and to take the next
 * requests' events but lose the answer (the connection dropped: `dropAnswerNext`).
 */
import { jsonBody, serveBodies } from './fake-server.ts';

type Json = Record<string, any>;

export interface LunaryRun { start: Json; end?: Json; error?: Json; status: 'started' | 'success' | 'error' }

export interface LunaryResult { id: string; success: boolean; error?: string }

export interface FakeLunary {
  url: string;
  /** Requests handled (200, answered or not), in order: their headers, events, results and parent waits. */
  requests: { headers: Record<string, string>; events: Json[]; results: LunaryResult[]; parentWaits: number }[];
  /** Runs by id, as Lunary keeps them. */
  runs: Map<string, LunaryRun>;
  /** Starts refused because the run existed (a batch sent again). */
  duplicates: string[];
  /** Runs stored without the parent their start named, which did not exist after the wait. */
  unnested: string[];
  /** Requests answered with a failNext() status. */
  refused: number[];
  /** Requests that were not what Lunary takes, and events it could not store. */
  malformed: string[];
  failNext(status: number, times?: number, options?: { echo?: boolean }): void;
  /** Refuses the next `start` events in the 200 answer's results with this error, storing no run. */
  refuseStartsNext(error: string, times?: number): void;
  /** Takes the next requests' events, then drops the connection without an answer. */
  dropAnswerNext(times?: number): void;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TYPES = new Set(['llm', 'chain', 'agent', 'tool', 'log', 'embed', 'retriever', 'chat', 'convo', 'message', 'thread']);
const EVENTS = new Set(['start', 'end', 'error', 'feedback', 'update', 'chat']);
/** Lunary's wait for a parent run that does not exist yet. */
export const LUNARY_PARENT_WAIT_MS = 2000;

function eventProblem(event: Json): string | undefined {
  if (!event || typeof event !== 'object') return 'an event is not an object';
  if (typeof event.runId !== 'string' || !UUID.test(event.runId)) return `invalid input syntax for type uuid: ${JSON.stringify(event.runId)}`;
  if (!TYPES.has(event.type)) return `unknown type ${JSON.stringify(event.type)}`;
  if (!EVENTS.has(event.event)) return `unknown event ${JSON.stringify(event.event)}`;
  if (typeof event.timestamp !== 'string' || Number.isNaN(Date.parse(event.timestamp))) return 'timestamp is not a date';
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFakeLunary(options: { key: string; parentWaitMs?: number }): Promise<FakeLunary> {
  const parentWaitMs = options.parentWaitMs ?? LUNARY_PARENT_WAIT_MS;
  let failing = { status: 0, times: 0, echo: false };
  let dropping = 0;
  let refusing = { error: '', times: 0 };
  const fake: Omit<FakeLunary, 'url' | 'close'> = {
    requests: [], runs: new Map(), duplicates: [], unnested: [], refused: [], malformed: [],
    failNext(status, times = 1, opts = {}) {
      failing = { status, times, echo: opts.echo === true };
    },
    refuseStartsNext(error, times = 1) {
      refusing = { error, times };
    },
    dropAnswerNext(times = 1) {
      dropping = times;
    },
  };
  /** One event applied to the runs: Lunary's registerRunEvent, reduced to what a test reads. */
  const apply = async (event: Json, request: FakeLunary['requests'][number]): Promise<LunaryResult> => {
    const problem = eventProblem(event);
    if (problem) {
      fake.malformed.push(problem);
      return { id: String(event?.runId), success: false, error: problem };
    }
    const run = fake.runs.get(event.runId);
    if (event.event === 'start') {
      if (refusing.times > 0) {
        refusing.times--;
        return { id: event.runId, success: false, error: refusing.error };
      }
      if (run) {
        fake.duplicates.push(event.runId);
        return { id: event.runId, success: false, error: 'Run with this ID already exists in the database.' };
      }
      let start = event;
      if (event.parentRunId && !fake.runs.has(event.parentRunId)) {
        request.parentWaits++;
        await sleep(parentWaitMs);
        if (!fake.runs.has(event.parentRunId)) {
          fake.unnested.push(event.runId);
          start = { ...event };
          delete start.parentRunId;
        }
      }
      fake.runs.set(event.runId, { start, status: 'started' });
    } else if (run && event.event === 'end') {
      Object.assign(run, { end: event, status: 'success' });
    } else if (run && event.event === 'error') {
      Object.assign(run, { error: event, status: 'error' });
    }
    return { id: event.runId, success: true };
  };
  const server = await serveBodies('fake Lunary', async (req, res, raw, headers) => {
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/v1/runs/ingest') {
      fake.malformed.push(`${req.method} ${req.url}`);
      return answer(404, { message: 'Not Found' });
    }
    if (headers.authorization !== `Bearer ${options.key}`) return answer(401, { message: 'This project does not exist' });
    let body: any;
    try {
      body = jsonBody(headers, raw);
    } catch (err) {
      fake.malformed.push(String(err));
      return answer(400, { message: 'malformed JSON' });
    }
    if (!body?.events) return answer(400, { message: 'Missing events payload.' });
    if (failing.times > 0) {
      failing.times--;
      fake.refused.push(failing.status);
      const extra: Record<string, string> = failing.status === 429 ? { 'retry-after': '1' } : {};
      return answer(failing.status, { message: `refused by the test${failing.echo ? `: ${headers.authorization}` : ''}` }, extra);
    }
    const events: Json[] = Array.isArray(body.events) ? body.events : [body.events];
    const request = { headers, events, results: [] as LunaryResult[], parentWaits: 0 };
    fake.requests.push(request);
    const sorted = [...events].sort((a, b) => Date.parse(a?.timestamp) - Date.parse(b?.timestamp));
    for (const event of sorted) request.results.push(await apply(event, request));
    if (dropping > 0) {
      dropping--;
      return res.destroy();
    }
    return answer(200, { results: request.results });
  });
  return Object.assign(fake, server);
}
