/**
 * What of a client's A2A params reaches the agent, so that every id the agent may read is one task-owners.ts
 * checked. Agents do not all read keys as written: a2a-go (Go's encoding/json) matches a key whatever its case
 * (`TaskId`, `ID`, `Metadata`), the a2a-python SDK takes snake_case names too, and kagent's go-adk takes a session
 * from `message.metadata` (`contextId`, `context_id`, `kagent_session_id`). A task method's params are therefore
 * rebuilt from the fields the gateway checked; a message's are refused (-32602) when they carry an id-like key in a
 * spelling the gateway does not check.
 */
import { isObject, type Json } from '../json.ts';

/**
 * A key as a lenient agent matches it: Unicode-folded (NFKC turns `ſ` and the Kelvin sign into `s` and `K`, as
 * Go's case folding matches them), lowercased, `_` and `-` removed.
 */
export const foldedKey = (key: string): string => key.normalize('NFKC').toLowerCase().replace(/[_-]/g, '');

/** The folded keys that name a task, a context or a session, or hold the objects that do. */
const ID_LIKE = new Set(['id', 'taskid', 'contextid', 'referencetaskids', 'sessionid', 'kagentsessionid', 'message', 'request', 'metadata']);

/** The exact spellings the gateway reads (task-ids.ts), per object: any other id-like key there is refused. */
const CHECKED = {
  params: new Set(['message', 'request', 'metadata']),
  message: new Set(['taskId', 'task_id', 'referenceTaskIds', 'reference_task_ids', 'contextId', 'context_id', 'metadata']),
  // go-adk's session keys, read as the message's context by task-ids.ts.
  messageMetadata: new Set(['contextId', 'context_id', 'kagent_session_id']),
  none: new Set<string>(),
} as const;

/** The first key of `object` an agent could read as an id the gateway does not check, or undefined. */
function strayKey(object: Json, checked: ReadonlySet<string>): string | undefined {
  return Object.keys(object).find((key) => ID_LIKE.has(foldedKey(key)) && !checked.has(key));
}

/**
 * The path of an id-like key a message's params carry in a spelling the gateway does not check (`params.ID`,
 * `params.message.TaskId`, `params.message.metadata.session_id`, ...), or undefined: such a request is refused
 * (-32602), never sent with an id no owner check saw. Task methods' params are rebuilt instead (taskParams).
 */
export function strayIdKey(params: Json): string | undefined {
  const top = strayKey(params, CHECKED.params);
  if (top) return `params.${top}`;
  if (isObject(params.metadata)) {
    const key = strayKey(params.metadata, CHECKED.none);
    if (key) return `params.metadata.${key}`;
  }
  for (const field of ['message', 'request'] as const) {
    const message = params[field];
    if (!isObject(message)) continue;
    const key = strayKey(message, CHECKED.message);
    if (key) return `params.${field}.${key}`;
    if (isObject(message.metadata)) {
      const inner = strayKey(message.metadata, CHECKED.messageMetadata);
      if (inner) return `params.${field}.metadata.${inner}`;
    }
  }
  return undefined;
}

/**
 * A task method's params as the agent gets them: only `id` (the one checked), `historyLength` and `metadata`,
 * whatever else the client sent (an `ID` an agent would read over `id` is dropped). `metadata` holding an id-like
 * key is refused by the caller (taskMetadataStray) rather than sent.
 */
export function taskParams(params: Json): Json {
  const out: Json = { id: params.id };
  const history = params.historyLength ?? params.history_length;
  if (typeof history === 'number') out.historyLength = history;
  if (isObject(params.metadata)) out.metadata = params.metadata;
  return out;
}

/** The id-like key in a task method's `metadata` (`params.metadata.contextId`, ...), or undefined: refused (-32602). */
export function taskMetadataStray(params: Json): string | undefined {
  const key = isObject(params.metadata) ? strayKey(params.metadata, CHECKED.none) : undefined;
  return key ? `params.metadata.${key}` : undefined;
}
