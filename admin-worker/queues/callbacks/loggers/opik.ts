/**
 * LiteLLM's `opik` callback (OpikLogger): each successful call's StandardLoggingPayload as an Opik trace and its
 * `llm` span, posted in batches to `<OPIK_URL_OVERRIDE>/v1/private/traces/batch` (`{traces: [...]}`) then
 * `/v1/private/spans/batch` (`{spans: [...]}`) with `authorization: <OPIK_API_KEY>` (no scheme, as Opik takes it)
 * and `Comet-Workspace: <OPIK_WORKSPACE>`. The project is the call's metadata `opik.project_name`, else
 * OPIK_PROJECT_NAME, else "Default Project"; `opik.tags`, `opik.thread_id` and `opik.current_span_data` ({trace_id,
 * id}, UUIDv7s: the span joins that trace, no trace made; other ids are ignored) are read as LiteLLM reads them. Ids are UUIDv7 made from the call
 * id, so a batch sent again after a partial success rewrites the same rows rather than adding new ones.
 */
import type { EventSegment } from '../segment.ts';
import { isObject, type Json, payloadsOf, unreadable } from './payloads.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, type PostResult, postClassified } from './types.ts';

/** Comet's hosted Opik API (LiteLLM's default). */
export const OPIK_DEFAULT_URL = 'https://www.comet.com/opik/api';
/** LiteLLM's project for calls that name none and no OPIK_PROJECT_NAME. */
export const OPIK_DEFAULT_PROJECT = 'Default Project';

const encoder = new TextEncoder();

/** FNV-1a over a text with a seed: the id's random bits, stable for one call id (no secret in it, none needed). */
function fnv(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * A UUIDv7 (Opik requires v7 ids) whose time is the call's start and whose other bits come from the call id and
 * `kind`: the same call always makes the same trace and span ids, so Opik keeps one row each across retries.
 */
export function uuid7For(callId: string, kind: string, startSeconds: number): string {
  const ms = BigInt(Math.max(0, Math.floor(startSeconds * 1000)));
  const time = ms.toString(16).padStart(12, '0').slice(-12);
  const words = [0, 1, 2, 3].map((s) => fnv(`${kind}\n${callId}`, s).toString(16).padStart(8, '0')).join('');
  const variant = ((parseInt(words[3]!, 16) & 0x3) | 0x8).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${words.slice(0, 3)}-${variant}${words.slice(4, 7)}-${words.slice(7, 19)}`;
}

/** Opik takes only UUIDv7 ids (it refuses the whole batch otherwise). */
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const uuid7 = (v: unknown): string | undefined => (typeof v === 'string' && UUID7.test(v) ? v : undefined);

/** Opik's longest project name, thread id and tag kept; longer ones (and blank ones, which Opik refuses) are left out. */
const OPIK_NAME_CHARS = 256;
/** A string Opik takes as a name: non-blank and bounded (a blank project_name gets the whole shared batch refused). */
const opikName = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' && v.length <= OPIK_NAME_CHARS ? v : undefined);

const iso = (seconds: unknown): string => new Date((typeof seconds === 'number' && Number.isFinite(seconds) ? seconds : 0) * 1000).toISOString();

/** The Opik settings a call carries: its metadata's `opik` object (the client's request metadata). */
function opikMetadata(payload: Json): Json {
  const m = isObject(payload.metadata) ? payload.metadata : {};
  const requester = isObject(m.requester_metadata) ? m.requester_metadata : {};
  return isObject(requester.opik) ? requester.opik : {};
}

/** Fields of the payload LiteLLM copies into an Opik row's metadata, by the names it gives them. */
const COPIED: readonly [string, string][] = [
  ['call_type', 'type'], ['status', 'status'], ['model', 'model'], ['model_id', 'model_id'], ['model_group', 'model_group'],
  ['api_base', 'api_base'], ['cache_hit', 'cache_hit'], ['saved_cache_cost', 'saved_cache_cost'], ['error_str', 'error_str'],
  ['model_parameters', 'model_parameters'], ['hidden_params', 'hidden_params'], ['model_map_information', 'model_map_information'],
];

/**
 * A payload's trace (none when the call names a trace to join) and span, as LiteLLM's payload builder makes
 * them: the messages as input, the response as output, the call's metadata with `created_from: "litellm"` and the
 * cost, the tags with the provider's name added, the token counts as the span's usage.
 */
export function opikRows(payload: Json, defaultProject: string): { trace?: Json; span: Json } {
  const opik = opikMetadata(payload);
  const project = opikName(opik.project_name) ?? defaultProject;
  const current = isObject(opik.current_span_data) ? opik.current_span_data : undefined;
  // A caller's ids are used only when Opik would take them: one bad id would get the whole shared batch refused.
  const joined = uuid7(current?.trace_id);
  const parent = joined ? uuid7(current?.id) : undefined;
  const callId = String(payload.id ?? '');
  const tags = [...(Array.isArray(opik.tags) ? opik.tags.filter((t) => opikName(t) !== undefined) : [])];
  if (typeof payload.custom_llm_provider === 'string' && payload.custom_llm_provider) tags.push(payload.custom_llm_provider);
  const metadata: Json = Object.fromEntries(Object.entries(opik).filter(([k]) => k !== 'current_span_data'));
  metadata.created_from = 'litellm';
  Object.assign(metadata, isObject(payload.metadata) ? payload.metadata : {});
  for (const [from, to] of COPIED) if (from in payload) metadata[to] = payload[from];
  if (payload.response_cost !== undefined) metadata.cost = { total_tokens: payload.response_cost, currency: 'USD' };
  const response = isObject(payload.response) ? payload.response : {};
  const start = iso(payload.startTime);
  const end = iso(payload.endTime);
  const input = payload.messages ?? {};
  const output = payload.response ?? {};
  const traceId = joined ?? uuid7For(callId, 'trace', Number(payload.startTime) || 0);
  const threadId = opikName(opik.thread_id);
  const model = typeof response.model === 'string' ? response.model : typeof payload.model === 'string' ? payload.model : 'unknown-model';
  const object = typeof response.object === 'string' ? response.object : undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const span: Json = {
    id: uuid7For(callId, 'span', Number(payload.startTime) || 0), project_name: project, trace_id: traceId,
    ...(parent ? { parent_span_id: parent } : {}),
    name: `${model}_${object ?? 'unknown-object'}_${typeof response.created === 'number' ? response.created : 0}`, type: 'llm', model,
    start_time: start, end_time: end, input, output, metadata, tags,
    usage: { prompt_tokens: num(payload.prompt_tokens), completion_tokens: num(payload.completion_tokens), total_tokens: num(payload.total_tokens) },
  };
  if (joined) return { span };
  const trace: Json = { project_name: project, id: traceId, name: object ?? 'unknown type', start_time: start, end_time: end, input, output, metadata, tags, ...(threadId ? { thread_id: threadId } : {}) };
  return { trace, span };
}

/** Whether a host is Comet's (comet.com or a subdomain), whose Opik always needs OPIK_API_KEY. */
const cometHosted = (host: string): boolean => host === 'comet.com' || host.endsWith('.comet.com');

interface OpikTarget { base: string; headers: Record<string, string>; project: string }

/** The API base, key, workspace and default project, or why there is none. */
function opikTarget(env: LoggerEnv): OpikTarget | { error: string } {
  const apiKey = envText(env, 'OPIK_API_KEY');
  const base = httpUrl(envText(env, 'OPIK_URL_OVERRIDE') ?? OPIK_DEFAULT_URL, 'OPIK_URL_OVERRIDE');
  if ('error' in base) return base;
  // A self-hosted Opik may take calls with no key; Comet's cloud (comet.com, any override pointing there too) needs one.
  if (!apiKey && cometHosted(base.hostname)) return { error: 'OPIK_API_KEY is not set for the admin Worker' };
  const workspace = envText(env, 'OPIK_WORKSPACE');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (workspace) headers['Comet-Workspace'] = workspace;
  if (apiKey) headers.authorization = apiKey;
  return { base: base.toString().replace(/\/+$/, ''), headers, project: envText(env, 'OPIK_PROJECT_NAME') ?? OPIK_DEFAULT_PROJECT };
}

/** The segments' successful payloads as trace and span rows (a failure is not logged, as in LiteLLM). */
function rowsOf(segments: readonly EventSegment[], project: string): { traces: Json[]; spans: Json[] } {
  const traces: Json[] = [];
  const spans: Json[] = [];
  for (const payload of payloadsOf(segments)) {
    if (payload.status === 'failure') continue;
    const rows = opikRows(payload, project);
    if (rows.trace) traces.push(rows.trace);
    spans.push(rows.span);
  }
  return { traces, spans };
}

export const opikPoster: LoggerPoster = {
  // LiteLLM flushes its queue in batches of a few hundred; kept well under Opik's request size limit.
  maxPayloads: 100,
  maxBytes: 4 * 1024 * 1024,
  target(env: LoggerEnv) {
    const target = opikTarget(env);
    if ('error' in target) return target;
    return {
      where: new URL(target.base).origin,
      post: async (segments): Promise<PostResult> => {
        let rows: ReturnType<typeof rowsOf>;
        try {
          rows = rowsOf(segments, target.project);
        } catch (err) {
          return unreadable(err);
        }
        const ok = (s: number) => s >= 200 && s < 300;
        // Traces first, so a span never names a trace Opik has not seen; a retry repeats both with the same ids.
        if (rows.traces.length) {
          const result = await postClassified(`${target.base}/v1/private/traces/batch`, { headers: target.headers, body: encoder.encode(JSON.stringify({ traces: rows.traces })) }, ok);
          if (!result.ok) return result;
        }
        if (!rows.spans.length) return { ok: true };
        return postClassified(`${target.base}/v1/private/spans/batch`, { headers: target.headers, body: encoder.encode(JSON.stringify({ spans: rows.spans })) }, ok);
      },
    };
  },
};
