/**
 * POST /key/generate, /key/service-account/generate and /key/regenerate
 * (/key/{key}/regenerate): the routes that hand out a plain key, once, in
 * LiteLLM's GenerateKeyResponse.
 */
import type { LoggerEnv } from '../../queues/callbacks/loggers/types.ts';
import { eq, sql } from 'drizzle-orm';
import type { BudgetRow } from '../../../drizzle/schema/budgets.ts';
import { deprecatedVerificationTokens, type KeyRow, verificationTokens } from '../../../drizzle/schema/keys.ts';
import { abbreviateKey, hashKey, newPlainKey } from '../../../worker/auth/secrets.ts';
import { durationSeconds } from '../../../worker/limits/windows.ts';
import { writeAudit } from '../../lib/audit.ts';
import { emailKey } from '../../email/events.ts';
import { requireAdminForPrivilegedFields } from '../../lib/env-refs.ts';
import { refuseMaskedLogging } from '../../lib/secret-mask.ts';
import { checkLoggingMetadata } from '../../lib/logging-vars.ts';
import { callerUserId, isProxyAdmin } from '../../lib/auth.ts';
import { type BudgetClock, budgetClock } from '../../lib/budget-limits.ts';
import type { AdminContext } from '../../lib/context.ts';
import { badRequest, notFound, parseBody } from '../../lib/validation.ts';
import { actor, changedBy, handedOverCreator, requireAssignableUser, requireKeyManager, requireKeyOrganization, requireUnmappedKeys, requireUnprivilegedKeyUser } from './access.ts';
import { requireKeyCreator } from './creators.ts';
import { requireAdminForKeyExemptions } from './exemptions.ts';
import { checkAliasFree, checkReferences, checkValues, keyColumns, requestOnlyFields } from './fields.ts';
import { applyKeyDefaults, enforceKeyBounds, enforceTempBudgetBound, keyGovernance, sentFields } from './governance.ts';
import { generateKeySchema, type KeyFieldsInput, regenerateKeySchema } from './schemas.ts';
import { checkedKeySentBack } from './stored-key-body.ts';
import { budgetsById, findKey, keyObject, refreshKeys, tokenOf } from './store.ts';

const TABLE = 'LiteLLM_VerificationToken';

/** A custom key must look like a LiteLLM key; the message never repeats the value. */
function checkCustomKey(value: string | null | undefined, field: 'key' | 'new_key'): void {
  if (value != null && (!value.startsWith('sk-') || value.length < 8)) {
    throw badRequest(`Invalid ${field} format. LiteLLM Virtual Key must start with 'sk-' (and be at least 8 characters).`, field);
  }
}

/** GenerateKeyResponse: the row (no plain key in it) plus the plain key, shown this once. */
function generateResponse(plain: string, row: KeyRow, budget: BudgetRow | undefined, data: Omit<KeyFieldsInput, 'key'>, clock: BudgetClock): Record<string, unknown> {
  const object = keyObject(row, budget, { withToken: false, clock });
  return {
    key: plain,
    token: row.token,
    token_id: row.token,
    key_name: row.key_name,
    expires: object.expires,
    user_id: row.user_id,
    team_id: row.team_id,
    ...requestOnlyFields(data),
    ...object,
  };
}

export const generateKey = (c: AdminContext) => generate(c, false);

/**
 * LiteLLM's `/key/service-account/generate`: a key that belongs to its team
 * (required, and must exist) and to no user, so it outlives any user and is
 * held to the team's limits, not a member's. A `user_id` given is ignored.
 */
export const generateServiceAccountKey = (c: AdminContext) => generate(c, true);

async function generate(c: AdminContext, serviceAccount: boolean): Promise<Response> {
  const data = await parseBody(c, generateKeySchema);
  const sent = sentFields(data);
  if (serviceAccount) {
    if (!data.team_id) throw badRequest('team_id is required for service account keys. Please specify `team_id` in the request body.', 'team_id');
    data.user_id = null;
  }
  checkValues(data);
  requireAdminForPrivilegedFields(c, data);
  requireAdminForKeyExemptions(isProxyAdmin(c), data);
  refuseMaskedLogging(data.metadata);
  checkLoggingMetadata(data.metadata, c.env as unknown as LoggerEnv);
  checkCustomKey(data.key, 'key');
  const { db } = c.get('db')();
  const admin = isProxyAdmin(c);
  const governance = await keyGovernance(c);
  // Defaults first, so a default team or user passes the same checks as one the caller sent.
  applyKeyDefaults(data, governance.defaults, serviceAccount);
  if (!admin) await requireKeyCreator(c, db, data, sent, serviceAccount, governance);
  await requireKeyOrganization(c, db, data);
  enforceKeyBounds(data, governance.bounds, true);
  await checkReferences(db, data);
  const plain = data.key ?? newPlainKey();
  const token = await hashKey(plain);
  // LiteLLM tells a service account's key by `metadata.service_account_id` (its UI sets the alias there): the gateway's body rules do too.
  if (serviceAccount && !Object.hasOwn(data.metadata ?? {}, 'service_account_id')) {
    data.metadata = { ...data.metadata, service_account_id: data.key_alias ?? abbreviateKey(plain) };
  }
  const clock = await budgetClock(c);
  const columns = keyColumns(data, clock);
  const by = actor(c);
  // LiteLLM gives a key without a user a fresh user_id; a team admin's key is theirs; a service account's is no one's.
  const userId = serviceAccount ? null : columns.user_id ?? (admin ? crypto.randomUUID() : callerUserId(c) ?? crypto.randomUUID());

  const row = await db.transaction(async (tx) => {
    await checkAliasFree(tx, columns.key_alias, null);
    const [inserted] = await tx.insert(verificationTokens)
      .values({ blocked: false, ...columns, user_id: userId, token, key_name: abbreviateKey(plain), created_by: by, updated_by: by })
      .onConflictDoNothing()
      .returning();
    // Only a custom key can collide (a generated one has 128 random bits).
    if (!inserted) throw badRequest('A key with this value already exists', 'key');
    await tx.delete(deprecatedVerificationTokens).where(eq(deprecatedVerificationTokens.token, token));
    await writeAudit(tx, { caller: c.get('caller'), changedBy: changedBy(c), action: 'created', table: TABLE, objectId: token, after: keyObject(inserted, undefined, { withToken: false }) });
    return inserted;
  });
  await refreshKeys(c.env, [token]);
  const budget = (await budgetsById(db, [row.budget_id])).get(row.budget_id ?? '');
  const answer = generateResponse(plain, row, budget, data, clock);
  if (data.send_invite_email === true) emailKey(c, 'virtual_key_created', answer, plain, true);
  return c.json(answer);
}

/**
 * Same row, new hash: spend and settings carry over. The old hash goes to
 * LiteLLM_DeprecatedVerificationToken, pointing at the new one: it keeps
 * working until `revoke_at` with `grace_period`, stops at once without.
 */
export async function regenerateKey(c: AdminContext): Promise<Response> {
  const data = await parseBody(c, regenerateKeySchema);
  const pathKey = c.req.param('key');
  const named = pathKey ?? data.key;
  if (!named) throw badRequest('key is required: POST /key/{key}/regenerate, or "key" in the body of /key/regenerate', 'key');
  if (data.new_master_key != null) {
    throw badRequest('new_master_key is not supported: rotate the master key by changing the LITELLM_MASTER_KEY secret', 'new_master_key');
  }
  checkCustomKey(data.new_key, 'new_key');
  checkValues(data);
  const oldToken = await tokenOf(named);
  const plain = data.new_key ?? newPlainKey();
  const newToken = await hashKey(plain);
  if (newToken === oldToken) throw badRequest('new_key must differ from the current key', 'new_key');
  const graceSeconds = data.grace_period ? durationSeconds(data.grace_period) ?? 0 : 0;
  const clock = await budgetClock(c);
  const { db } = c.get('db')();
  const by = actor(c);
  const { bounds } = await keyGovernance(c);

  const { before, row, graced } = await db.transaction(async (tx) => {
    const existing = await findKey(tx, oldToken, true);
    if (!existing) throw notFound('Key not found in database');
    await requireKeyManager(c, tx, [existing.team_id, ...(data.team_id !== undefined ? [data.team_id] : [])], 'regenerate keys');
    await requireUnmappedKeys(c, tx, [existing.token], 'regenerate a key');
    const fields = checkedKeySentBack(c, { ...data, key: undefined }, existing.metadata);
    // The new plain key acts as the key's user, with that user's role: not a team admin's to take for a proxy admin's key.
    await requireUnprivilegedKeyUser(c, tx, existing.user_id, 'regenerate a key');
    if (fields.user_id !== undefined) await requireAssignableUser(c, tx, fields.user_id, fields.team_id !== undefined ? fields.team_id : existing.team_id);
    await requireKeyOrganization(c, tx, fields, existing);
    enforceKeyBounds(fields, bounds, false);
    enforceTempBudgetBound(fields, existing, bounds, clock.now);
    await checkReferences(tx, fields);
    const { now } = clock;
    const columns = keyColumns(fields, { existing, ...clock });
    if (columns.key_alias !== undefined && columns.key_alias !== existing.key_alias) await checkAliasFree(tx, columns.key_alias, oldToken);
    if (await findKey(tx, newToken)) throw badRequest('A key with this value already exists', 'new_key');
    const [updated] = await tx.update(verificationTokens)
      .set({
        ...columns, token: newToken, key_name: abbreviateKey(plain), updated_by: by,
        // Another user's key in a team admin's hands is delegated from now on.
        ...handedOverCreator(c, fields.user_id !== undefined ? fields.user_id ?? null : existing.user_id),
        rotation_count: sql`${verificationTokens.rotation_count} + 1`, last_rotation_at: now,
      })
      .where(eq(verificationTokens.token, oldToken))
      .returning();
    if (!updated) throw notFound('Key not found in database');
    // Hashes still in their grace period from earlier rotations now lead to the new hash.
    const graced = await tx.update(deprecatedVerificationTokens).set({ active_token_id: newToken })
      .where(eq(deprecatedVerificationTokens.active_token_id, oldToken))
      .returning({ token: deprecatedVerificationTokens.token });
    await tx.delete(deprecatedVerificationTokens).where(eq(deprecatedVerificationTokens.token, newToken));
    // Without a grace period the old hash is revoked at once; its row stays, pointing at the new hash, so the
    // gateway's limiter still counts what the key spent under its earlier hashes in its budget_limits windows.
    const revokeAt = new Date(now.getTime() + graceSeconds * 1000);
    await tx.insert(deprecatedVerificationTokens)
      .values({ token: oldToken, active_token_id: newToken, revoke_at: revokeAt })
      .onConflictDoUpdate({ target: deprecatedVerificationTokens.token, set: { active_token_id: newToken, revoke_at: revokeAt } });
    await writeAudit(tx, {
      caller: c.get('caller'), changedBy: changedBy(c), action: 'regenerated', table: TABLE, objectId: newToken,
      before: keyObject(existing, undefined, { withToken: false }),
      after: { ...keyObject(updated, undefined, { withToken: false }), grace_period: data.grace_period ?? null },
    });
    return { before: existing, row: updated, graced: graced.map((g) => g.token) };
  });
  await refreshKeys(c.env, [before.token, row.token, ...graced]);
  const budget = (await budgetsById(db, [row.budget_id])).get(row.budget_id ?? '');
  const answer = generateResponse(plain, row, budget, data, clock);
  // LiteLLM emails a rotated key's user whenever an email callback is on, whatever the request says.
  emailKey(c, 'virtual_key_rotated', answer, plain, false);
  return c.json(answer);
}
