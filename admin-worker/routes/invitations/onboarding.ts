/**
 * `/onboarding/*`, LiteLLM's claim of an invitation link (`/invitation/new`). Public, as LiteLLM serves
 * them: the invited user has no key yet, and the link's id (a random UUID) is what proves the invitation.
 *
 * LiteLLM's `get_token` opens an admin-UI session (a 24-hour key inside a signed `token`, and a `login_url`);
 * Tollgate has no UI, so it answers who the link is for and until when, and mints no key. `claim_token` is
 * LiteLLM's: it sets the user's password (hashed as LiteLLM hashes it, SHA-256) and marks the link accepted,
 * in one transaction, answering the user without its password. An unknown, expired or accepted link is
 * LiteLLM's 401 and changes nothing; so is, at claim time, a link whose creator may no longer act for its
 * user (invitations/access.ts). An id not shaped like a link (a UUID) is refused before the database opens,
 * and a link that cannot be claimed by the user named before any row is locked.
 */
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { type InvitationLinkRow, invitationLinks } from '../../../drizzle/schema/invitations.ts';
import { users, type UserRow } from '../../../drizzle/schema/principals.ts';
import { hashKey } from '../../../worker/auth/secrets.ts';
import { openDatabase, type Database } from '../../../worker/db/client.ts';
import { GatewayError } from '../../../worker/errors.ts';
import { gatewayState } from '../../../worker/state.ts';
import { setAuditLogging, writeAudit } from '../../lib/audit.ts';
import type { AdminBindings } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { userJson } from '../../lib/serialize.ts';
import { parseBody, parseQuery } from '../../lib/validation.ts';
import { id, text } from '../principals/fields.ts';
import { findUser } from '../users/store.ts';
import { creatorStillInvites } from './access.ts';
import { invitationAuditId, invitationAuditJson, isLinkShaped, lockedInvitation, TABLE } from './rows.ts';

export const onboardingRoutes = new Hono<AdminBindings>();

const TAG = 'invitation links';
const getTokenQuery = z.object({ invite_link: id });
const claimBody = z.object({
  invitation_link: id,
  user_id: id,
  password: text.min(1, 'must not be empty').max(1024, 'at most 1024 characters'),
});

/** No key authenticates these routes (adminAuth does not run): they open the database themselves. */
const withDatabase = createMiddleware<AdminBindings>(async function withDatabase(c, next) {
  const state = await gatewayState(c.env);
  setAuditLogging(state.config.litellm_settings.store_audit_logs !== false);
  let database: Database | undefined;
  c.set('db', () => (database ??= openDatabase(c.env)));
  try {
    await next();
  } finally {
    if (database) c.executionCtx.waitUntil(database.close());
  }
});
onboardingRoutes.use('/onboarding/*', withDatabase);

const refused = (message: string) => new GatewayError(message, { status: 401, type: 'auth_error' });
const UNKNOWN_LINK = 'Invitation link does not exist in db.';

/** LiteLLM's 401 for an unknown link, without a database round trip for an id no link can have. */
function requireLinkShaped(id: string): void {
  if (!isLinkShaped(id)) throw refused(UNKNOWN_LINK);
}

/** LiteLLM's refusals of a link that cannot be claimed, in its order: unknown, used, expired. */
function requireClaimable(row: InvitationLinkRow | undefined): asserts row is InvitationLinkRow {
  if (!row) throw refused(UNKNOWN_LINK);
  if (row.is_accepted) throw refused('Invitation link has already been used.');
  if (row.expires_at.getTime() <= Date.now()) throw refused('Invitation link has expired.');
}

/** LiteLLM's refusal of a link claimed for another user than its own. */
function requireLinkUser(link: InvitationLinkRow, userId: string): void {
  if (link.user_id !== userId) {
    throw refused(`Invalid invitation link. The user id submitted does not match the user id this link is attached to. Got=${userId}, Expected=${link.user_id}`);
  }
}

describeRoute({ method: 'get', path: '/onboarding/get_token', summary: 'Who an unclaimed invitation link is for (no key needed)', tag: TAG, query: getTokenQuery });
onboardingRoutes.get('/onboarding/get_token', async (c) => {
  const { invite_link: link } = parseQuery(c, getTokenQuery);
  requireLinkShaped(link);
  const { db } = c.get('db')();
  const [row] = await db.select().from(invitationLinks).where(eq(invitationLinks.id, link));
  requireClaimable(row);
  const user = await findUser(db, row.user_id);
  if (!user) throw refused('User does not exist in db.');
  return c.json({ user_id: user.user_id, user_email: user.user_email, user_role: user.user_role, expires_at: row.expires_at.toISOString() });
});

describeRoute({ method: 'post', path: '/onboarding/claim_token', summary: "Claim an invitation link: set its user's password and mark the link accepted (no key needed)", tag: TAG, body: claimBody });
onboardingRoutes.post('/onboarding/claim_token', async (c) => {
  const body = await parseBody(c, claimBody);
  requireLinkShaped(body.invitation_link);
  const password = await hashKey(body.password);
  const { db } = c.get('db')();
  // A plain read first: a link that cannot be claimed (or is another user's) is refused before any row is
  // locked, so a public caller cannot hold a user row of its choosing locked with made-up links.
  const [unlocked] = await db.select().from(invitationLinks).where(eq(invitationLinks.id, body.invitation_link));
  requireClaimable(unlocked);
  requireLinkUser(unlocked, body.user_id);
  const user = await db.transaction(async (tx) => {
    // The user before the link, in /user/delete's order (it locks the user, then its links go by cascade):
    // the other order deadlocks against a concurrent delete.
    const invitee = await findUser(tx, body.user_id, { forUpdate: true });
    const link = await lockedInvitation(tx, body.invitation_link);
    requireClaimable(link);
    requireLinkUser(link, body.user_id);
    if (!invitee) throw refused('User does not exist in db.');
    if (!await creatorStillInvites(tx, link.created_by, invitee)) {
      throw refused(`Invitation link is no longer valid: its creator (${link.created_by}) may no longer set this user's password.`);
    }
    const now = new Date();
    const [updatedUser] = await tx.update(users).set({ password, updated_at: now }).where(eq(users.user_id, link.user_id)).returning() as UserRow[];
    if (!updatedUser) throw refused('User does not exist in db.');
    const [accepted] = await tx.update(invitationLinks).set({ is_accepted: true, accepted_at: now, updated_at: now, updated_by: link.user_id })
      .where(eq(invitationLinks.id, link.id)).returning() as [InvitationLinkRow];
    // No key makes the claim: the rows name the invited user as who changed them.
    const audit = { caller: { kind: 'master', token: '' } as const, changedBy: link.user_id };
    await writeAudit(tx, { ...audit, action: 'updated', table: 'LiteLLM_UserTable', objectId: link.user_id, after: { user_id: link.user_id, password: 'set' } });
    await writeAudit(tx, { ...audit, action: 'updated', table: TABLE, objectId: await invitationAuditId(link.id), before: invitationAuditJson(link), after: invitationAuditJson(accepted) });
    return updatedUser;
  });
  return c.json(userJson(user));
});
