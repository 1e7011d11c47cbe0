/**
 * LiteLLM's `langsmith` callback (LangsmithLogger): each StandardLoggingPayload as one LangSmith run, a batch
 * POSTed as `{"post": [runs]}` to `<LANGSMITH_BASE_URL>/api/v1/runs/batch` (default https://api.smith.langchain.com;
 * `/api/v1` added unless the base has it, as LiteLLM's `_add_endpoint_to_url` does)
 * with the `x-api-key: <LANGSMITH_API_KEY>` header (and `x-tenant-id: <LANGSMITH_TENANT_ID>` when set). A run is
 * what LiteLLM's `_prepare_log_data` makes: `name` (the request's `run_name`, else LANGSMITH_DEFAULT_RUN_NAME,
 * else `LLMRun`), `run_type: "llm"`, `inputs` (the payload), `outputs` (its response), `session_name` (the
 * request's `project_name` / `langsmith_project`, else LANGSMITH_PROJECT, else `litellm-completion`),
 * `start_time`, `end_time`, `tags`, `extra.metadata`, `error` for a failure, and `id`, `trace_id`,
 * `dotted_order`, `parent_run_id`, `session_id` from the request's metadata or made as LiteLLM makes them.
 */
import { createHmac } from 'node:crypto';
import type { EventSegment } from '../segment.ts';
import { log } from '../../../../worker/telemetry/log.ts';
import { isObject, type Json, payloadsOf, unreadable } from './payloads.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, postClassified, type TargetOptions } from './types.ts';

const encoder = new TextEncoder();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** LangSmith's dotted_order: `<YYYYMMDDTHHMMSSffffffZ><uuid>` per level from the trace's root, joined by `.`. */
const DOTTED_ORDER = /^\d{8}T\d{12}Z[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.\d{8}T\d{12}Z[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})*$/i;

/** Request keys that are a client's own LangSmith credentials or destination: never forwarded, never logged. */
const CLIENT_SECRET_KEYS = ['langsmith_api_key', 'langsmith_base_url', 'langsmith_tenant_id'];

export interface LangsmithSettings { project: string; runName: string; samplingRate: number }

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 512) : undefined);

/**
 * A client's dotted_order when LangSmith will take it for this run (its format, ending in the run's id), never cut
 * (a cut one is refused, and the run with it); anything else is ignored and the run gets its own, as a root.
 */
function clientDottedOrder(v: unknown, runId: string): string | undefined {
  if (typeof v !== 'string') return undefined;
  const order = v.trim();
  return DOTTED_ORDER.test(order) && order.toLowerCase().endsWith(runId.toLowerCase()) ? order : undefined;
}

/** LiteLLM's `_add_endpoint_to_url(base, "runs/batch")`: `/api/v1` appended unless the base already has it. */
export function langsmithBatchUrl(base: URL): string {
  let url = `${base.origin}${base.pathname}`;
  if (!url.includes('/api/v1')) url = `${url.replace(/\/+$/, '')}/api/v1`;
  return url.endsWith('/') ? `${url}runs/batch` : `${url}/runs/batch`;
}

/** A UUID for a call: its id when that is one (so a retried batch names the same runs), else one derived from it. */
export function runUuid(id: string): string {
  if (UUID.test(id)) return id.toLowerCase();
  const h = createHmac('sha256', 'tollgate-langsmith').update(id).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Epoch seconds → LangSmith's ISO time, and the `YYYYMMDDTHHMMSSffffffZ` stamp of a dotted_order. */
function times(epochSeconds: unknown): { iso: string; stamp: string } {
  const ms = typeof epochSeconds === 'number' && Number.isFinite(epochSeconds) ? epochSeconds * 1000 : Date.now();
  const micros = Math.round(ms * 1000) % 1_000_000;
  const iso = new Date(Math.floor(ms)).toISOString();
  const stamp = `${iso.slice(0, 19).replace(/[-:]/g, '')}${String(micros).padStart(6, '0')}Z`;
  return { iso: `${iso.slice(0, 19)}.${String(micros).padStart(6, '0')}+00:00`, stamp };
}

/** The payload without any LangSmith credential a client put in its request. */
function withoutClientSecrets(payload: Json): Json {
  const m = isObject(payload.metadata) ? payload.metadata : undefined;
  const req = m && isObject(m.requester_metadata) ? m.requester_metadata : undefined;
  const params = isObject(payload.model_parameters) ? payload.model_parameters : undefined;
  if (!CLIENT_SECRET_KEYS.some((k) => (req && k in req) || (params && k in params))) return payload;
  const strip = (o: Json) => Object.fromEntries(Object.entries(o).filter(([k]) => !CLIENT_SECRET_KEYS.includes(k)));
  return {
    ...payload,
    ...(params ? { model_parameters: strip(params) } : {}),
    ...(m ? { metadata: { ...m, ...(req ? { requester_metadata: strip(req) } : {}) } } : {}),
  };
}

/**
 * A payload's LangSmith run, as LiteLLM's `_prepare_log_data` makes it: the request's metadata (LiteLLM's
 * `requester_metadata`) may name the run, its project, its id, trace, parent, session and dotted_order.
 */
export function langsmithRun(raw: Json, settings: LangsmithSettings): Json {
  const payload = withoutClientSecrets(raw);
  const metadata = isObject(payload.metadata) ? payload.metadata : {};
  const req = isObject(metadata.requester_metadata) ? metadata.requester_metadata : {};
  const params = isObject(payload.model_parameters) ? payload.model_parameters : {};
  const project = text(req.project_name) ?? text(req.langsmith_project) ?? text(params.langsmith_project) ?? settings.project;
  const id = text(req.id) ?? text(req.run_id);
  const runId = id && UUID.test(id) ? id : runUuid(String(payload.id ?? ''));
  const start = times(payload.startTime);
  const dottedOrder = clientDottedOrder(req.dotted_order, runId);
  const response = payload.response;
  const run: Json = {
    id: runId,
    name: text(req.run_name) ?? settings.runName,
    run_type: 'llm',
    inputs: payload,
    // LangSmith's outputs is an object: a text answer (completion, transcription) is wrapped as LiteLLM's SDK does.
    outputs: response === null || response === undefined ? null : isObject(response) ? response : { output: response },
    session_name: project,
    start_time: start.iso,
    end_time: times(payload.endTime ?? payload.startTime).iso,
    tags: Array.isArray(payload.request_tags) ? payload.request_tags : [],
    extra: { metadata },
    // A client's dotted_order names its trace's root first: the trace id when the request gives none.
    trace_id: [text(req.trace_id)].find((t) => t && UUID.test(t)) ?? dottedOrder?.slice(22, 58) ?? runId,
    dotted_order: dottedOrder ?? `${start.stamp}${runId}`,
  };
  if (payload.status === 'failure' && typeof payload.error_str === 'string') run.error = payload.error_str;
  const parent = text(req.parent_run_id);
  if (parent) run.parent_run_id = parent;
  const session = text(req.session_id);
  if (session) run.session_id = session;
  return run;
}

/** Whether a run is kept under LANGSMITH_SAMPLING_RATE: decided by its id, so a retry keeps the same runs. */
function sampled(run: Json, rate: number): boolean {
  if (rate >= 1) return true;
  const h = createHmac('sha256', 'tollgate-langsmith').update(String(run.id)).digest('hex');
  return parseInt(h.slice(0, 8), 16) / 0x1_0000_0000 < rate;
}

/** The unusable LANGSMITH_SAMPLING_RATE last logged: said once per isolate, not on every batch. */
let loggedRate: string | undefined;

/** The settings from the env; an unusable LANGSMITH_SAMPLING_RATE means every run, as in LiteLLM (and a log line). */
export function settingsOf(env: LoggerEnv): LangsmithSettings {
  const rateText = envText(env, 'LANGSMITH_SAMPLING_RATE');
  let samplingRate = rateText === undefined ? 1 : Number(rateText);
  if (!Number.isFinite(samplingRate) || samplingRate < 0 || samplingRate > 1) {
    if (loggedRate !== rateText) log.warn('langsmith callback: LANGSMITH_SAMPLING_RATE is not a number from 0 to 1; sending every run');
    loggedRate = rateText;
    samplingRate = 1;
  }
  return { project: envText(env, 'LANGSMITH_PROJECT') ?? 'litellm-completion', runName: envText(env, 'LANGSMITH_DEFAULT_RUN_NAME') ?? 'LLMRun', samplingRate };
}

export const langsmithPoster: LoggerPoster = {
  // LangSmith's batch endpoint takes about 20 MB; LiteLLM sends up to its batch size (512) at once.
  maxPayloads: 512,
  maxBytes: 3 * 1024 * 1024,
  target(env: LoggerEnv, options?: TargetOptions) {
    const apiKey = envText(env, 'LANGSMITH_API_KEY');
    if (!apiKey) return { error: 'LANGSMITH_API_KEY is not set for the admin Worker' };
    const base = httpUrl(envText(env, 'LANGSMITH_BASE_URL') ?? 'https://api.smith.langchain.com', 'LANGSMITH_BASE_URL');
    if ('error' in base) return base;
    // The /health/services test run is sent whatever the rate: sampled out, it would be called sent and never be.
    const read = settingsOf(env);
    const settings = options?.unsampled ? { ...read, samplingRate: 1 } : read;
    const url = langsmithBatchUrl(base);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': apiKey };
    const tenant = envText(env, 'LANGSMITH_TENANT_ID');
    if (tenant) headers['x-tenant-id'] = tenant;
    return {
      where: base.origin,
      post: async (segments: readonly EventSegment[]) => {
        const runs: Json[] = [];
        try {
          for (const payload of payloadsOf(segments)) {
            const run = langsmithRun(payload, settings);
            if (sampled(run, settings.samplingRate)) runs.push(run);
          }
        } catch (err) {
          return unreadable(err);
        }
        if (runs.length === 0) return { ok: true };
        // 409: LangSmith has these runs already (a batch it took but answered too late); its SDK takes that as done.
        return postClassified(url, { headers, body: encoder.encode(JSON.stringify({ post: runs })) }, (s) => (s >= 200 && s < 300) || s === 409);
      },
    };
  },
};
