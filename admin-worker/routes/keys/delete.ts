/**
 * POST /key/delete: every named key, or none. Each row is copied to
 * LiteLLM_DeletedVerificationToken and removed in one transaction; hashes in
 * a grace period that lead to a deleted key go with it.
 */
import { inArray } from 'drizzle-orm';
import { callerUserId } from '../../lib/auth.ts';
import { deletedVerificationTokens, deprecatedVerificationTokens, type KeyRow, verificationTokens } from '../../../drizzle/schema/keys.ts';
import { abbreviateKey } from '../../../worker/auth/secrets.ts';
import { writeAudit } from '../../lib/audit.ts';
import type { AdminContext } from '../../lib/context.ts';
import { notFound, parseBody } from '../../lib/validation.ts';
import { changedBy, requireKeyManager, requireUnmappedKeys } from './access.ts';
import { deleteKeysSchema } from './schemas.ts';
import { findKeysByAlias, keyObject, refreshKeys, tokenOf } from './store.ts';

/** How a missing key is named in a message: never the plain key. */
const shown = (value: string) => (/^[0-9a-f]{64}$/i.test(value) ? value : abbreviateKey(value));

export async function deleteKeys(c: AdminContext): Promise<Response> {
  const data = await parseBody(c, deleteKeysSchema);
  const keys = data.keys ?? [];
  const aliases = data.key_aliases ?? [];
  const tokens = await Promise.all(keys.map(tokenOf));
  const { db } = c.get('db')();
  const caller = c.get('caller');
  const affected = await db.transaction(async (tx) => {
    const byToken = tokens.length
      ? await tx.select().from(verificationTokens).where(inArray(verificationTokens.token, tokens)).for('update')
      : [];
    const missingKeys = keys.filter((_, i) => !byToken.some((r) => r.token === tokens[i]));
    if (missingKeys.length) throw notFound(`Key not found in database: ${missingKeys.map(shown).join(', ')}`);
    const byAlias = await findKeysByAlias(tx, aliases, true);
    const missingAliases = aliases.filter((a) => !byAlias.some((r) => r.key_alias === a));
    if (missingAliases.length) throw notFound(`Key not found in database: key_alias=${missingAliases.join(', ')}`);
    const all = new Map<string, KeyRow>([...byToken, ...byAlias].map((r) => [r.token, r]));
    const targets = [...all.values()];
    // A user may delete their own keys (as in LiteLLM); other keys need a proxy admin or their team's admin.
    const me = callerUserId(c);
    const others = targets.filter((r) => me === null || r.user_id !== me);
    if (others.length) await requireKeyManager(c, tx, others.map((r) => r.team_id), 'delete keys');
    // Their own keys too: a key a JWT is mapped to is a proxy admin's to remove.
    await requireUnmappedKeys(c, tx, targets.map((r) => r.token), 'delete a key');

    const by = changedBy(c);
    const deletedBy = caller.kind === 'master' ? 'default_user_id' : me;
    await tx.insert(deletedVerificationTokens).values(targets.map((r) => ({
      ...r, deleted_by: deletedBy, deleted_by_api_key: caller.token, litellm_changed_by: by,
    })));
    const hashes = targets.map((r) => r.token);
    await tx.delete(verificationTokens).where(inArray(verificationTokens.token, hashes));
    const graced = await tx.delete(deprecatedVerificationTokens)
      .where(inArray(deprecatedVerificationTokens.active_token_id, hashes))
      .returning({ token: deprecatedVerificationTokens.token });
    for (const r of targets) {
      await writeAudit(tx, {
        caller, changedBy: by, action: 'deleted', table: 'LiteLLM_VerificationToken', objectId: r.token,
        before: keyObject(r, undefined, { withToken: false }),
      });
    }
    return [...hashes, ...graced.map((g) => g.token)];
  });
  await refreshKeys(c.env, affected);
  // As passed, as LiteLLM answers (the caller's own input, not read back from the database).
  return c.json({ deleted_keys: [...keys, ...aliases] });
}
