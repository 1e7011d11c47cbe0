/**
 * A fake LangSmith API on loopback: `POST /api/v1/runs/batch` (any other path is a 404) with `{"post": [runs]}` (and optionally `patch`), the
 * `x-api-key` header required (401 otherwise, as LangSmith answers), JSON content, each run checked for what
 * LangSmith's ingestion validates (a UUID `id` and `trace_id`, a `dotted_order` ending in the run's id, an
 * ISO `start_time`, `name`, `run_type`); answered 202 as LangSmith does. A bad run is a 422 and recorded as
 * malformed; a run id it already has is a 409, as LangSmith answers. It can be told to fail the next requests
 * with a status.
 */
import { jsonBody, serveBodies } from './fake-server.ts';

export interface LangsmithRequest {
  headers: Record<string, string>;
  raw: string;
  runs: Record<string, any>[];
}

export interface FakeLangsmith {
  url: string;
  /** Batches that were taken (202). */
  batches: LangsmithRequest[];
  /** Requests answered with a failNext() status, or 409 for runs it already had. */
  refused: number[];
  /** Requests that were not what LangSmith takes (path, key, content type, run shape). */
  malformed: string[];
  /** The x-api-key of each request answered 401 (a key this fake does not take). */
  unauthorized: string[];
  runs(): Record<string, any>[];
  /**
   * The next `times` well-formed batches are answered `status`; with `taken`, their runs are kept all the same (a
   * batch LangSmith took but answered badly or too late), so sending them again is a 409.
   */
  failNext(status: number, times?: number, options?: { taken?: boolean; echo?: boolean }): void;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function runProblem(run: Record<string, any>): string | undefined {
  if (!UUID.test(String(run.id))) return `run id ${run.id} is not a UUID`;
  if (!UUID.test(String(run.trace_id))) return `trace_id ${run.trace_id} is not a UUID`;
  if (typeof run.dotted_order !== 'string' || !/^\d{8}T\d{12}Z/.test(run.dotted_order) || !run.dotted_order.endsWith(run.id)) return `bad dotted_order ${run.dotted_order}`;
  if (typeof run.start_time !== 'string' || Number.isNaN(Date.parse(run.start_time))) return `bad start_time ${run.start_time}`;
  if (typeof run.name !== 'string' || !run.name || typeof run.run_type !== 'string') return 'run without name or run_type';
  if (run.outputs !== null && run.outputs !== undefined && (typeof run.outputs !== 'object' || Array.isArray(run.outputs))) return 'outputs is not an object';
  return undefined;
}

export async function startFakeLangsmith(options: { apiKey: string; tenantId?: string }): Promise<FakeLangsmith> {
  let failing = { status: 0, times: 0, taken: false, echo: false };
  const fake: Omit<FakeLangsmith, 'url' | 'close'> = {
    batches: [], refused: [], malformed: [], unauthorized: [],
    runs: () => fake.batches.flatMap((b) => b.runs),
    failNext(status, times = 1, options = {}) {
      failing = { status, times, taken: options.taken === true, echo: options.echo === true };
    },
  };
  const server = await serveBodies('fake LangSmith', (req, res, bytes, headers) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/api/v1/runs/batch') {
      fake.malformed.push(`${req.method} ${req.url}`);
      return answer(404, { detail: 'Not Found' });
    }
    if (headers['x-api-key'] !== options.apiKey) {
      fake.unauthorized.push(headers['x-api-key'] ?? '');
      return answer(401, { detail: 'Invalid token' });
    }
    if (options.tenantId && headers['x-tenant-id'] !== options.tenantId) return answer(403, { detail: 'Forbidden' });
    const raw = bytes.toString('utf8');
    try {
      const body = jsonBody(headers, raw) as { post?: unknown };
      if (!body || !Array.isArray(body.post)) throw new Error('body has no post array');
      for (const run of body.post as Record<string, any>[]) {
        const problem = runProblem(run);
        if (problem) throw new Error(problem);
      }
      const known = new Set(fake.runs().map((r) => r.id));
      if ((body.post as Record<string, any>[]).some((r) => known.has(r.id))) {
        fake.refused.push(409);
        return answer(409, { detail: 'Conflict: run already exists' });
      }
      if (failing.times > 0) {
        failing.times--;
        fake.refused.push(failing.status);
        if (failing.taken) fake.batches.push({ headers, raw, runs: body.post as Record<string, any>[] });
        // With `echo`, the answer quotes the API key sent, as a careless error page does.
        return answer(failing.status, { detail: `refused by the test${failing.echo ? `: x-api-key ${headers['x-api-key']}` : ''}` });
      }
      fake.batches.push({ headers, raw, runs: body.post as Record<string, any>[] });
      return answer(202, {});
    } catch (err) {
      fake.malformed.push(err instanceof Error ? err.message : String(err));
      return answer(422, { detail: 'malformed' });
    }
  });
  return Object.assign(fake, server);
}
