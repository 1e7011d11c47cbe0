/**
 * The few keys of a request's metadata that place its call in a LangSmith trace (LiteLLM's LangsmithLogger reads
 * them from the request's metadata: run name, project, run id, trace, parent, session, dotted_order). They are
 * identifiers, not content, so a payload whose `requester_metadata` is cut (message logging off for the logger,
 * or the client's metadata too large for a queue message) still carries them, and the run keeps its place.
 */
type Json = Record<string, unknown>;

export const LANGSMITH_REQUEST_KEYS = ['run_name', 'project_name', 'langsmith_project', 'id', 'run_id', 'trace_id', 'parent_run_id', 'session_id', 'dotted_order'] as const;

/** LiteLLM's BraintrustLogger routes by these (project_name is LangSmith's key too): kept through the cut alike. */
export const BRAINTRUST_REQUEST_KEYS = ['project_id', 'span_name'] as const;
/** LiteLLM's PostHogLogger counts an event for `user_id` (its distinct_id) and nests it under `parent_id` (parent_run_id is LangSmith's). */
export const POSTHOG_REQUEST_KEYS = ['user_id', 'parent_id'] as const;
/**
 * LiteLLM's DataDogLLMObsLogger places its span under `parent_id` (PostHog's key too) as `span_id`. Not its `name`:
 * a free-form client key (often a person's), so a cut span is named `litellm_llm_call`.
 */
export const DATADOG_LLM_OBS_REQUEST_KEYS = ['span_id'] as const;
/** Every key kept through the cut: a cut metadata holds only these (and `opik`). */
export const KEPT_KEYS: readonly string[] = [...LANGSMITH_REQUEST_KEYS, ...BRAINTRUST_REQUEST_KEYS, ...POSTHOG_REQUEST_KEYS, ...DATADOG_LLM_OBS_REQUEST_KEYS];

/** Longest value kept: a dotted_order grows by about 58 characters per level of nesting. */
const MAX_CHARS = 4096;

/** Tags of a request's `opik` object kept through the cut, and each tag's longest length. */
const OPIK_TAGS = 50;
const OPIK_TAG_CHARS = 256;

const keptText = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= MAX_CHARS;

/**
 * LiteLLM's OpikLogger routes by the request metadata's `opik` object (project_name, thread_id, tags,
 * current_span_data's trace and span ids) whatever message logging says: a bounded copy of it, strings only, or
 * undefined when it names none of them.
 */
export function opikRequestIds(opik: unknown): Json | undefined {
  if (!opik || typeof opik !== 'object' || Array.isArray(opik)) return undefined;
  const o = opik as Json;
  const out: Json = {};
  for (const key of ['project_name', 'thread_id'] as const) if (keptText(o[key])) out[key] = o[key];
  if (Array.isArray(o.tags)) {
    const tags = o.tags.filter((t): t is string => typeof t === 'string' && t.length <= OPIK_TAG_CHARS).slice(0, OPIK_TAGS);
    if (tags.length) out.tags = tags;
  }
  const current = o.current_span_data;
  if (current && typeof current === 'object' && !Array.isArray(current)) {
    const c = current as Json;
    const ids: Json = {};
    for (const key of ['trace_id', 'id'] as const) if (typeof c[key] === 'string' && (c[key] as string).length <= OPIK_TAG_CHARS) ids[key] = c[key];
    if (Object.keys(ids).length) out.current_span_data = ids;
  }
  return Object.keys(out).length ? out : undefined;
}

/** The request's LangSmith, Braintrust, Opik, PostHog and Datadog LLM Observability identifiers (strings only, each bounded), or undefined when it names none. */
export function langsmithRequestIds(requester: Json): Json | undefined {
  let ids: Json | undefined;
  for (const key of KEPT_KEYS) {
    const v = requester[key];
    if (keptText(v)) (ids ??= {})[key] = v;
  }
  const opik = opikRequestIds(requester.opik);
  if (opik) (ids ??= {}).opik = opik;
  return ids;
}

/**
 * `requester_metadata` for a payload: the client's metadata when it was kept whole; when it was cut (`null`, or
 * bounded-json's `{truncated, original_chars, head}`), that with the LangSmith, Braintrust, Opik, PostHog and Datadog LLM Observability identifiers beside it.
 */
export function requesterMetadataOf(requester: Json, kept: unknown): unknown {
  if (kept === requester) return kept;
  const ids = langsmithRequestIds(requester);
  if (!ids) return kept;
  return kept && typeof kept === 'object' ? { ...(kept as Json), ...ids } : ids;
}
