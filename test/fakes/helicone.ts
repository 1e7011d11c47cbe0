/**
 * A fake Helicone async log API on loopback: `POST /oai/v1/log` and `POST /anthropic/v1/log` take one call's
 * `{providerRequest: {url, json, meta}, providerResponse: {json, headers, status}, timing: {startTime, endTime}}`
 * and answer 200 `{}`. `Authorization: Bearer <key>` is required (401 otherwise), JSON content; a body missing
 * what Helicone reads (meta values that are not text, times that are not whole seconds and 0-999 milliseconds) is a
 * 400. Helicone makes the meta its request's headers (`new Headers(meta)`): a name or value no header can hold
 * throws, a 500. It can be told to fail the next logs with a status (echoing the key sent, as a careless error page does,
 * with `echo`; 429 with a retry-after), or only the logs holding a text; or to answer the next logs 200 with
 * `{"error": ...}` and not log them, as Helicone does when it refuses the key or rate-limits it (`errorNext`).
 */
import { jsonBody, serveBodies } from './fake-server.ts';

export interface HeliconeLogRequest { path: string; headers: Record<string, string>; body: Record<string, any> }

export interface FakeHelicone {
  url: string;
  /** Logs taken (200), in order. */
  logs: HeliconeLogRequest[];
  /** Statuses answered by failNext(). */
  refused: number[];
  /** Requests that were not what Helicone takes (path, key, body). */
  malformed: string[];
  /** Answers the next logs with this status; `match`: only logs whose body holds this text. */
  failNext(status: number, times?: number, options?: { echo?: boolean; match?: string }): void;
  /** Answers the next logs 200 `{"error": error}` without logging them (counted in `erred`). */
  errorNext(error: string, times?: number): void;
  /** Errors answered with a 200 by errorNext(). */
  erred: string[];
  close(): Promise<void>;
}

const isTime = (t: any): boolean => !!t && Number.isInteger(t.seconds) && Number.isInteger(t.milliseconds) && t.milliseconds >= 0 && t.milliseconds < 1000;

function bodyProblem(body: any): string | undefined {
  const request = body?.providerRequest;
  if (!request || typeof request.url !== 'string' || !request.json || typeof request.json !== 'object') return 'providerRequest needs url and json';
  if (!request.meta || typeof request.meta !== 'object' || Object.values(request.meta).some((v) => typeof v !== 'string')) return 'providerRequest.meta must hold strings';
  const response = body.providerResponse;
  if (!response || typeof response.status !== 'number' || !response.headers || typeof response.headers !== 'object' || !('json' in response)) return 'providerResponse needs json, headers and status';
  if (!isTime(body.timing?.startTime) || !isTime(body.timing?.endTime)) return 'timing needs startTime and endTime as {seconds, milliseconds}';
  return undefined;
}

export async function startFakeHelicone(options: { apiKey: string }): Promise<FakeHelicone> {
  let failing: { status: number; times: number; echo: boolean; match?: string | undefined } = { status: 0, times: 0, echo: false };
  let erring = { error: '', times: 0 };
  const fake: Omit<FakeHelicone, 'url' | 'close'> = {
    logs: [], refused: [], erred: [], malformed: [],
    failNext(status, times = 1, opts = {}) {
      failing = { status, times, echo: opts.echo === true, match: opts.match };
    },
    errorNext(error, times = 1) {
      erring = { error, times };
    },
  };
  const server = await serveBodies('fake Helicone', (req, res, raw, headers) => {
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify(body));
    };
    const path = req.url ?? '';
    if (req.method !== 'POST' || (path !== '/oai/v1/log' && path !== '/anthropic/v1/log')) {
      fake.malformed.push(`${req.method} ${path}`);
      return answer(404, { error: 'Not Found' });
    }
    if (headers.authorization !== `Bearer ${options.apiKey}`) return answer(401, { error: 'Unauthorized' });
    let body: any;
    try {
      body = jsonBody(headers, raw);
    } catch (err) {
      fake.malformed.push(String(err));
      return answer(400, { error: 'malformed JSON' });
    }
    const problem = bodyProblem(body);
    if (problem) {
      fake.malformed.push(problem);
      return answer(400, { error: problem });
    }
    try {
      new Headers(body.providerRequest.meta);
    } catch (err) {
      fake.malformed.push(`meta: ${String(err)}`);
      return answer(500, { error: String(err) });
    }
    if (failing.times > 0 && (failing.match === undefined || raw.toString('utf8').includes(failing.match))) {
      failing.times--;
      fake.refused.push(failing.status);
      const retryAfter: Record<string, string> = failing.status === 429 ? { 'retry-after': '1' } : {};
      return answer(failing.status, { error: `refused by the test${failing.echo ? `: ${headers.authorization}` : ''}` }, retryAfter);
    }
    if (erring.times > 0) {
      erring.times--;
      fake.erred.push(erring.error);
      return answer(200, { error: erring.error });
    }
    fake.logs.push({ path, headers, body });
    return answer(200, {});
  });
  return Object.assign(fake, server);
}
