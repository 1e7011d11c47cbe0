import type { Caller } from '../auth/authenticate.ts';
import { JWT_TOKEN_PREFIX } from '../auth/jwt-identity.ts';
import { GatewayError } from '../errors.ts';
import { isObject } from '../json.ts';

/** The tools an `object_permission.search_tools` lists; undefined when it lists none. */
function listed(permission: unknown): Set<string> | undefined {
  const raw = isObject(permission) ? permission.search_tools : undefined;
  const names = Array.isArray(raw) ? raw.filter((n): n is string => typeof n === 'string' && n !== '') : [];
  return names.length ? new Set(names) : undefined;
}

/** Whether a list bars a tool: one that lists tools and not this one; one that lists none only when search tools are opt-in. */
const bars = (list: Set<string> | undefined, tool: string, denyByDefault: boolean) => (list ? !list.has(tool) : denyByDefault);

/**
 * Whether a caller may call a search tool, as LiteLLM allows it: the master key any; a virtual key the tools its
 * own `object_permission.search_tools` lists and those its team's lists (a list naming none allows every tool,
 * unless `general_settings.search_tool_deny_by_default` makes tools opt-in: then each must name it). A JWT's
 * caller has no key of its own: with a team it needs only the team's grant; without one, its user's (which
 * jwtKeyPolicy in limits/jwt-policy.ts puts in its stand-in policy's metadata).
 */
export function searchToolRefusal(caller: Caller, tool: string, denyByDefault = false): GatewayError | undefined {
  if (caller.kind !== 'key') return undefined;
  const { team } = caller.policy;
  const ownGrantApplies = !caller.token.startsWith(JWT_TOKEN_PREFIX) || !team;
  if (ownGrantApplies && bars(listed(caller.policy.metadata.object_permission), tool, denyByDefault)) {
    return new GatewayError(`Key not allowed to access search tool: ${tool}`, { status: 403, type: 'key_search_tool_access_denied', param: 'search_tool_name' });
  }
  if (team && bars(listed(team.metadata.object_permission), tool, denyByDefault)) {
    return new GatewayError(`Team not allowed to access search tool: ${tool}`, { status: 403, type: 'team_search_tool_access_denied', param: 'search_tool_name' });
  }
  return undefined;
}

/** The tools a caller may call, of those configured (`GET /v1/search/tools` lists only those). */
export function callableTools<T extends { search_tool_name: string }>(caller: Caller, tools: readonly T[], denyByDefault = false): T[] {
  return tools.filter((t) => !searchToolRefusal(caller, t.search_tool_name, denyByDefault));
}
