import type { GuardrailsConfigParts } from './guardrails-stack.ts';

/**
 * The config.yaml the Bedrock guardrail suites share, for useGuardrailsStack: `gpt-4o` on the fake provider and the
 * two guardrails that answer in place of a refusal (disable_exception_on_block), `bedrock-soft` before the call and
 * `bedrock-soft-out` after it. A suite adds its own models and guardrails (entries of the two lists, each line
 * ending with a newline) so each suite does not repeat the head.
 */
export function bedrockSoftConfig(parts: GuardrailsConfigParts, more: { models?: string; guardrails?: string } = {}): string {
  return `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, ${parts.upstream}}
${more.models ?? ''}guardrails:
  - guardrail_name: bedrock-soft
    litellm_params: ${parts.bedrock('mode: pre_call, disable_exception_on_block: true')}
  - guardrail_name: bedrock-soft-out
    litellm_params: ${parts.bedrock('mode: post_call, disable_exception_on_block: true')}
${more.guardrails ?? ''}`;
}
