/**
 * A fake OpenMeter ingest API on loopback: `POST /api/v1/events` takes one CloudEvent
 * (`application/cloudevents+json`) or an array of them (`application/cloudevents-batch+json`) and answers 204 with
 * no body. `Authorization: Bearer <key>` is required (401 problem+json otherwise); an event without `specversion`
 * "1.0", a non-empty string `id`, `source`, `type` and `subject`, or with a `time` that is not RFC 3339, gets the
 * whole request refused with 400, as OpenMeter does. OpenMeter keeps one event per (`source`, `id`): an event sent
 * again is counted once (`metered()`). It can be told to fail the next requests with a status (429 with
 * `retry-after`; echoing the key sent, as a careless error page does, with `echo`), and to refuse a subject (400).
 */
import { serveBodies } from './fake-server.ts';

export type CloudEvent = Record<string, any>;

export interface OpenMeterRequest { contentType: string; headers: Record<string, string>; events: CloudEvent[] }

export interface FakeOpenMeter {
  url: string;
  /** Requests taken (204), in order. */
  requests: OpenMeterRequest[];
  /** Statuses answered by failNext() or a refused subject, in order. */
  refused: number[];
  /** Why requests were not what OpenMeter takes (path, key, content type, event). */
  malformed: string[];
  /** Events OpenMeter keeps: one per source and id, the first sent. */
  metered(): Map<string, CloudEvent>;
  failNext(status: number, times?: number, options?: { echo?: boolean; retryAfter?: number }): void;
  /** Refuses (400) every request holding an event of this subject from now on (undefined: takes them again). */
  refuseSubject(subject: string | undefined): void;
  close(): Promise<void>;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v !== '';

function eventProblem(event: CloudEvent): string | undefined {
  if (!event || typeof event !== 'object' || Array.isArray(event)) return 'event is not an object';
  if (event.specversion !== '1.0') return `specversion ${JSON.stringify(event.specversion)} is not 1.0`;
  for (const field of ['id', 'source', 'type', 'subject']) if (!nonEmpty(event[field])) return `${field} is required`;
  if (event.time !== undefined && !(typeof event.time === 'string' && RFC3339.test(event.time))) return `time ${JSON.stringify(event.time)} is not RFC 3339`;
  return undefined;
}

export async function startFakeOpenMeter(options: { apiKey: string }): Promise<FakeOpenMeter> {
  let failing = { status: 0, times: 0, echo: false, retryAfter: 0 };
  let refusedSubject: string | undefined;
  const fake: Omit<FakeOpenMeter, 'url' | 'close'> = {
    requests: [], refused: [], malformed: [],
    metered() {
      const out = new Map<string, CloudEvent>();
      for (const request of fake.requests) for (const e of request.events) if (!out.has(`${e.source}\n${e.id}`)) out.set(`${e.source}\n${e.id}`, e);
      return out;
    },
    failNext(status, times = 1, opts = {}) {
      failing = { status, times, echo: opts.echo === true, retryAfter: opts.retryAfter ?? 0 };
    },
    refuseSubject(subject) {
      refusedSubject = subject;
    },
  };
  const server = await serveBodies('fake OpenMeter', (req, res, raw, headers) => {
    const problem = (status: number, title: string, detail: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/problem+json', ...extra });
      res.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
    };
    if (req.method !== 'POST' || req.url !== '/api/v1/events') {
      fake.malformed.push(`${req.method} ${req.url}`);
      return problem(404, 'Not Found', 'no such route');
    }
    if (headers.authorization !== `Bearer ${options.apiKey}`) return problem(401, 'Unauthorized', 'invalid API token');
    const contentType = String(headers['content-type'] ?? '').split(';')[0]!.trim();
    let events: CloudEvent[];
    try {
      const body = JSON.parse(raw.toString('utf8')) as unknown;
      if (contentType === 'application/cloudevents-batch+json' && Array.isArray(body)) events = body as CloudEvent[];
      else if (contentType === 'application/cloudevents+json' && body && !Array.isArray(body)) events = [body as CloudEvent];
      else throw new Error(`content type ${contentType} does not match the body`);
    } catch (err) {
      fake.malformed.push(String(err));
      return problem(400, 'Bad Request', String(err));
    }
    for (const event of events) {
      const why = eventProblem(event);
      if (why) {
        fake.malformed.push(why);
        return problem(400, 'Bad Request', why);
      }
    }
    if (failing.times > 0) {
      failing.times--;
      fake.refused.push(failing.status);
      const extra: Record<string, string> = failing.retryAfter ? { 'retry-after': String(failing.retryAfter) } : {};
      return problem(failing.status, 'Refused', `refused by the test${failing.echo ? `: ${headers.authorization}` : ''}`, extra);
    }
    if (refusedSubject !== undefined && events.some((e) => e.subject === refusedSubject)) {
      fake.refused.push(400);
      return problem(400, 'Bad Request', `subject ${refusedSubject} refused by the test`);
    }
    fake.requests.push({ contentType, headers, events });
    res.writeHead(204).end();
  });
  return Object.assign(fake, server);
}
