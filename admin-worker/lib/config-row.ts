/**
 * Writes one LiteLLM_Config settings row (`router_settings`, `general_settings`), the rows LiteLLM's admin UI and the
 * gateway read too, with its audit row in the same transaction.
 */
import { eq } from 'drizzle-orm';
import { litellmConfig } from '../../drizzle/schema/admin.ts';
import { GatewayError } from '../../worker/errors.ts';
import { generalSettingsOf } from '../../worker/telemetry/email/event-settings.ts';
import { writeAudit } from './audit.ts';
import type { AdminContext } from './context.ts';

/** What one change of a row audits: the object named and its values before and after (secrets are the caller's to leave out). */
export interface ConfigRowAudit { objectId: string; before: unknown; after: unknown }

/** A row whose value is no mapping (not JSON, a list, a scalar); its value is not shown: it may hold secrets. */
const unreadableRow = (name: string) => new GatewayError(
  `LiteLLM_Config row "${name}" is not a settings mapping (its param_value is neither an object nor an object's JSON): nothing was changed; fix or delete the row first`,
  { status: 500, type: 'internal_server_error' },
);

/**
 * Replaces row `name`'s settings with `change(settings)` in one transaction with its audit row: the row is created
 * if missing and locked before it is read, so concurrent writes (of any of its settings) apply one after the other
 * and none is lost. `auditOf` gives the audit row, or undefined when nothing changed: then nothing is written. A row
 * holding no mapping is refused (500), not overwritten: what LiteLLM (or a hand) wrote there is not ours to replace.
 */
export async function updateConfigRow(
  c: AdminContext,
  name: string,
  change: (settings: Record<string, unknown>) => Record<string, unknown>,
  auditOf: (before: Record<string, unknown>, after: Record<string, unknown>) => ConfigRowAudit | undefined,
): Promise<void> {
  await c.get('db')().db.transaction(async (tx) => {
    await tx.insert(litellmConfig).values({ param_name: name, param_value: {} }).onConflictDoNothing();
    const [row] = await tx.select({ value: litellmConfig.param_value }).from(litellmConfig).where(eq(litellmConfig.param_name, name)).for('update');
    const before = generalSettingsOf(row?.value);
    if (!before) throw unreadableRow(name);
    const after = change({ ...before });
    const audit = auditOf(before, after);
    if (!audit) return;
    await tx.update(litellmConfig).set({ param_value: after }).where(eq(litellmConfig.param_name, name));
    await writeAudit(tx, { caller: c.get('caller'), changedBy: c.req.header('litellm-changed-by'), action: 'updated', table: 'LiteLLM_Config', ...audit });
  });
}
