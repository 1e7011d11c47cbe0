/** Request bodies and queries of `/organization/*` (LiteLLM's NewOrganizationRequest and friends). */
import { z } from 'zod';
import { budgetFields } from '../budgets/rows.ts';
import { id, idList, jsonObject, money, oneOrMany, stringList, text } from '../principals/fields.ts';

export const newOrganizationBody = z.object({
  organization_id: id.optional(),
  organization_alias: text,
  models: stringList.nullish(),
  /** An existing budget; without one, a budget row is created from the budget fields (every organization has one). */
  budget_id: id.nullish(),
  metadata: jsonObject.nullish(),
  ...budgetFields,
});
export type NewOrganizationBody = z.output<typeof newOrganizationBody>;

export const updateOrganizationBody = z.object({
  organization_id: id,
  organization_alias: text.nullish(),
  models: stringList.nullish(),
  budget_id: id.nullish(),
  metadata: jsonObject.nullish(),
  ...budgetFields,
});
export type UpdateOrganizationBody = z.output<typeof updateOrganizationBody>;

export const deleteOrganizationsBody = z.object({ organization_ids: idList.min(1, 'at least one organization id') });

export const organizationInfoQuery = z.object({ organization_id: id });

export const ORG_ROLES = ['org_admin', 'internal_user', 'internal_user_viewer'] as const;

export const organizationMember = z.object({
  role: z.enum(ORG_ROLES, { error: `expected one of ${ORG_ROLES.join(', ')}` }),
  user_id: id.nullish(),
  user_email: text.nullish(),
}).refine((m) => Boolean(m.user_id || m.user_email), { message: 'either user_id or user_email is required' });
export type OrganizationMemberInput = z.output<typeof organizationMember>;

export const organizationMemberAddBody = z.object({
  organization_id: id,
  member: oneOrMany(organizationMember),
  max_budget_in_organization: money.nullish(),
});

/** `/organization/member_update`: a member's role and budget in the organization. */
export const organizationMemberUpdateBody = z.object({
  organization_id: z.string().min(1),
  user_id: z.string().min(1).nullish(),
  user_email: z.string().min(1).nullish(),
  role: z.enum(ORG_ROLES, { error: `expected one of ${ORG_ROLES.join(', ')}` }).nullish(),
  max_budget_in_organization: z.number().nullish(),
});

export const organizationMemberDeleteBody = z.object({
  organization_id: z.string().min(1),
  user_id: z.string().min(1).nullish(),
  user_email: z.string().min(1).nullish(),
});
