/**
 * A2A agents added through `/v1/agents` (LiteLLM_AgentsTable); the agent's credential inside `litellm_params` and
 * auth-like `static_headers` are stored sealed.
 */
import { pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, json, limit, textList, updatedAt, uuidPk } from './columns.ts';

export const agents = pgTable('LiteLLM_AgentsTable', {
  agent_id: uuidPk(),
  agent_name: text().notNull().unique(),
  /** `api_base`/`url`, the sealed `api_key`, `cost_per_query`, ... */
  litellm_params: json(),
  /** The agent's A2A AgentCard as the admin gave it (its `url` is where the gateway sends calls). */
  agent_card_params: json(),
  agent_access_groups: textList(),
  /** LiteLLM's agent-level limits: calls (and tokens) a minute to this agent, across every key. */
  tpm_limit: limit(),
  rpm_limit: limit(),
  /** Headers sent on every call to the agent (auth-like ones sealed); they win over forwarded client headers. */
  static_headers: json(),
  /** Names of client request headers forwarded to the agent. */
  extra_headers: textList(),
  created_at: createdAt(),
  created_by: text(),
  updated_at: updatedAt(),
  updated_by: text(),
});
export type AgentRow = typeof agents.$inferSelect;
