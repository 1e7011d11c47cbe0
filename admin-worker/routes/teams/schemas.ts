/** Request bodies and queries of `/team/*` (LiteLLM's NewTeamRequest, UpdateTeamRequest, ...). */
import { z } from 'zod';
import { budgetLimits, duration, flag, id, idList, jsonObject, limit, modelLimits, money, oneOrMany, queryInt, stringList, teamMember, text } from '../principals/fields.ts';

/** Fields a team can be created with and updated; `null` on update clears one. */
const teamFields = {
  team_alias: text.nullish(),
  organization_id: id.nullish(),
  metadata: jsonObject.nullish(),
  tpm_limit: limit.nullish(),
  rpm_limit: limit.nullish(),
  max_parallel_requests: limit.nullish(),
  max_budget: money.nullish(),
  soft_budget: money.nullish(),
  budget_duration: duration.nullish(),
  /** LiteLLM's several budget windows at once; each entry's `reset_at` is the server's. */
  budget_limits: budgetLimits.nullish(),
  models: stringList.nullish(),
  blocked: flag.nullish(),
  model_aliases: z.record(text, text, { error: 'expected {"<alias>": "<model>"}' }).nullish(),
  /** LiteLLM keeps these in `metadata`. */
  tags: stringList.nullish(),
  guardrails: stringList.nullish(),
  /** The MCP servers the team's keys may use (`mcp_servers`, `mcp_access_groups`); proxy admins only. */
  object_permission: jsonObject.nullish(),
  model_rpm_limit: modelLimits.nullish(),
  model_tpm_limit: modelLimits.nullish(),
  model_max_budget: jsonObject.nullish(),
};

export const TEAM_MONEY_FIELDS = ['max_budget', 'soft_budget'] as const;

export const newTeamBody = z.object({
  team_id: id.optional(),
  admins: stringList.nullish(),
  members: stringList.nullish(),
  members_with_roles: z.array(teamMember, { error: 'expected a list of {role, user_id | user_email}' }).nullish(),
  ...teamFields,
});
export type NewTeamBody = z.output<typeof newTeamBody>;

export const updateTeamBody = z.object({ team_id: id, ...teamFields });
export type UpdateTeamBody = z.output<typeof updateTeamBody>;

export const teamIdBody = z.object({ team_id: id });

/** `/team/model/add` and `/team/model/delete`: model groups (or access groups) to add to or take from a team's list. */
export const teamModelsBody = z.object({ team_id: id, models: z.array(z.string().min(1)).min(1, 'at least one model') });

const callbackVar = text.min(1, 'must not be empty').max(2048, 'at most 2048 characters');

/**
 * `/team/{team_id}/callback` (LiteLLM's AddTeamCallback). The variables are those of the team callbacks with
 * settings of their own here: Langfuse's, LangSmith's, GCS's, Arize's and PostHog's (others are refused as unknown); each must
 * belong to the callback named (callback-settings.ts checkCallback).
 */
export const teamCallbackBody = z.object({
  callback_name: id,
  callback_type: z.enum(['success', 'failure', 'success_and_failure'], { error: 'expected "success", "failure" or "success_and_failure"' }).nullish(),
  callback_vars: z.strictObject({
    langfuse_public_key: callbackVar.optional(),
    langfuse_secret_key: callbackVar.optional(),
    langfuse_secret: callbackVar.optional(),
    langfuse_host: callbackVar.optional(),
    langsmith_api_key: callbackVar.optional(),
    langsmith_project: callbackVar.optional(),
    langsmith_base_url: callbackVar.optional(),
    gcs_bucket_name: callbackVar.optional(),
    // A service account key's JSON is longer than the other variables.
    gcs_path_service_account: text.min(1, 'must not be empty').max(16_384, 'at most 16384 characters').optional(),
    arize_api_key: callbackVar.optional(),
    arize_space_key: callbackVar.optional(),
    arize_space_id: callbackVar.optional(),
    posthog_api_key: callbackVar.optional(),
    posthog_api_url: callbackVar.optional(),
  }, { error: 'expected {langfuse_public_key, langfuse_secret_key, langfuse_host}, {langsmith_api_key, langsmith_project, langsmith_base_url}, {gcs_bucket_name, gcs_path_service_account}, {arize_api_key, arize_space_id, arize_space_key} or {posthog_api_key, posthog_api_url}' }).default({}),
});
export type TeamCallbackBody = z.output<typeof teamCallbackBody>;

export const deleteTeamsBody = z.object({ team_ids: idList.min(1, 'at least one team id') });

export const memberAddBody = z.object({
  team_id: id,
  member: oneOrMany(teamMember),
  max_budget_in_team: money.nullish(),
});

export const memberUpdateBody = z.object({
  team_id: id,
  user_id: id.nullish(),
  user_email: text.nullish(),
  role: z.enum(['admin', 'user'], { error: 'expected "admin" or "user"' }).nullish(),
  max_budget_in_team: money.nullish(),
});

export const memberDeleteBody = z.object({
  team_id: id,
  user_id: id.nullish(),
  user_email: text.nullish(),
});

export const teamInfoQuery = z.object({ team_id: id });

export const teamListQuery = z.object({ user_id: id.optional(), organization_id: id.optional() });

/** `/v2/team/list`: the admin UI's paged, filtered, sorted team list. */
export const teamListV2Query = z.object({
  team_id: id.optional(),
  team_alias: z.string().min(1).max(200).optional().describe('part of the alias, any case'),
  user_id: id.optional(),
  organization_id: id.optional(),
  page: queryInt(1, 1_000_000, 1),
  page_size: queryInt(1, 100, 10),
  sort_by: z.enum(['team_alias', 'team_id', 'created_at', 'updated_at', 'spend', 'max_budget']).optional(),
  sort_order: z.enum(['asc', 'desc']).default('asc'),
  status: z.enum(['active', 'deleted']).optional().describe('deleted: none, as Tollgate keeps no deleted teams'),
});
