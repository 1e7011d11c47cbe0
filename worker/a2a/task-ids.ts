/**
 * Where A2A requests and answers name tasks and contexts (task-owners.ts ties them to their callers): A2A 0.3's
 * JSON-RPC shapes (`kind`-tagged objects) and 1.0's (objects wrapped in their kind).
 */
import { isObject, type Json } from '../json.ts';

/** The ids a request names: the task methods' `params.id`; a message's `taskId`, `referenceTaskIds` and `contextId`. */
export interface NamedIds {
  tasks: string[];
  contexts: string[];
}

const text = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

/**
 * Each spelling of a message field an agent may read: A2A's camelCase, and the field's own snake_case name, which
 * the a2a-python SDK (validate_by_name) and ProtoJSON (A2A 1.0) accept as well. Reading only one would let a caller
 * name another's task in the spelling the gateway does not check.
 */
const SPELLINGS = { task: ['taskId', 'task_id'], references: ['referenceTaskIds', 'reference_task_ids'], context: ['contextId', 'context_id'] } as const;

/** Where kagent's go-adk finds a session when `contextId` is empty: `message.metadata`'s keys, checked as the context. */
const METADATA_CONTEXT = ['contextId', 'context_id', 'kagent_session_id'] as const;

/** The message objects a request carries: `params.message`, and A2A 1.0's proto field name `params.request`. */
function messagesOf(params: Json): Json[] {
  return [params.message, params.request].filter(isObject);
}

/** How many tasks a message references (every spelling): each is one owner record read, so route.ts bounds them. */
export function referencedCount(params: Json): number {
  let count = 0;
  for (const message of messagesOf(params)) {
    for (const key of SPELLINGS.references) {
      const refs = message[key];
      if (Array.isArray(refs)) count += refs.length;
    }
  }
  return count;
}

/**
 * The ids a request names, each to be checked against its owner (every spelling an agent may read, and the session
 * keys kagent's go-adk reads from `message.metadata` as the context). An id is a string or a number (its text);
 * anything else names no id an agent could be held to: `invalid` says where (a -32602, route.ts).
 */
export function namedIds(method: string, params: Json): NamedIds & { invalid?: string } {
  if (method.startsWith('tasks/')) {
    const id = text(params.id);
    return id === undefined ? { tasks: [], contexts: [], invalid: 'params.id' } : { tasks: [id], contexts: [] };
  }
  const tasks: string[] = [];
  const contexts: string[] = [];
  let invalid: string | undefined;
  /** Adds `value` (when set) to `into`, or notes where an id was no string or number. */
  const add = (into: string[], value: unknown, where: string) => {
    if (value === undefined || value === null) return;
    const id = text(value);
    if (id === undefined) invalid ??= where;
    else into.push(id);
  };
  for (const message of messagesOf(params)) {
    for (const key of SPELLINGS.task) add(tasks, message[key], `message.${key}`);
    for (const key of SPELLINGS.references) {
      const refs = message[key];
      if (Array.isArray(refs)) refs.forEach((ref, i) => add(tasks, ref, `message.${key}[${i}]`));
      else add(tasks, refs, `message.${key}`);
    }
    for (const key of SPELLINGS.context) add(contexts, message[key], `message.${key}`);
    if (isObject(message.metadata)) for (const key of METADATA_CONTEXT) add(contexts, message.metadata[key], `message.metadata.${key}`);
  }
  return invalid ? { tasks, contexts, invalid } : { tasks, contexts };
}

/** The task and context ids an agent's answer (a JSON-RPC `result`, or a stream event's) hands out, A2A 0.3's shapes and 1.0's. */
export function answerIds(result: unknown): { taskId?: string; contextId?: string } {
  if (!isObject(result)) return {};
  // A2A 1.0 wraps the object in its kind (`{task}`, `{message}`, `{statusUpdate}`, `{artifactUpdate}`, or by field
  // name `{status_update}`, `{artifact_update}`); 0.3 tags it (`kind`).
  const inner = [result.task, result.message, result.statusUpdate, result.artifactUpdate, result.status_update, result.artifact_update].find(isObject) ?? result;
  // An agent writing its answer by field name (snake_case) names the same ids.
  const contextId = text(inner.contextId ?? inner.context_id);
  // A message or an update names its task in taskId; a task is the object whose id it is.
  const named = ['messageId', 'message_id', 'taskId', 'task_id'].some((k) => k in inner);
  const taskId = named ? text(inner.taskId ?? inner.task_id) : text(inner.id);
  return { ...(taskId ? { taskId } : {}), ...(contextId ? { contextId } : {}) };
}
