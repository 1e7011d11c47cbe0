/**
 * LiteLLM's `braintrust` callback (BraintrustLogger): each successful call's StandardLoggingPayload as one event
 * of a Braintrust project's logs, `POST <BRAINTRUST_API_BASE>/project_logs/<project_id>/insert` with
 * `{events: [...]}` and `Authorization: Bearer <BRAINTRUST_API_KEY>`. The project is the call's metadata
 * `project_id`, else its `project_name` (registered by name: `POST /project/register`), else LiteLLM's
 * default project `litellm` (`POST /project`); names' ids are remembered per isolate. An event's `id` is the
 * call id, and Braintrust keeps one row per id, so a batch sent again replaces its rows rather than adding to them.
 */
import { log } from '../../../../worker/telemetry/log.ts';
import type { EventSegment } from '../segment.ts';
import { clientMetadata, isObject, type Json, payloadsOf, unreadable } from './payloads.ts';
import { responsesChoice } from './responses-answer.ts';
import { ANSWER_CAP, envText, httpUrl, type LoggerEnv, type LoggerPoster, networkFailure, type PostResult, postClassified, POST_TIMEOUT_MS, retryableStatus } from './types.ts';

/** Braintrust's API as Braintrust documents it today (LiteLLM's older default, api.braintrustdata.com, is the same API). */
export const BRAINTRUST_DEFAULT_BASE = 'https://api.braintrust.dev/v1';
/** LiteLLM's project for calls that name none. */
export const BRAINTRUST_DEFAULT_PROJECT = 'litellm';

const encoder = new TextEncoder();

/** Project ids by API base, key and project name, for this isolate (a name's id never changes). */
const projectIds = new Map<string, string>();
const MAX_CACHED_PROJECTS = 1000;

/** Metadata keys LiteLLM leaves out of an event's metadata (request plumbing, not the call's). */
const DROPPED_METADATA = new Set(['headers', 'endpoint', 'caching_groups', 'previous_models', 'requester_metadata']);


/** Where the event goes: a project id, or a name to register; `bad` when the call names an id no URL may hold. */
export interface ProjectRef { id?: string; name: string; bad?: true }

/**
 * A caller's `project_id` that cannot be a path segment of the insert URL: "." and ".." would be resolved away
 * (`.../project_logs/../insert` is `POST <base>/insert` with the operator's key), and a "/" is no id.
 */
const badProjectId = (id: string): boolean => id === '.' || id === '..' || id.includes('/') || id.includes('\\') || id.length > 256;

/** The project a payload names in its client metadata (`project_id`, then `project_name`), else LiteLLM's default. */
export function projectOf(payload: Json): ProjectRef {
  const m = isObject(payload.metadata) ? payload.metadata : {};
  const requester = isObject(m.requester_metadata) ? m.requester_metadata : {};
  const id = requester.project_id;
  if (typeof id === 'string' && id) return badProjectId(id) ? { id, name: '', bad: true } : { id, name: '' };
  const name = requester.project_name;
  return { name: typeof name === 'string' && name ? name : BRAINTRUST_DEFAULT_PROJECT };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * A payload's Braintrust event, as LiteLLM's `async_log_success_event` builds one: the messages as `input`, the
 * answer's choices as `output` (a Responses API answer's output read as its one choice, where LiteLLM's logger
 * shows none; none for embeddings and the like), the call's metadata with the client's own
 * keys, the cost and the model, the token counts and timings as `metrics`, and the span named by the client's
 * `span_name` (default "Chat Completion").
 */
export function braintrustEvent(payload: Json): Json {
  const m = isObject(payload.metadata) ? payload.metadata : {};
  const metadata: Json = {};
  const client = clientMetadata(payload).keys;
  // The gateway's attribution (key hash, team, user, spend_logs_metadata, guardrails) wins over a client's same-named keys, as in LiteLLM.
  for (const [k, v] of Object.entries({ ...client, ...m })) if (!DROPPED_METADATA.has(k)) metadata[k] = v;
  if (payload.response_cost !== undefined && payload.response_cost !== null) metadata.litellm_response_cost = payload.response_cost;
  if (typeof payload.model === 'string') metadata.model = payload.model;
  const response = isObject(payload.response) ? payload.response : undefined;
  const start = num(payload.startTime);
  const end = num(payload.endTime);
  const firstChunk = num(payload.completionStartTime);
  const metrics: Json = {
    prompt_tokens: num(payload.prompt_tokens) ?? 0,
    completion_tokens: num(payload.completion_tokens) ?? 0,
    total_tokens: num(payload.total_tokens) ?? 0,
    total_cost: payload.response_cost ?? null,
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ...(start !== undefined && firstChunk !== undefined ? { time_to_first_token: firstChunk - start } : {}),
  };
  const spanName = typeof client.span_name === 'string' && client.span_name ? client.span_name : 'Chat Completion';
  return {
    id: payload.id,
    input: payload.messages ?? null,
    output: Array.isArray(response?.choices) ? response.choices : [responsesChoice(response)].filter(isObject),
    metadata,
    tags: [],
    span_attributes: { name: spanName, type: 'llm' },
    metrics,
  };
}

interface BraintrustTarget { base: string; headers: Record<string, string> }

/**
 * Answers to registering a caller's `project_name` that refuse the name, not the key or the moment: its payloads
 * are set aside like a refused `project_id`'s; any other (401, 408, 429, 5xx, no answer) retries the request.
 */
const NAME_REFUSED = new Set([400, 403, 404, 409, 422]);

/** The project's id: given, remembered, or registered by name (LiteLLM's default project through `POST /project`). */
async function projectId(target: BraintrustTarget, ref: ProjectRef): Promise<{ id: string } | PostResult> {
  if (ref.id) return { id: ref.id };
  const cacheKey = `${target.base}\n${target.headers.authorization}\n${ref.name}`;
  const known = projectIds.get(cacheKey);
  if (known) return { id: known };
  const path = ref.name === BRAINTRUST_DEFAULT_PROJECT ? '/project' : '/project/register';
  try {
    const res = await fetch(`${target.base}${path}`, {
      method: 'POST', headers: target.headers, body: JSON.stringify({ name: ref.name }), signal: AbortSignal.timeout(POST_TIMEOUT_MS), redirect: 'manual',
    });
    const answer = await res.text().catch(() => '');
    if (res.ok) {
      let id: unknown;
      try {
        id = (JSON.parse(answer) as { id?: unknown }).id;
      } catch {
        id = undefined;
      }
      if (typeof id !== 'string' || !id) return { ok: false, retry: true, reason: `HTTP ${res.status}: the project answer for "${ref.name}" has no id` };
      if (projectIds.size >= MAX_CACHED_PROJECTS) projectIds.clear();
      projectIds.set(cacheKey, id);
      return { id };
    }
    const reason = `HTTP ${res.status} registering project "${ref.name}"${answer ? `: ${answer.slice(0, ANSWER_CAP)}` : ''}`;
    // A caller's project_name refused as such (not the key, not Braintrust being down) is that name's payloads' fault.
    const retry = ref.name === BRAINTRUST_DEFAULT_PROJECT ? retryableStatus(res.status) : !NAME_REFUSED.has(res.status);
    return answer.length > ANSWER_CAP ? { ok: false, retry, reason, cut: true } : { ok: false, retry, reason };
  } catch (err) {
    return networkFailure(err);
  }
}

/** The API base and key, or why there is none. */
function braintrustTarget(env: LoggerEnv): BraintrustTarget | { error: string } {
  const apiKey = envText(env, 'BRAINTRUST_API_KEY');
  if (!apiKey) return { error: 'BRAINTRUST_API_KEY is not set for the admin Worker' };
  const base = httpUrl(envText(env, 'BRAINTRUST_API_BASE') ?? BRAINTRUST_DEFAULT_BASE, 'BRAINTRUST_API_BASE');
  if ('error' in base) return base;
  return { base: base.toString().replace(/\/+$/, ''), headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } };
}

/** The segments' payloads as events, grouped by project (in the order the projects first appear). */
function eventsByProject(segments: readonly EventSegment[]): Map<string, { ref: ProjectRef; events: Json[] }> {
  const groups = new Map<string, { ref: ProjectRef; events: Json[] }>();
  for (const payload of payloadsOf(segments)) {
    // A failed call is not logged, as in LiteLLM (the gateway queues none; an older message might hold one).
    if (payload.status === 'failure') continue;
    const ref = projectOf(payload);
    const key = ref.id ? `id:${ref.id}` : `name:${ref.name}`;
    const group = groups.get(key) ?? { ref, events: [] };
    group.events.push(braintrustEvent(payload));
    groups.set(key, group);
  }
  return groups;
}

/** A caller's project id as a log line quotes it: bounded, escaped. */
const quoted = (id: string | undefined): string => JSON.stringify((id ?? '').slice(0, 64));

/** A caller's project as a log line names it: its id or its name, bounded, escaped. */
const projectLabel = (ref: ProjectRef): string => (ref.id !== undefined ? `project_id ${quoted(ref.id)}` : `project_name ${quoted(ref.name)}`);

/**
 * One insert per project; rows are keyed by the call id, so a retry after a partial success repeats none. A
 * project the caller named that Braintrust refuses (an id's insert answered 403/404, a name's registration
 * 400/403/404/409/422), or an id no URL may hold (never requested), refuses those payloads only: the other
 * projects' inserts still go, and when any was taken the refused ones are logged and dropped, said in
 * `dropped` (the dispatcher counts a failure). When none was taken and every refusal was a 403/404, the key
 * may be at fault: the request is retried. Otherwise (a bad id, a name refused with 400/409/422, an insert
 * refused with 400/413/422) it is a refusal of its payloads, the dispatcher's to split.
 */
async function postGroups(target: BraintrustTarget, groups: ReturnType<typeof eventsByProject>): Promise<PostResult> {
  let taken = 0;
  let refused: PostResult | undefined;
  const unknown: { ref: ProjectRef; events: Json[]; why: string; status?: number }[] = [];
  const statusOf = (reason: string): number | undefined => Number(/^HTTP (\d{3})\b/.exec(reason)?.[1]) || undefined;
  for (const { ref, events } of groups.values()) {
    if (ref.bad) {
      unknown.push({ ref, events, why: 'is not a project id' });
      continue;
    }
    const project = await projectId(target, ref);
    if (!('id' in project)) {
      if (project.ok || project.retry || ref.name === BRAINTRUST_DEFAULT_PROJECT) return project;
      unknown.push({ ref, events, why: `was refused (${project.reason.slice(0, 8)})`, status: statusOf(project.reason) });
      continue;
    }
    const url = `${target.base}/project_logs/${encodeURIComponent(project.id)}/insert`;
    const result = await postClassified(url, { headers: target.headers, body: encoder.encode(JSON.stringify({ events })) }, (s) => s >= 200 && s < 300);
    if (result.ok) taken += events.length;
    else if (ref.id && /^HTTP 40[34]\b/.test(result.reason)) unknown.push({ ref, events, why: `was refused (${result.reason.slice(0, 8)})`, status: statusOf(result.reason) });
    else if (result.retry) return result;
    else refused ??= result;
  }
  if (refused) return refused;
  if (!unknown.length) return { ok: true };
  const reason = unknown.map((u) => `${projectLabel(u.ref)} ${u.why}`).join('; ');
  if (!taken) return { ok: false, retry: unknown.every((u) => u.status === 403 || u.status === 404), reason };
  for (const u of unknown) log.error(`braintrust callback: ${projectLabel(u.ref)} ${u.why}: the payloads of calls ${u.events.map((e) => String(e.id)).join(', ')} dropped`);
  const count = unknown.reduce((n, u) => n + u.events.length, 0);
  return { ok: true, dropped: `${count} payloads for projects Braintrust does not take, dropped: ${reason}` };
}

export const braintrustPoster: LoggerPoster = {
  // Braintrust takes many events an insert; kept well under its request size limit.
  maxPayloads: 100,
  maxBytes: 4 * 1024 * 1024,
  target(env: LoggerEnv) {
    const target = braintrustTarget(env);
    if ('error' in target) return target;
    return {
      where: new URL(target.base).origin,
      post: async (segments) => {
        let groups: ReturnType<typeof eventsByProject>;
        try {
          groups = eventsByProject(segments);
        } catch (err) {
          return unreadable(err);
        }
        return postGroups(target, groups);
      },
    };
  },
};
