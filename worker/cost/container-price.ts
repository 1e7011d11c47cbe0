import type { DeploymentRef } from '../models/deployments.ts';

/**
 * USD per 1 GB container session: LiteLLM's cost map (`openai/container`, `azure/container`:
 * `code_interpreter_cost_per_session`), OpenAI's price of a default container. The bundled price table
 * keeps no such field, so it is here.
 */
const SESSION_PRICE = 0.03;
/** OpenAI's price of a container grows with its memory: 4 GB costs 4 sessions of 1 GB (0.12), 16 GB 16, 64 GB 64. */
const MEMORY_SESSIONS: Record<string, number> = { '1g': 1, '4g': 4, '16g': 16, '64g': 64 };

/**
 * USD a container's session costs: the deployment's `code_interpreter_cost_per_session` (model_info, else
 * litellm_params), else LiteLLM's 0.03, times the sessions its memory counts for (4g: 4, 16g: 16, 64g: 64).
 */
export function sessionPrice(deployment: DeploymentRef, memory: string | undefined): number {
  let price = SESSION_PRICE;
  for (const source of [deployment.params, deployment.info] as Record<string, unknown>[]) {
    if (typeof source.code_interpreter_cost_per_session === 'number') price = source.code_interpreter_cost_per_session;
  }
  return price * (MEMORY_SESSIONS[memory ?? '1g'] ?? 1);
}
