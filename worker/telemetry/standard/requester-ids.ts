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
const KEPT_KEYS = [...LANGSMITH_REQUEST_KEYS, ...BRAINTRUST_REQUEST_KEYS];

/** Longest value kept: a dotted_order grows by about 58 characters per level of nesting. */
const MAX_CHARS = 4096;

/** The request's LangSmith and Braintrust identifiers (strings only, each bounded), or undefined when it names none. */
export function langsmithRequestIds(requester: Json): Json | undefined {
  let ids: Json | undefined;
  for (const key of KEPT_KEYS) {
    const v = requester[key];
    if (typeof v === 'string' && v !== '' && v.length <= MAX_CHARS) (ids ??= {})[key] = v;
  }
  return ids;
}

/**
 * `requester_metadata` for a payload: the client's metadata when it was kept whole; when it was cut (`null`, or
 * bounded-json's `{truncated, original_chars, head}`), that with the LangSmith identifiers beside it.
 */
export function requesterMetadataOf(requester: Json, kept: unknown): unknown {
  if (kept === requester) return kept;
  const ids = langsmithRequestIds(requester);
  if (!ids) return kept;
  return kept && typeof kept === 'object' ? { ...(kept as Json), ...ids } : ids;
}
