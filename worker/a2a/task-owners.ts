/**
 * A2A tasks tied to the caller that started them. When an agent answers `message/send` or `message/stream` with
 * a task (or a message naming one) and a `contextId`, the gateway records the caller's owner for both ids (the
 * key's team, else its user, else the key; `master` for the master key: responseOwner, as stored responses and
 * files are owned) in a Durable Object per id (task-owner-object.ts). `tasks/get`, `tasks/cancel`,
 * `tasks/resubscribe` and a message naming a `taskId`, a `referenceTaskIds` entry or a recorded `contextId` of
 * another owner are then answered as an agent answers an unknown task (A2A's TaskNotFoundError), the agent not
 * called. Ids the gateway never recorded (tasks and contexts made before it kept owners, made outside it, or past
 * their TTL) are refused too: a new conversation names no context, and the agent's answer records the one it makes.
 * An answer naming an id another owner holds, or whose record cannot be written, is not delivered (fail closed).
 * The master key and proxy admins reach every task. The agent hands out the ids and sees them as they were
 * (a task method's params are only cut to the checked fields, task-id-keys.ts).
 */
import type { Caller } from '../auth/authenticate.ts';
import { cachedProxyAdmin } from '../auth/admin-only-routes.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import type { Json } from '../json.ts';
import { responseOwner } from '../providers/response-ids.ts';
import { log } from '../telemetry/log.ts';
import type { A2aTaskOwner } from './task-owner-object.ts';
import { answerIds, namedIds } from './task-ids.ts';

/** How long a task or context id stays its owner's after the last answer that named it: a week (clients expect a day at least). */
export const TASK_OWNER_TTL_MS = 7 * 86_400_000;
/** Ids one request may name at most (its task, context and referenced tasks): each is one object asked. */
export const NAMED_IDS_MAX = 16;
/** The longest task or context id the gateway records; a request naming a longer one is a bad request (route.ts). */
export const ID_CHARS_MAX = 1024;
/** An owner object that does not answer within this is a 503: never a hang. */
const OWNER_TIMEOUT_MS = 5_000;

type Kind = 'task' | 'context';
type OwnerStub = Pick<A2aTaskOwner, 'owner' | 'claim'>;

function ownerObject(env: GatewayEnv, kind: Kind, agentId: string, id: string): OwnerStub | undefined {
  const ns = env.A2A_TASKS;
  return ns ? ns.get(ns.idFromName(`${kind}:${agentId}:${id}`)) as unknown as OwnerStub : undefined;
}

async function withDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), OWNER_TIMEOUT_MS); })]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** The recorded owner of each id; null for one never recorded (or expired). Without the binding, none is recorded. */
async function ownersOf(env: GatewayEnv, agentId: string, ids: [Kind, string][]): Promise<(string | null)[]> {
  return Promise.all(ids.map(async ([kind, id]) => {
    if (id.length > ID_CHARS_MAX) return null;
    const stub = ownerObject(env, kind, agentId, id);
    return stub ? withDeadline(stub.owner()) : null;
  }));
}

/** The store's 503: an owner object (or the proxy-admin read) that cannot answer is never a pass. */
function storeUnavailable(what: string, err: unknown): GatewayError {
  log.error(`a2a task owners: ${what}:`, err instanceof Error ? err.message : String(err));
  return new GatewayError('The A2A task store is unavailable; retry shortly', { status: 503, type: 'service_unavailable', retryable: true, headers: { 'retry-after': '1' } });
}

/**
 * Whether the caller reaches every task: the master key, or a proxy admin's key (one Postgres read, its answer kept
 * 30 s per key: admin-role-cache.ts; a 503 when it fails).
 */
async function reachesEveryTask(env: GatewayEnv, caller: Caller): Promise<boolean> {
  if (caller.kind === 'master') return true;
  try {
    return await cachedProxyAdmin(env, caller);
  } catch (err) {
    throw storeUnavailable('proxy admin role unreadable', err);
  }
}

/**
 * Whether the caller may not name the ids `method` names on `agentId`: a task or context not recorded as the
 * caller's owner's (another's, or none's). The master key, and a request naming no id (a new message), ask nothing.
 * A proxy admin's key passes too (one Postgres read, only when refused). An owner object that cannot answer is a
 * 503, never a pass.
 */
export async function refusesTask(env: GatewayEnv, caller: Caller, agentId: string, method: string, params: Json): Promise<boolean> {
  if (caller.kind === 'master') return false;
  const { tasks, contexts, invalid } = namedIds(method, params);
  // An id that is no string or number (route.ts refuses it first) is no id of the caller's.
  if (invalid) return !(await reachesEveryTask(env, caller));
  if (!tasks.length && !contexts.length) return false;
  const ids: [Kind, string][] = [...tasks.map((id) => ['task', id] as [Kind, string]), ...contexts.map((id) => ['context', id] as [Kind, string])];
  let owners: (string | null)[];
  try {
    owners = await ownersOf(env, agentId, ids);
  } catch (err) {
    throw storeUnavailable(`owners of agent ${agentId} unreadable`, err);
  }
  const own = responseOwner(caller);
  const refused = owners.some((owner) => owner !== own);
  return refused && !(await reachesEveryTask(env, caller));
}

/** What recording an answer's ids came to: `ok`, `foreign` (an id is another owner's), or `failed` (not written). */
export type RecordOutcome = 'ok' | 'foreign' | 'failed';

/**
 * Records the caller's owner for the task and context an agent's answer names, before the client sees the
 * answer (so its next call, anywhere, finds them); each record lives TASK_OWNER_TTL_MS from the last answer
 * naming it. An id another owner holds stays theirs, and the answer is `foreign` (unless the caller reaches every
 * task): the caller must not get it. A record that cannot be written (or an id too long to record) is `failed`:
 * the caller would hold an id the gateway cannot tie to it, so the answer is not delivered either.
 */
export async function recordTaskOwner(env: GatewayEnv, caller: Caller, agentId: string, result: unknown): Promise<RecordOutcome> {
  const { taskId, contextId } = answerIds(result);
  const ids: [Kind, string][] = [];
  if (taskId) ids.push(['task', taskId]);
  if (contextId) ids.push(['context', contextId]);
  if (!ids.length) return 'ok';
  const owner = responseOwner(caller);
  const kept = await Promise.all(ids.map(async ([kind, id]) => {
    try {
      if (id.length > ID_CHARS_MAX) throw new Error(`id over ${ID_CHARS_MAX} characters`);
      const stub = ownerObject(env, kind, agentId, id);
      if (!stub) throw new Error('the A2A_TASKS binding is missing');
      return await withDeadline(stub.claim(owner, TASK_OWNER_TTL_MS));
    } catch (err) {
      log.error(`a2a ${kind} of agent ${agentId}: owner not recorded:`, err instanceof Error ? err.message : String(err));
      return null;
    }
  }));
  if (kept.some((k) => k === null)) return 'failed';
  if (kept.every((k) => k === owner)) return 'ok';
  try {
    return (await reachesEveryTask(env, caller)) ? 'ok' : 'foreign';
  } catch {
    return 'failed';
  }
}
