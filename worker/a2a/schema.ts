/**
 * config.yaml's `agent_list` (LiteLLM's config agents): A2A agents served beside those stored through
 * `/v1/agents`. A config agent's id is the SHA-256 hex of its name, as LiteLLM derives it.
 */
import { z } from 'zod';

export const agentListSchema = z.array(z.object({
  agent_name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$/, 'an agent name is 1-128 letters, digits, _, . or -, starting with a letter or digit'),
  /** The A2A AgentCard; its `url` is where calls go unless `litellm_params.api_base` says. */
  agent_card_params: z.looseObject({}).default({}),
  /** `api_base`, `api_key` (`os.environ/NAME` read), `cost_per_query`. */
  litellm_params: z.looseObject({ cost_per_query: z.number().nonnegative().optional() }).default({}),
  agent_access_groups: z.array(z.string()).default([]),
}), { error: 'expected a list of agents ({agent_name, agent_card_params, litellm_params})' });

export type ConfigAgent = z.output<typeof agentListSchema>[number];
