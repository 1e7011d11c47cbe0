/**
 * Deleting keys as a side effect of deleting their team, user or
 * organization: LiteLLM deletes them too. Each is copied to
 * LiteLLM_DeletedVerificationToken first, audited, and its limiter told.
 */
import type { SQL } from 'drizzle-orm';
import { deletedVerificationTokens, type KeyRow, verificationTokens } from '../../../drizzle/schema/keys.ts';
import type { AdminContext } from '../../lib/context.ts';
import { keyJson } from '../../lib/serialize.ts';
import { actorName, type Changes, changedBy, type Tx } from './mutation.ts';

export async function removeKeys(c: AdminContext, tx: Tx, changes: Changes, where: SQL): Promise<KeyRow[]> {
  const removed = await tx.delete(verificationTokens).where(where).returning();
  if (removed.length === 0) return removed;
  const deletedBy = actorName(c);
  await tx.insert(deletedVerificationTokens).values(removed.map((key) => ({
    ...key,
    deleted_by: deletedBy,
    deleted_by_api_key: c.get('caller').token,
    litellm_changed_by: changedBy(c),
  })));
  for (const key of removed) {
    await changes.audit({ action: 'deleted', table: 'LiteLLM_VerificationToken', objectId: key.token, before: keyJson(key) });
    changes.refresh('key', key.token);
  }
  return removed;
}
