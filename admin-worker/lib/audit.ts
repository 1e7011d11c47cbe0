import { auditLog } from '../../drizzle/schema/admin.ts';
import type { Caller } from '../../worker/auth/authenticate.ts';
import type { Database } from '../../worker/db/client.ts';

type Tx = Parameters<Parameters<Database['db']['transaction']>[0]>[0];

/** Fields never written to the audit log, whatever object they sit in. */
const SECRET_FIELDS = new Set([
  'key', 'token', 'api_key', 'password', 'new_key', 'new_master_key', 'credential_values', 'aws_secret_access_key', 'vertex_credentials',
  // A key's or team's own logging credentials (`metadata.logging[].callback_vars`, `callback_settings.callback_vars`).
  'langfuse_secret_key', 'langfuse_secret', 'langsmith_api_key', 'gcs_path_service_account', 'posthog_api_key', 'arize_api_key', 'arize_space_key',
]);

/** A copy without secrets, for before/after values. */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELDS.has(k) ? '[redacted]' : withoutSecrets(v);
  return out;
}

/** `litellm_settings.store_audit_logs: false` turns the audit log off; set from the config on every admin request (adminAuth). */
let storeAuditLogs = true;
export function setAuditLogging(on: boolean): void {
  storeAuditLogs = on;
}

/**
 * One row of LiteLLM_AuditLog per mutation, in the mutation's transaction
 * (none with `store_audit_logs: false`):
 * who (the caller's key hash, or the `litellm-changed-by` header), what
 * object, and its value before and after, without secrets.
 */
export async function writeAudit(tx: Tx, entry: {
  caller: Caller;
  changedBy?: string | null;
  action: 'created' | 'updated' | 'deleted' | 'blocked' | 'unblocked' | 'regenerated';
  table: string;
  objectId: string;
  before?: unknown;
  after?: unknown;
}): Promise<void> {
  if (!storeAuditLogs) return;
  await tx.insert(auditLog).values({
    changed_by: entry.changedBy ?? (entry.caller.kind === 'master' ? 'master_key' : entry.caller.policy.userId ?? entry.caller.token),
    changed_by_api_key: entry.caller.token,
    action: entry.action,
    table_name: entry.table,
    object_id: entry.objectId,
    before_value: (withoutSecrets(entry.before ?? null) ?? null) as never,
    updated_values: (withoutSecrets(entry.after ?? null) ?? null) as never,
  });
}
