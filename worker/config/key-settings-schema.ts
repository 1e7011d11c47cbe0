/**
 * LiteLLM's key-governance settings in `litellm_settings` (admin-worker/routes/keys/governance.ts and
 * creators.ts act on them): defaults and ceilings of /key/generate, and who may create keys.
 */
import { z } from 'zod';
import { duration, nonNegative, posInt, str, strList } from './fields.ts';

export const keyGenerateDefaults = z.object({
  max_budget: nonNegative.optional(),
  budget_duration: duration.optional(),
  duration: duration.optional(),
  user_id: str.optional(),
  team_id: str.optional(),
  max_parallel_requests: posInt.optional(),
  tpm_limit: posInt.optional(),
  rpm_limit: posInt.optional(),
  models: strList.optional(),
  metadata: z.record(str, z.unknown()).optional(),
});

export const keyGenerateBounds = z.object({
  max_budget: nonNegative.optional(),
  budget_duration: duration.optional(),
  duration: duration.optional(),
  max_parallel_requests: posInt.optional(),
  tpm_limit: posInt.optional(),
  rpm_limit: posInt.optional(),
});

export const keyGenerationSettings = z.object({
  /** Team keys: which team member roles may create them (LiteLLM's default: admin and user), and the fields they must set. */
  team_key_generation: z.object({
    allowed_team_member_roles: z.array(z.enum(['admin', 'user'])).optional(),
    required_params: strList.optional(),
  }).optional(),
  /** Keys without a team: which user roles may create them for themselves, and the fields they must set. */
  personal_key_generation: z.object({
    allowed_user_roles: z.array(z.enum(['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer', 'team', 'customer', 'org_admin'])).optional(),
    required_params: strList.optional(),
  }).optional(),
});
