/**
 * Request schemas of the key routes, as LiteLLM's pydantic models define them
 * (GenerateKeyRequest, UpdateKeyRequest, RegenerateKeyRequest, ...). Unknown
 * fields are stripped, as pydantic ignores them. Budgets are plain numbers
 * here: a negative one is LiteLLM's 400, checked by the handler, not a 422.
 */
import { z } from 'zod';
import { DURATION } from '../../../worker/config/fields.ts';
import { budgetLimits } from '../principals/fields.ts';

const str = z.string();
const strList = z.array(z.string());
const obj = z.record(z.string(), z.unknown());
const limit = z.number().int().nonnegative();
const intMap = z.record(z.string(), z.number().int().nonnegative());
const duration = z.string().regex(DURATION, 'expected a duration like "30s", "30m", "30h", "30d", "1w" or "1mo"');

/** Nullable and optional: absent leaves a field alone, null clears it (LiteLLM's update semantics). */
const opt = <T extends z.ZodType>(t: T) => t.nullable().optional();

/** Request fields Tollgate stores in a column of LiteLLM_VerificationToken (or maps onto one). */
export const keyColumnFields = {
  key_alias: opt(str),
  duration: opt(duration),
  models: opt(strList),
  spend: opt(z.number().nonnegative()),
  max_budget: opt(z.number()),
  budget_duration: opt(duration),
  /** LiteLLM's several budget windows at once; each entry's `reset_at` is the server's. */
  budget_limits: opt(budgetLimits),
  soft_budget: opt(z.number()),
  user_id: opt(str),
  team_id: opt(str),
  organization_id: opt(str),
  budget_id: opt(str),
  max_parallel_requests: opt(limit),
  tpm_limit: opt(limit),
  rpm_limit: opt(limit),
  model_rpm_limit: opt(intMap),
  model_tpm_limit: opt(intMap),
  model_max_budget: opt(obj),
  metadata: opt(obj),
  tags: opt(strList),
  aliases: opt(z.record(z.string(), z.string())),
  config: opt(obj),
  permissions: opt(obj),
  allowed_cache_controls: opt(strList),
  allowed_routes: opt(strList),
  blocked: opt(z.boolean()),
  key_type: opt(z.enum(['llm_api', 'management', 'read_only', 'default'])),
};

/**
 * LiteLLM fields without a column here: accepted and kept in the key's
 * `metadata` under their own names (LiteLLM itself keeps guardrails, tags,
 * enforced_params and the temp budget there), so nothing sent is lost.
 */
export const keyMetadataFields = {
  guardrails: opt(strList),
  policies: opt(strList),
  prompts: opt(strList),
  enforced_params: opt(strList),
  rpm_limit_type: opt(z.enum(['best_effort_throughput', 'guaranteed_throughput', 'dynamic'])),
  tpm_limit_type: opt(z.enum(['best_effort_throughput', 'guaranteed_throughput', 'dynamic'])),
  allowed_passthrough_routes: opt(strList),
  disable_global_guardrails: opt(z.boolean()),
  object_permission: opt(obj),
  router_settings: opt(obj),
  access_group_ids: opt(strList),
  auto_rotate: opt(z.boolean()),
  rotation_interval: opt(duration),
  project_id: opt(str),
  agent_id: opt(str),
};
export const METADATA_FIELD_NAMES = Object.keys(keyMetadataFields) as (keyof typeof keyMetadataFields)[];

const keyFields = { ...keyColumnFields, ...keyMetadataFields, send_invite_email: opt(z.boolean()) };

/** A key as a caller names it: the plain `sk-...` key or its SHA-256 hex. */
const keyRef = z.string().min(1);

export const generateKeySchema = z.object({
  ...keyFields,
  /** A custom key value; must start with `sk-` (checked by the handler: LiteLLM's 400). */
  key: opt(str),
});

const updateKeyFields = {
  ...keyFields,
  key: opt(keyRef),
  temp_budget_increase: opt(z.number()),
  temp_budget_expiry: opt(z.union([z.iso.datetime({ offset: true, local: true }), z.iso.date()])),
};

export const updateKeySchema = z.object(updateKeyFields)
  .refine((b) => b.key != null || b.key_alias != null, { message: 'key or key_alias is required', path: ['key'] });

/**
 * `/team/key/bulk_update`'s `update_fields`: what may be set on many of a team's keys at once
 * (LiteLLM's KeyUpdateFields): budgets, limits, models, expiry, tags and metadata; never a key's
 * identity, owner or team, nor its routes or type.
 */
const teamKeyUpdateFields = z.strictObject({
  max_budget: keyColumnFields.max_budget, soft_budget: keyColumnFields.soft_budget, budget_id: keyColumnFields.budget_id,
  budget_duration: keyColumnFields.budget_duration, budget_limits: keyColumnFields.budget_limits, model_max_budget: keyColumnFields.model_max_budget,
  tpm_limit: keyColumnFields.tpm_limit, rpm_limit: keyColumnFields.rpm_limit, max_parallel_requests: keyColumnFields.max_parallel_requests,
  model_rpm_limit: keyColumnFields.model_rpm_limit, model_tpm_limit: keyColumnFields.model_tpm_limit, models: keyColumnFields.models,
  duration: keyColumnFields.duration, tags: keyColumnFields.tags, metadata: keyColumnFields.metadata,
  temp_budget_increase: updateKeyFields.temp_budget_increase, temp_budget_expiry: updateKeyFields.temp_budget_expiry,
}).refine((f) => Object.keys(f).length > 0, { message: 'update_fields must specify at least one field to update.' });

/** `/team/key/bulk_update`: one update for the named keys of a team, or all of them (up to 500). */
export const bulkUpdateTeamKeysSchema = z.object({
  team_id: str,
  key_ids: z.array(keyRef).max(500, 'at most 500 keys').optional(),
  all_keys_in_team: z.boolean().default(false),
  update_fields: teamKeyUpdateFields,
}).refine((b) => (b.key_ids?.length ?? 0) > 0 !== b.all_keys_in_team, {
  message: 'Provide either `key_ids` (non-empty) or `all_keys_in_team=true`, not both.', path: ['key_ids'],
});

/** `/key/bulk_update`: up to 500 updates, each naming its key (plain or hash) and changing what /key/update would. */
export const bulkUpdateKeysSchema = z.object({
  keys: z.array(z.object({ ...updateKeyFields, key: keyRef })).min(1, 'at least one key').max(500, 'at most 500 keys'),
});

export const regenerateKeySchema = z.object({
  ...keyFields,
  /** The key to rotate (for `/key/regenerate`; the path names it in `/key/{key}/regenerate`). */
  key: opt(keyRef),
  new_key: opt(str),
  new_master_key: opt(str),
  grace_period: opt(duration),
});

export const deleteKeysSchema = z.object({
  keys: opt(z.array(keyRef)),
  key_aliases: opt(z.array(str)),
}).refine((b) => (b.keys?.length ?? 0) + (b.key_aliases?.length ?? 0) > 0, { message: 'keys or key_aliases is required', path: ['keys'] });

export const blockKeySchema = z.object({ key: keyRef });

export const resetKeySpendSchema = z.object({ reset_to: z.number({ error: 'reset_to must be a number' }) });

export const keyInfoQuery = z.object({ key: keyRef.optional() });

export const keyInfoV2Schema = z.object({ keys: z.array(keyRef).min(1) });

const queryBool = z.enum(['true', 'false', 'True', 'False', '1', '0']).transform((v) => v === 'true' || v === 'True' || v === '1');

export const SORT_COLUMNS = ['created_at', 'updated_at', 'spend', 'max_budget', 'key_alias', 'key_name', 'expires', 'user_id', 'team_id', 'last_active'] as const;

export const listKeysQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  size: z.coerce.number().int().min(1).max(100).default(10),
  user_id: str.optional(),
  team_id: str.optional(),
  organization_id: str.optional(),
  key_hash: str.optional(),
  key_alias: str.optional(),
  return_full_object: queryBool.default(false),
  include_team_keys: queryBool.default(false),
  sort_by: z.enum(SORT_COLUMNS).optional(),
  sort_order: z.enum(['asc', 'desc']).default('desc'),
});

export const keyAliasesQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  size: z.coerce.number().int().min(1).max(100).default(50),
  search: z.string().max(200).optional().describe('part of an alias, any case'),
  team_id: str.optional(),
});

export type KeyFieldsInput = z.output<typeof generateKeySchema>;
export type UpdateKeyInput = z.output<typeof updateKeySchema>;
export type RegenerateKeyInput = z.output<typeof regenerateKeySchema>;
export type ListKeysQuery = z.output<typeof listKeysQuery>;
