/**
 * config.yaml's `agent_list` (LiteLLM's config agents): A2A agents served beside those stored through
 * `/v1/agents`. A config agent's id is the SHA-256 hex of its name, as LiteLLM derives it.
 */
import { z } from 'zod';

/** RFC 9110's token: what a header's name may be (anything else would fail every call to the agent). */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'expected an HTTP header name');

export const agentListSchema = z.array(z.object({
  agent_name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$/, 'an agent name is 1-128 letters, digits, _, . or -, starting with a letter or digit'),
  /** The A2A AgentCard; its `url` is where calls go unless `litellm_params.api_base` says. */
  agent_card_params: z.looseObject({}).default({}),
  /** `api_base`, `api_key` (`os.environ/NAME` read), `cost_per_query`. */
  litellm_params: z.looseObject({ cost_per_query: z.number().nonnegative().optional() }).default({}),
  agent_access_groups: z.array(z.string()).default([]),
  /** LiteLLM's agent-level limits (top level, as in its AgentConfig): calls and tokens a minute to this agent, every key's together. */
  rpm_limit: z.number().int().positive().optional(),
  tpm_limit: z.number().int().positive().optional(),
  /** Headers sent on every call to the agent (`os.environ/NAME` values read); they win over forwarded client headers. */
  static_headers: z.record(headerName, z.string().regex(/^[^\r\n\0]*$/, 'a header value may not hold line breaks')).optional(),
  /** Names of the client's request headers passed on to the agent. */
  extra_headers: z.array(headerName).optional(),
}), { error: 'expected a list of agents ({agent_name, agent_card_params, litellm_params})' });

export type ConfigAgent = z.output<typeof agentListSchema>[number];
