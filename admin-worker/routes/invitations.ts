/**
 * `/invitation/*`, LiteLLM's invitation links: a link (its id) lets an existing user set a password and
 * onboard (`/onboarding/*`, invitations/onboarding.ts). Links expire after seven days; claiming one marks
 * it accepted, and an accepted or expired link claims nothing. Proxy admins manage every link; team and
 * organization admins those of their own users (invitations/access.ts); viewers read them.
 */
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { type InvitationLinkRow, invitationLinks } from '../../drizzle/schema/invitations.ts';
import { users } from '../../drizzle/schema/principals.ts';
import { isAdminReader } from '../lib/auth.ts';
import type { AdminBindings } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { badRequest, parseBody, parseQuery } from '../lib/validation.ts';
import { requireInviter } from './invitations/access.ts';
import {
  insertInvitation, invitationAuditId, invitationAuditJson, invitationJson, lockedInvitation, TABLE, unknownInvitation,
} from './invitations/rows.ts';
import { id } from './principals/fields.ts';
import { actorName, commit, type Tx } from './principals/mutation.ts';
import { findUser } from './users/store.ts';

export const invitationsRoutes = new Hono<AdminBindings>();

const TAG = 'invitation links';
const newInvitationBody = z.object({ user_id: id });
const invitationQuery = z.object({ invitation_id: id });
const updateInvitationBody = z.object({ invitation_id: id, is_accepted: z.boolean({ error: 'expected true or false' }) });
const deleteInvitationBody = z.object({ invitation_id: id });

/** The invited user, for the access check; the link's foreign key keeps it from being gone. */
async function invitedUser(tx: Tx, row: InvitationLinkRow) {
  const user = await findUser(tx, row.user_id);
  if (!user) throw unknownInvitation();
  return user;
}

describeRoute({ method: 'post', path: '/invitation/new', summary: 'Create a link (valid seven days) for an existing user to set a password with /onboarding/claim_token', tag: TAG, body: newInvitationBody });
invitationsRoutes.post('/invitation/new', async (c) => {
  const { user_id: userId } = await parseBody(c, newInvitationBody);
  const actor = actorName(c);
  const row = await commit(c, async (tx, changes) => {
    // Key-share locked: a concurrent /user/delete either waits for this link (and then deletes it with
    // the user) or has deleted the user first (and this is the 400), never a foreign-key 500.
    const [user] = await tx.select().from(users).where(eq(users.user_id, userId)).for('key share');
    if (!user) throw badRequest("User id does not exist in 'LiteLLM_UserTable'. Fix this by creating user via `/user/new`.", 'user_id');
    await requireInviter(c, tx, user, 'create invitation links');
    return await insertInvitation(tx, changes, userId, actor);
  });
  return c.json(invitationJson(row));
});

// The answer carries the link's id as LiteLLM's does: a caller gets back only the id it sent, so even a
// viewer learns no link it did not hold (the audit log, the other read path, keeps no ids: rows.ts).
describeRoute({ method: 'get', path: '/invitation/info', summary: 'One invitation link by id', tag: TAG, query: invitationQuery });
invitationsRoutes.get('/invitation/info', async (c) => {
  const { invitation_id: invitationId } = parseQuery(c, invitationQuery);
  const row = await commit(c, async (tx) => {
    const [found] = await tx.select().from(invitationLinks).where(eq(invitationLinks.id, invitationId));
    if (!found) throw unknownInvitation();
    if (!isAdminReader(c)) await requireInviter(c, tx, await invitedUser(tx, found), 'view invitation links');
    return found;
  });
  return c.json(invitationJson(row));
});

describeRoute({ method: 'post', path: '/invitation/update', summary: 'Mark a link accepted (it then claims nothing) or not accepted', tag: TAG, body: updateInvitationBody });
invitationsRoutes.post('/invitation/update', async (c) => {
  const body = await parseBody(c, updateInvitationBody);
  const actor = actorName(c);
  const row = await commit(c, async (tx, changes) => {
    const existing = await lockedInvitation(tx, body.invitation_id);
    if (!existing) throw unknownInvitation();
    await requireInviter(c, tx, await invitedUser(tx, existing), 'update invitation links');
    const now = new Date();
    const [updated] = await tx.update(invitationLinks).set({
      is_accepted: body.is_accepted,
      accepted_at: body.is_accepted ? now : null,
      updated_at: now,
      updated_by: actor,
    }).where(eq(invitationLinks.id, existing.id)).returning() as [InvitationLinkRow];
    await changes.audit({ action: 'updated', table: TABLE, objectId: await invitationAuditId(updated.id), before: invitationAuditJson(existing), after: invitationAuditJson(updated) });
    return updated;
  });
  return c.json(invitationJson(row));
});

describeRoute({ method: 'post', path: '/invitation/delete', summary: 'Delete an invitation link; answered with the deleted link', tag: TAG, body: deleteInvitationBody });
invitationsRoutes.post('/invitation/delete', async (c) => {
  const { invitation_id: invitationId } = await parseBody(c, deleteInvitationBody);
  const row = await commit(c, async (tx, changes) => {
    const existing = await lockedInvitation(tx, invitationId);
    if (!existing) throw unknownInvitation();
    await requireInviter(c, tx, await invitedUser(tx, existing), 'delete invitation links');
    await tx.delete(invitationLinks).where(eq(invitationLinks.id, existing.id));
    await changes.audit({ action: 'deleted', table: TABLE, objectId: await invitationAuditId(existing.id), before: invitationAuditJson(existing) });
    return existing;
  });
  return c.json(invitationJson(row));
});
