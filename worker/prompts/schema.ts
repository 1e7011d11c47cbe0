/**
 * config.yaml's `prompts:` (LiteLLM's config-onboarded prompts): each names its `prompt_integration` and
 * that integration's settings. Integrations Tollgate does not run load with a warning (prompt-warnings.ts)
 * and refuse the calls naming them.
 */
import { z } from 'zod';
import { bool, nonNegative, num, str } from '../config/fields.ts';
import { langfuseOrigin } from '../telemetry/langfuse/host.ts';

export const BUILT_INTEGRATIONS = ['dotprompt', 'generic_prompt_management', 'langfuse'] as const;

export const promptLitellmParamsSchema = z.looseObject({
  prompt_id: str.optional(),
  prompt_integration: str.min(1, 'must not be empty'),
  /** dotprompt: a .prompt file's text, front matter and template. */
  dotprompt_content: str.optional(),
  /** dotprompt: `{content, metadata}`, alone or keyed by prompt id. */
  prompt_data: z.record(str, z.unknown(), { error: 'expected a mapping' }).optional(),
  /** dotprompt: files on disk, which a Worker cannot read (warned about). */
  prompt_directory: str.optional(),
  prompt_file: str.optional(),
  /** generic_prompt_management: the prompt API's base URL and bearer token. */
  api_base: str.url('expected an http(s) URL').optional(),
  api_key: str.optional(),
  /** generic_prompt_management: added to the prompt API's query string. */
  provider_specific_query_params: z.record(str, z.union([str, num, bool]), { error: 'expected a mapping of strings, numbers or booleans' }).optional(),
  /** langfuse: the project's keys (`langfuse_secret` is LiteLLM's name) and host; else LANGFUSE_* (langfuse-credentials.ts). */
  langfuse_public_key: str.optional(),
  langfuse_secret: str.optional(),
  langfuse_secret_key: str.optional(),
  langfuse_host: str.optional(),
  /** Seconds to wait for the prompt API (LiteLLM's default, 30; Langfuse's LANGFUSE_TIMEOUT, else 20), at most 60 (fetch-prompt.ts); 0 would fail every call naming the prompt. */
  timeout: nonNegative.refine((s) => s > 0, 'must be more than 0 seconds').optional(),
  /** Keep the request's model (else the prompt's wins, as LiteLLM). */
  ignore_prompt_manager_model: bool.optional(),
  /** Keep the request's settings only (else the prompt's win, as LiteLLM). */
  ignore_prompt_manager_optional_params: bool.optional(),
});

export const promptSpecSchema = z.object({
  prompt_id: str.min(1, 'must not be empty'),
  litellm_params: promptLitellmParamsSchema,
  prompt_info: z.looseObject({}).optional(),
}).superRefine((spec, ctx) => {
  if (spec.litellm_params.prompt_integration === 'generic_prompt_management' && !spec.litellm_params.api_base) {
    ctx.addIssue({ code: 'custom', path: ['litellm_params', 'api_base'], message: 'is required for generic_prompt_management' });
  }
  const host = spec.litellm_params.langfuse_host;
  if (host !== undefined && !langfuseOrigin(host)) ctx.addIssue({ code: 'custom', path: ['litellm_params', 'langfuse_host'], message: 'expected a plain http(s) URL' });
});

export const promptsSchema = z.array(promptSpecSchema, { error: 'expected a list of prompts' })
  .refine((list) => new Set(list.map((p) => p.prompt_id)).size === list.length, 'prompt_id values must be unique');

export type PromptSpec = z.output<typeof promptSpecSchema>;
