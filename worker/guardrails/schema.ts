import { z } from 'zod';
import { bool, str } from '../config/fields.ts';

const MODES = ['pre_call', 'during_call', 'post_call', 'logging_only'] as const;

/**
 * One of config.yaml's top-level `guardrails` (LiteLLM's): a check of a call's input before the provider
 * (`pre_call`, `during_call`) or of its answer (`post_call`), by one of the guardrail services.
 */
export const guardrailSchema = z.object({
  guardrail_name: str.min(1, 'must not be empty'),
  litellm_params: z.looseObject({
    guardrail: z.enum(['bedrock', 'lakera_v2', 'openai_moderation', 'presidio', 'generic_guardrail_api'], {
      error: 'expected one of bedrock, lakera_v2, openai_moderation, presidio, generic_guardrail_api',
    }),
    mode: z.union([z.enum(MODES), z.array(z.enum(MODES)).min(1)]).default('pre_call'),
    default_on: bool.optional(),
    api_key: str.optional(),
    api_base: str.url('expected an http(s) URL').optional(),
    // bedrock
    guardrailIdentifier: str.optional(),
    guardrailVersion: str.optional(),
    aws_region_name: str.optional(),
    aws_access_key_id: str.optional(),
    aws_secret_access_key: str.optional(),
    aws_session_token: str.optional(),
    // A BLOCKED intervention answers with the guardrail's own text instead of a 400 (as LiteLLM's).
    disable_exception_on_block: bool.optional(),
    // LiteLLM's masking switches: an intervention that only ANONYMIZED is passed masked whether or not they are set.
    mask_request_content: bool.optional(),
    mask_response_content: bool.optional(),
    // lakera_v2
    project_id: str.optional(),
    on_flagged: z.enum(['block', 'monitor']).optional(),
    // presidio
    presidio_analyzer_api_base: str.url('expected an http(s) URL').optional(),
    presidio_anonymizer_api_base: str.url('expected an http(s) URL').optional(),
    pii_entities_config: z.record(str, z.enum(['MASK', 'BLOCK'])).optional(),
    presidio_language: str.optional(),
    presidio_score_thresholds: z.record(str, z.number().min(0).max(1)).optional(),
    output_parse_pii: bool.optional(),
    // openai_moderation
    model: str.optional(),
    headers: z.record(str, str).optional(),
  }),
  guardrail_info: z.record(str, z.unknown()).optional(),
});

export type GuardrailConfig = z.output<typeof guardrailSchema>;
export type GuardrailMode = (typeof MODES)[number];

/** A guardrail's modes, as a list. */
export function modesOf(g: GuardrailConfig): GuardrailMode[] {
  const mode = g.litellm_params.mode;
  return Array.isArray(mode) ? mode : [mode];
}

