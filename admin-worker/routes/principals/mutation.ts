/**
 * How every mutation of the principals API runs: one transaction holding the
 * writes and their audit rows, then (only after commit) a push to each touched
 * entity's limiter, so the next gateway request sees the change.
 */
import { writeAudit } from '../../lib/audit.ts';
import type { AdminContext } from '../../lib/context.ts';
import type { Database } from '../../../worker/db/client.ts';
import type { GatewayError } from '../../../worker/errors.ts';
import { type EntityKind, refreshLimiter } from '../../../worker/limits/client.ts';
import { pgCode } from '../../lib/pg-error.ts';
import { log } from '../../../worker/telemetry/log.ts';

export type Tx = Parameters<Parameters<Database['db']['transaction']>[0]>[0];

/** LiteLLM's `litellm_proxy_admin_name`: who `created_by` names when the caller has no user. */
export const PROXY_ADMIN_NAME = 'default_user_id';

export interface AuditEntry {
  action: 'created' | 'updated' | 'deleted' | 'blocked' | 'unblocked';
  table: string;
  objectId: string;
  before?: unknown;
  after?: unknown;
}

export interface Changes {
  audit(entry: AuditEntry): Promise<void>;
  /** Marks an entity whose limiter must re-read its policy once the transaction commits. */
  refresh(kind: EntityKind, id: string): void;
}

/** The `litellm-changed-by` header: acting on behalf of someone else, recorded in the audit log. */
export function changedBy(c: AdminContext): string | null {
  const header = c.req.header('litellm-changed-by')?.trim();
  return header ? header.slice(0, 200) : null;
}

/** The caller's user id, or LiteLLM's admin name, for `created_by` / `updated_by` / `deleted_by`. */
export function actorName(c: AdminContext): string {
  const caller = c.get('caller');
  // A delegated key (lib/auth.ts) acts on its creator's authority, not as its user.
  if (caller.kind === 'key' && c.get('delegatedBy') !== undefined) return c.get('delegatedBy') as string;
  return (caller.kind === 'key' ? caller.policy.userId : null) ?? PROXY_ADMIN_NAME;
}

/**
 * Runs `work` in one transaction. A unique violation (a concurrent request
 * created the same id between our check and our insert) becomes the
 * caller's 400 from `onDuplicate`. A deadlock between two requests that lock
 * the same team and user rows in opposite orders is retried: Postgres rolled
 * the loser back entirely, so running `work` again is safe.
 */
export async function commit<T>(
  c: AdminContext,
  work: (tx: Tx, changes: Changes) => Promise<T>,
  options: { onDuplicate?: () => GatewayError } = {},
): Promise<T> {
  const caller = c.get('caller');
  const by = changedBy(c);
  for (let attempt = 1; ; attempt++) {
    const pending = new Map<string, [EntityKind, string]>();
    let result: T;
    try {
      result = await c.get('db')().db.transaction((tx) => work(tx, {
        audit: (entry) => writeAudit(tx, { caller, changedBy: by, ...entry }),
        refresh: (kind, id) => void pending.set(`${kind}:${id}`, [kind, id]),
      }));
    } catch (err) {
      if (options.onDuplicate && pgCode(err) === UNIQUE_VIOLATION) throw options.onDuplicate();
      if (attempt < MAX_ATTEMPTS && RETRYABLE.has(pgCode(err) ?? '')) continue;
      throw err;
    }
    await refreshAll(c, [...pending.values()]);
    return result;
  }
}

const MAX_ATTEMPTS = 3;
const UNIQUE_VIOLATION = '23505';
/** deadlock_detected, serialization_failure */
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * The change is committed whatever happens here; a limiter that cannot be
 * reached re-reads Postgres on its own schedule, so a failure is logged, not
 * turned into an error for a request that succeeded.
 */
async function refreshAll(c: AdminContext, entities: [EntityKind, string][]): Promise<void> {
  const results = await Promise.allSettled(entities.map(([kind, id]) => refreshLimiter(c.env, kind, id)));
  results.forEach((r, i) => {
    if (r.status === 'rejected') log.error(`limiter refresh failed for ${entities[i]?.join(':')}:`, r.reason instanceof Error ? r.reason.message : r.reason);
  });
}

