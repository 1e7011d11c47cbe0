/**
 * A fake PostHog capture API on loopback: `POST /batch/` with `{api_key, batch: [...]}` (JSON), answered as
 * PostHog's capture service (rust/capture in PostHog/posthog) does: it checks only the project API key's shape, not
 * that it names a project, so any well-formed key is a 200 `{"status":"Ok"}` and a key no project has loses its
 * events later, out of sight (kept here in `dropped`). A missing key, or one that is empty, over 64 characters, not
 * ASCII, holds a null byte or is a personal API key (`phx_`), is a 401 with `API key is not valid: <reason>` as
 * text; a batch that is no array, or an event without a name or a `distinct_id` (or with a `uuid` that is not one,
 * a `timestamp` that does not parse, `properties` not an object), a 400. It can be told to fail its next batches
 * with a status (a 429 with `retry-after`, a 5xx; echoing the key it was sent, as a careless error page does, with
 * `echo`).
 */
import { type FakeServer, serveBodies } from './fake-server.ts';

type Json = Record<string, any>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PosthogBatch { headers: Record<string, string>; apiKey: string; events: Json[] }

export interface FakePosthog extends FakeServer {
  /** Batches taken (200) for the project's key, in order. */
  batches: PosthogBatch[];
  /** Batches taken (200) for a well-formed key that names no project: PostHog drops their events after answering. */
  dropped: PosthogBatch[];
  /** Statuses answered to batches not taken, in order. */
  refused: number[];
  /** Why a request was not what PostHog takes. */
  malformed: string[];
  /** The events taken, in order. */
  events(): Json[];
  failNext(status: number, times?: number, options?: { echo?: boolean }): void;
}

function eventProblem(event: Json): string | undefined {
  if (!event || typeof event !== 'object') return 'event is not an object';
  if (typeof event.event !== 'string' || !event.event) return 'event submitted with an empty event name';
  if (typeof event.distinct_id !== 'string' || !event.distinct_id) return 'event submitted without a distinct_id';
  if (event.uuid !== undefined && (typeof event.uuid !== 'string' || !UUID.test(event.uuid))) return `uuid ${String(event.uuid)} is not a UUID`;
  if (event.timestamp !== undefined && Number.isNaN(Date.parse(String(event.timestamp)))) return 'timestamp does not parse';
  if (event.properties !== undefined && (typeof event.properties !== 'object' || Array.isArray(event.properties))) return 'properties is not an object';
  return undefined;
}

/** Why PostHog's capture refuses a key's shape (its token.rs), or undefined for a well-formed one. */
function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'event submitted without an api_key';
  const token = key.trim();
  const reason = token === '' ? 'empty' : token.length > 64 ? 'too_long' : !/^[\x00-\x7f]*$/.test(token) ? 'not_ascii'
    : token.startsWith('phx_') ? 'personal_api_key' : token.includes('\0') ? 'null_byte' : undefined;
  return reason && `API key is not valid: ${reason}`;
}

export async function startFakePosthog(options: { apiKey: string }): Promise<FakePosthog> {
  let failing = { status: 0, times: 0, echo: false };
  const fake = {
    batches: [] as PosthogBatch[], dropped: [] as PosthogBatch[], refused: [] as number[], malformed: [] as string[],
    events: () => fake.batches.flatMap((b) => b.events),
    failNext(status: number, times = 1, o: { echo?: boolean } = {}) {
      failing = { status, times, echo: o.echo === true };
    },
  };
  const server = await serveBodies('fake PostHog', (req, res, raw, headers) => {
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...extra }).end(JSON.stringify(body));
    // Capture's refusals are plain text (its errors' messages).
    const refuse = (status: number, text: string) => res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    if (req.method !== 'POST' || req.url !== '/batch/') {
      fake.malformed.push(`${req.method} ${req.url}`);
      return refuse(404, '');
    }
    let body: Json;
    try {
      body = JSON.parse(raw.toString('utf8')) as Json;
    } catch (err) {
      fake.malformed.push(String(err));
      return refuse(400, `failed to parse request: ${String(err)}`);
    }
    if (!Array.isArray(body.batch)) return refuse(400, 'failed to parse request: batch is not an array');
    const keyRefused = keyProblem(body.api_key);
    if (keyRefused) return refuse(401, keyRefused);
    for (const event of body.batch as Json[]) {
      const problem = eventProblem(event);
      if (problem) {
        fake.malformed.push(problem);
        return refuse(400, problem);
      }
    }
    if (failing.times > 0) {
      failing.times--;
      fake.refused.push(failing.status);
      const detail = `refused by the test${failing.echo ? `: api_key ${body.api_key}` : ''}`;
      return answer(failing.status, { type: 'server_error', detail }, failing.status === 429 ? { 'retry-after': '1' } : {});
    }
    const batch = { headers, apiKey: body.api_key as string, events: body.batch as Json[] };
    (String(body.api_key).trim() === options.apiKey ? fake.batches : fake.dropped).push(batch);
    return answer(200, { status: 'Ok' });
  });
  return Object.assign(fake, server);
}
