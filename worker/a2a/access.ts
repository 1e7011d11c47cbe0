/**
 * Which agents a caller may reach, as LiteLLM's AgentRequestHandler decides: a key's and its team's
 * `object_permission` name agents (`agents`, by id or name) and agent access groups (`agent_access_groups`,
 * matched against the agents' own). No grant on either is no restriction (every agent); a team's grant with
 * none on the key is inherited; both: only agents both grant. The master key reaches every agent.
 */
import type { Caller } from '../auth/authenticate.ts';
import { isObject } from '../json.ts';
import type { Agent, Agents } from './registry.ts';

const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The agents one `object_permission` grants; undefined when it names none (no restriction from it). */
function granted(permission: unknown, agents: Agents): Set<string> | undefined {
  if (!isObject(permission)) return undefined;
  const byName = names(permission.agents);
  const groups = new Set(names(permission.agent_access_groups));
  if (!byName.length && !groups.size) return undefined;
  const out = new Set<string>();
  for (const agent of agents) {
    if (byName.includes(agent.agent_id) || byName.includes(agent.agent_name) || agent.accessGroups.some((g) => groups.has(g))) out.add(agent.agent_id);
  }
  return out;
}

/** The agents a caller may call, list and read the card of. */
export function agentsFor(caller: Caller, agents: Agents): Agent[] {
  if (caller.kind === 'master') return [...agents];
  const own = granted(caller.policy.metadata.object_permission, agents);
  const team = granted(caller.policy.team?.metadata.object_permission, agents);
  const allowed = own && team ? new Set([...own].filter((id) => team.has(id))) : own ?? team;
  return allowed ? agents.filter((a) => allowed.has(a.agent_id)) : [...agents];
}
