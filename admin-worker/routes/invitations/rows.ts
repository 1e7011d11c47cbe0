/** The invitation-link rows and answers both the admin routes and the onboarding routes use. */
import { eq } from 'drizzle-orm';
import { type InvitationLinkRow, invitationLinks } from '../../../drizzle/schema/invitations.ts';
import { hashKey } from '../../../worker/auth/secrets.ts';
import type { Json } from '../../lib/serialize.ts';
import { badRequest } from '../../lib/validation.ts';
import type { Changes, Tx } from '../principals/mutation.ts';

export const TABLE = 'LiteLLM_InvitationLink';

/** How long a link stays claimable: LiteLLM's seven days. */
const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** A link as LiteLLM's InvitationModel answers it. */
export function invitationJson(row: InvitationLinkRow): Json {
  return {
    id: row.id,
    user_id: row.user_id,
    is_accepted: row.is_accepted,
    accepted_at: row.accepted_at?.toISOString() ?? null,
    expires_at: row.expires_at.toISOString(),
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    updated_at: row.updated_at.toISOString(),
    updated_by: row.updated_by,
  };
}

/**
 * A link as its audit rows keep it: everything but the id, the link's only secret (`/audit` is readable by
 * proxy admin viewers, and the public `/onboarding/claim_token` takes the id alone).
 */
export function invitationAuditJson(row: InvitationLinkRow): Json {
  const { id: _secret, ...rest } = invitationJson(row);
  return rest;
}

/**
 * The audit rows' object id of a link: the SHA-256 hex of its id, so that whoever holds the link (its
 * creator, the invited user) can find its history while the log gives no one a claimable id.
 */
export const invitationAuditId = (id: string): Promise<string> => hashKey(id);

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `id` could be a link: every id is a gen_random_uuid(), so anything else need not reach Postgres. */
export const isLinkShaped = (id: string): boolean => UUID_SHAPE.test(id);

/** LiteLLM's 400 for an id it has no row of (it answers 400, not 404, on /invitation/info, /update and /delete). */
export const unknownInvitation = () => badRequest('Invitation id does not exist in the database.', 'invitation_id');

/** The link, locked for a change in this transaction; undefined when there is none. */
export async function lockedInvitation(tx: Tx, id: string): Promise<InvitationLinkRow | undefined> {
  const [row] = await tx.select().from(invitationLinks).where(eq(invitationLinks.id, id)).for('update');
  return row;
}

/** A new link for the user, valid seven days, audited under its hashed id. */
export async function insertInvitation(tx: Tx, changes: Changes, userId: string, actor: string): Promise<InvitationLinkRow> {
  const now = new Date();
  const [created] = await tx.insert(invitationLinks).values({
    user_id: userId, expires_at: new Date(now.getTime() + INVITATION_TTL_MS), created_at: now, created_by: actor, updated_at: now, updated_by: actor,
  }).returning() as [InvitationLinkRow];
  await changes.audit({ action: 'created', table: TABLE, objectId: await invitationAuditId(created.id), after: invitationAuditJson(created) });
  return created;
}
