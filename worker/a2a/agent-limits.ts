/**
 * LiteLLM's agent-level `rpm_limit` / `tpm_limit`: every key's calls to one A2A agent counted together, by the
 * agent's own limiter Durable Object (`agent:<agent_id>`, worker/limits/), as keys' and teams' limits are. An
 * agent without either costs a call nothing: no object is asked.
 */
import { eq } from 'drizzle-orm';
import { agents as agentsTable } from '../../drizzle/schema/agents.ts';
import { toHex } from '../auth/secrets.ts';
import { openDatabase } from '../db/client.ts';
import { pgCode, UNDEFINED_TABLE } from '../db/pg-code.ts';
import type { GatewayEnv } from '../env.ts';
import { bounded } from '../limits/bounded.ts';
import { limiter } from '../limits/local-leases.ts';
import { type EntityPolicy, missingPolicy } from '../limits/policy.ts';
import { toGatewayError } from '../limits/refusals.ts';
import { gatewayState } from '../state.ts';
import type { WaitUntil } from '../telemetry/emit.ts';
import type { Agent } from './registry.ts';

/**
 * Counts one call against the agent's limits; a call over them throws LiteLLM's v3 limiter error (429,
 * `Rate limit exceeded for agent: <agent_id>. ...`, with Retry-After). Settled at once (nothing is held: an
 * A2A call reports no tokens), so the minute's count stays taken whatever the call's outcome. A limiter that
 * fails or does not answer within 5 s (its policy read hanging on Postgres) is a 503 with `retry-after: 1`, as
 * keys' limiters are (limits/bounded.ts), so the refusal is the gateway's error and has its spend-log row.
 */
export async function admitAgentCall(env: GatewayEnv, ctx: WaitUntil, agent: Agent, requestId: string, model: string): Promise<void> {
  if (agent.rpmLimit === null && agent.tpmLimit === null) return;
  const stub = limiter(env, 'agent', agent.agent_id);
  const result = await bounded(stub.admit({ kind: 'agent', id: agent.agent_id, requestId, model, estCost: 0, estTokens: 0, free: true }), { kind: 'agent', id: agent.agent_id });
  if (result.ok === false) throw toGatewayError(result.refusal);
  ctx.waitUntil(stub.settle({ kind: 'agent', id: agent.agent_id, requestId, model, cost: 0, tokens: 0 }).catch(() => undefined));
}

/**
 * The agent limiter's policy: the limits config.yaml's `agent_list` (by LiteLLM's id, the SHA-256 hex of the
 * name) or LiteLLM_AgentsTable gives the agent now. `maxParallel` is set out of reach so the object never leases
 * (leases.ts): every call to a limited agent is counted where it is decided, so the (n+1)th in a minute is refused.
 */
export async function agentPolicy(env: GatewayEnv, id: string): Promise<EntityPolicy> {
  const limits = await configLimits(env, id) ?? await storedLimits(env, id);
  if (!limits) return missingPolicy('agent', id);
  return { ...missingPolicy('agent', id), exists: true, rpmLimit: limits.rpm, tpmLimit: limits.tpm, maxParallel: Number.MAX_SAFE_INTEGER };
}

type Limits = { rpm: number | null; tpm: number | null };
const positive = (n: unknown): number | null => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null);

async function configLimits(env: GatewayEnv, id: string): Promise<Limits | undefined> {
  const { config } = await gatewayState(env);
  for (const entry of config.agent_list ?? []) {
    const entryId = toHex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(entry.agent_name)));
    if (entryId === id) return { rpm: positive(entry.rpm_limit), tpm: positive(entry.tpm_limit) };
  }
  return undefined;
}

async function storedLimits(env: GatewayEnv, id: string): Promise<Limits | undefined> {
  if (!env.DATABASE_URL || !/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const database = openDatabase(env);
  try {
    const rows = await database.db.select({ rpm: agentsTable.rpm_limit, tpm: agentsTable.tpm_limit }).from(agentsTable).where(eq(agentsTable.agent_id, id)).catch((err: unknown) => {
      // A database without agents (before 0011) has no agent limits; one before 0013 is not served (migrate first).
      if (pgCode(err) === UNDEFINED_TABLE) return [];
      throw err;
    });
    const row = rows[0];
    return row ? { rpm: positive(row.rpm), tpm: positive(row.tpm) } : undefined;
  } finally {
    await database.close();
  }
}
