/** Invitation links (`/invitation/*`, `/onboarding/*`): LiteLLM's LiteLLM_InvitationLink. */
import { boolean, foreignKey, index, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, ts, updatedAt, uuidPk } from './columns.ts';
import { users } from './principals.ts';

/**
 * One link inviting an existing user to set a password and onboard. Its id is the link's secret. Unlike
 * LiteLLM, `created_by` / `updated_by` reference no user (the master key acts as `default_user_id`, which
 * need not exist), and deleting the invited user deletes its links (a user with links stays deletable).
 */
export const invitationLinks = pgTable(
  'LiteLLM_InvitationLink',
  {
    id: uuidPk(),
    user_id: text().notNull(),
    is_accepted: boolean().notNull().default(false),
    accepted_at: ts(),
    expires_at: ts().notNull(),
    created_at: createdAt(),
    created_by: text().notNull(),
    updated_at: updatedAt(),
    updated_by: text().notNull(),
  },
  (t) => [
    foreignKey({ name: 'LiteLLM_InvitationLink_user_id_fkey', columns: [t.user_id], foreignColumns: [users.user_id] }).onDelete('cascade'),
    index('LiteLLM_InvitationLink_user_id_idx').on(t.user_id),
  ],
);
export type InvitationLinkRow = typeof invitationLinks.$inferSelect;
