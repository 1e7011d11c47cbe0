/**
 * When the web search loop (intercept.ts) stops before the model is done searching, besides a follow-up too large
 * to send: at its ceiling of follow-up calls, `max_agentic_loops`, which a deployment's own
 * `litellm_params.max_agentic_loops` overrides for the calls it answers (as LiteLLM reads the ceiling from the
 * call's own parameters, the callback's setting filling in where a deployment sets none); and when the model asks
 * again for the searches of an earlier round (LiteLLM's repeated tool-call fingerprint), which would only return
 * what it already has. A stored Responses turn ends by a last follow-up sent with `tool_choice: "none"` instead
 * (intercept.ts), so the provider keeps no search call without its output.
 */
import { deploymentByStoredId } from '../router/resolve-group.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import type { SearchCall } from './tools.ts';

/**
 * The ceiling for a round: that of the deployment that answered it (its `x-litellm-model-id`, looked up in the
 * whole catalog, so a deployment of a fallback group counts with its own), else the callback's.
 */
export function ceilingFor(catalog: ModelCatalog, answered: Headers, fallback: number): number {
  const id = answered.get('x-litellm-model-id');
  const own = id ? deploymentByStoredId(catalog, id)?.deployment.params.max_agentic_loops : undefined;
  return typeof own === 'number' && own >= 1 ? own : fallback;
}

/**
 * A round's searches as one fingerprint: its queries, in any order. The call ids are left out (a model names
 * each call afresh), so a model asking the same questions again is caught whatever it calls them.
 */
export const searchFingerprint = (calls: readonly SearchCall[]): string => JSON.stringify(calls.map((c) => c.query).sort());
