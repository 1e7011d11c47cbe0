/**
 * A fake Datadog LLM Observability intake on loopback: `POST /api/intake/llm-obs/v1/trace/spans` with the
 * `DD-API-KEY` header (403 `{"errors":["Forbidden"]}` otherwise, as Datadog answers a wrong key) and a JSON body
 * `{data: {type: "span", attributes: {ml_app, tags, spans: [...]}}}`, each span checked for what the intake needs
 * (string `trace_id`, `span_id`, `parent_id`, `name`; integer `start_ns` and `duration`; `meta.kind`; numeric
 * `metrics`; `status` `ok`/`error`): a malformed body is a 400, one past the intake's 5 MB a 413. Taken requests
 * are answered 202 `{}`. Started `keyless`, it stands for a Datadog Agent, which takes spans without a key. It can be
 * told to fail the next requests with a status (a 429 with `retry-after`, or quoting the key sent as a careless
 * error page does, with `echo`), or to answer 400 to any request holding a span a test marks as bad.
 */
import { jsonBody, serveBodies } from './fake-server.ts';

export const LLM_OBS_PATH = '/api/intake/llm-obs/v1/trace/spans';

export type Span = Record<string, any>;

export interface LlmObsRequest { path: string; headers: Record<string, string>; bytes: number; mlApp: string; tags: string[]; spans: Span[] }

/** The intake's limit on a request body (Datadog's SDKs keep under it). */
export const LLM_OBS_MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface FakeLlmObs {
  url: string;
  /** Requests taken (202), in order. */
  requests: LlmObsRequest[];
  /** Statuses answered to requests refused by failNext() or rejectSpans(), or for their size (413), in order. */
  refused: number[];
  /** Requests that were not what the intake takes (path, key, content type, body). */
  malformed: string[];
  /** Every span taken, in order. */
  spans(): Span[];
  failNext(status: number, times?: number, options?: { echo?: boolean; retryAfter?: number }): void;
  /** Answers 400 to every request holding a span this says is bad (until called with undefined). */
  rejectSpans(bad: ((span: Span) => boolean) | undefined): void;
  close(): Promise<void>;
}

const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** What the intake would refuse in a span, if anything. */
function spanProblem(span: Span): string | undefined {
  for (const key of ['trace_id', 'span_id', 'parent_id', 'name']) if (typeof span[key] !== 'string' || !span[key]) return `span without a string ${key}`;
  if (!isInt(span.start_ns) || !isInt(span.duration)) return 'start_ns and duration must be non-negative integers';
  if (typeof span.meta?.kind !== 'string') return 'span without meta.kind';
  if (span.status !== 'ok' && span.status !== 'error') return `status ${String(span.status)}`;
  for (const [k, v] of Object.entries(span.metrics ?? {})) if (typeof v !== 'number') return `metric ${k} is not a number`;
  if (span.tags !== undefined && !(Array.isArray(span.tags) && span.tags.every((t: unknown) => typeof t === 'string'))) return 'span tags must be strings';
  return undefined;
}

export async function startFakeLlmObs(options: { apiKey: string; keyless?: boolean }): Promise<FakeLlmObs> {
  let failing = { status: 0, times: 0, echo: false, retryAfter: 0 };
  let bad: ((span: Span) => boolean) | undefined;
  const fake: Omit<FakeLlmObs, 'url' | 'close'> = {
    requests: [], refused: [], malformed: [],
    spans: () => fake.requests.flatMap((r) => r.spans),
    failNext(status, times = 1, opts = {}) {
      failing = { status, times, echo: opts.echo === true, retryAfter: opts.retryAfter ?? 0 };
    },
    rejectSpans(check) {
      bad = check;
    },
  };
  const server = await serveBodies('fake Datadog LLM Observability', (req, res, raw, headers) => {
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== LLM_OBS_PATH) {
      fake.malformed.push(`${req.method} ${req.url}`);
      return answer(404, { errors: ['Not Found'] });
    }
    if (!options.keyless && headers['dd-api-key'] !== options.apiKey) return answer(403, { errors: ['Forbidden'] });
    if (raw.byteLength > LLM_OBS_MAX_BODY_BYTES) {
      fake.refused.push(413);
      return answer(413, { errors: ['Payload Too Large'] });
    }
    let spans: Span[];
    let attributes: Record<string, any>;
    try {
      const body = jsonBody(headers, raw);
      if (body?.data?.type !== 'span') throw new Error('data.type is not "span"');
      attributes = body.data.attributes;
      if (typeof attributes?.ml_app !== 'string' || !attributes.ml_app) throw new Error('attributes.ml_app missing');
      if (!Array.isArray(attributes.spans) || !attributes.spans.length) throw new Error('attributes.spans is not a non-empty array');
      spans = attributes.spans;
      for (const span of spans) {
        const problem = spanProblem(span);
        if (problem) throw new Error(problem);
      }
    } catch (err) {
      fake.malformed.push(err instanceof Error ? err.message : String(err));
      return answer(400, { errors: ['Bad Request'] });
    }
    if (failing.times > 0) {
      failing.times--;
      fake.refused.push(failing.status);
      const extra: Record<string, string> = failing.retryAfter ? { 'retry-after': String(failing.retryAfter) } : {};
      return answer(failing.status, { errors: [`refused by the test${failing.echo ? `: DD-API-KEY ${headers['dd-api-key']}` : ''}`] }, extra);
    }
    if (bad && spans.some(bad)) {
      fake.refused.push(400);
      return answer(400, { errors: ['a malformed span'] });
    }
    fake.requests.push({ path: req.url, headers, bytes: raw.byteLength, mlApp: attributes.ml_app, tags: attributes.tags, spans });
    return answer(202, {});
  });
  return Object.assign(fake, server);
}
