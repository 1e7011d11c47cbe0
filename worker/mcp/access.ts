import type { Caller } from '../auth/authenticate.ts';
import type { RequestHeaders } from '../providers/types.ts';
import { isObject } from '../json.ts';
import { isSensitiveHeader } from '../models/public-params.ts';
import type { McpServer } from './schema.ts';

const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The servers an `object_permission` grants (`mcp_servers` by name, `mcp_access_groups` by the servers' `access_groups`); undefined when it names none. */
function granted(permission: unknown, servers: Readonly<Record<string, McpServer>>): Set<string> | undefined {
  if (!isObject(permission)) return undefined;
  const byName = names(permission.mcp_servers);
  const groups = new Set(names(permission.mcp_access_groups));
  if (!byName.length && !groups.size) return undefined;
  const out = new Set(byName);
  for (const [name, server] of Object.entries(servers)) if ((server.access_groups ?? []).some((g) => groups.has(g))) out.add(name);
  return out;
}

/** The servers a caller may use (by name), and which of their tools (`object_permission.mcp_tool_permissions`). */
export class GrantedServers extends Map<string, McpServer> {
  /** Server name → the tools the caller's key and team allow on it (each set a limit; both: both limits). */
  readonly toolLimits = new Map<string, Set<string>[]>();

  /** Whether the caller may call (and see) a tool of a server, by the server's own tool name. */
  permits(server: string, tool: string): boolean {
    return (this.toolLimits.get(server) ?? []).every((limit) => limit.has(tool));
  }
}

/** `mcp_tool_permissions` of an object_permission: server (name or id) → tool names. */
function toolLimitsOf(permission: unknown): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const limits = isObject(permission) && isObject(permission.mcp_tool_permissions) ? permission.mcp_tool_permissions : {};
  for (const [server, tools] of Object.entries(limits)) out.set(server, new Set(names(tools)));
  return out;
}

/**
 * The MCP servers (config.yaml's `mcp_servers`, and stored ones) a caller may use, as LiteLLM grants them:
 * the master key every one; a virtual key those with `allow_all_keys`, and those its `object_permission`
 * grants within its team's (a key granting none has its team's); with the tools their
 * `mcp_tool_permissions` allow.
 */
export function mcpServersFor(caller: Caller, servers: Readonly<Record<string, McpServer>>, headers?: RequestHeaders): GrantedServers {
  const out = new GrantedServers();
  const limits = caller.kind === 'key' ? [toolLimitsOf(caller.policy.metadata.object_permission), toolLimitsOf(caller.policy.team?.metadata.object_permission)] : [];
  const ownGrant = caller.kind === 'key' ? granted(caller.policy.metadata.object_permission, servers) : undefined;
  const teamGrant = caller.kind === 'key' ? granted(caller.policy.team?.metadata.object_permission, servers) : undefined;
  for (const [name, server] of Object.entries(servers)) {
    if (server.transport === 'stdio') continue;
    const grants = (grant: Set<string> | undefined) => !!grant && (grant.has(name) || (server.server_id !== undefined && grant.has(server.server_id)));
    const byGrant = ownGrant ? grants(ownGrant) && (!teamGrant || grants(teamGrant)) : grants(teamGrant);
    if (caller.kind === 'master' || server.allow_all_keys === true || byGrant) {
      out.set(name, server);
      const own = limits.flatMap((l) => [l.get(name), server.server_id !== undefined ? l.get(server.server_id) : undefined]).filter((s): s is Set<string> => !!s);
      if (own.length) out.toolLimits.set(name, own);
    }
  }
  return headers ? withClientHeaders(out, headers) : out;
}

/** Whether a server offers one of its tools (by the server's own name): `allowed_tools` when set, never `disallowed_tools`. */
export function toolOffered(server: McpServer, tool: string): boolean {
  if (server.disallowed_tools?.includes(tool)) return false;
  return !server.allowed_tools?.length || server.allowed_tools.includes(tool);
}

/** What one call of a tool costs: its own price, else the server's default, else 0 (a client-named tool is never read off Object.prototype). */
export function toolCost(server: McpServer, tool: string): number {
  const prices = server.mcp_info?.mcp_server_cost_info;
  const own = prices?.tool_name_to_cost_per_query;
  const price = own && Object.hasOwn(own, tool) ? own[tool] : prices?.default_cost_per_query;
  return typeof price === 'number' && Number.isFinite(price) ? price : 0;
}

/** The separator of a server's name and its tool's in the names `/mcp` offers (LiteLLM's MCP_TOOL_PREFIX_SEPARATOR). */
export const TOOL_SEPARATOR = '-';

/** The name `/mcp` offers a server's tool (or prompt) under. */
export const toolName = (server: string, tool: string) => `${server}${TOOL_SEPARATOR}${tool}`;

/**
 * The server and tool a name offered by `/mcp` stands for: `<server>-<tool>` (the longest name of the
 * caller's servers, `granted`, that fits; undefined when that server is not in scope), or, when only one
 * server is in scope and the name names none of the caller's servers, that server's tool of that very name.
 */
export function toolTarget(scope: ReadonlyMap<string, McpServer>, granted: readonly string[], name: string): { server: string; tool: string } | undefined {
  const byLength = [...granted].sort((a, b) => b.length - a.length);
  const server = byLength.find((s) => name.startsWith(`${s}${TOOL_SEPARATOR}`) && name.length > s.length + 1);
  if (server) return scope.has(server) ? { server, tool: name.slice(server.length + 1) } : undefined;
  if (scope.size === 1) return { server: [...scope.keys()][0]!, tool: name };
  return undefined;
}

/** The headers a client may send its own credential for a server in (LiteLLM's `x-mcp-<server>-<header>`). */
const AUTH_HEADERS = new Set(['authorization', 'x-api-key']);

/**
 * LiteLLM's per-request MCP credentials: a request header `x-mcp-<server>-authorization` (or `-x-api-key`)
 * sends the client's own credential (a user's token, say) to that server in place of the configured one (its
 * `auth_value` and every auth-like static header). Such a server is a new object for this request, so its
 * tools are listed with the client's credential (not from the shared cache) and its session is its own. A
 * header whose server name fits more than one of the caller's servers (names differing only in case) is
 * ignored: a credential goes to one server or none. Other `x-mcp-<server>-*` headers are not sent on.
 */
function withClientHeaders(servers: GrantedServers, headers: RequestHeaders): GrantedServers {
  const given = new Map<string, Record<string, string>>();
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-mcp-')) return;
    const matching = [...servers.keys()].filter((server) => lower.startsWith(`x-mcp-${server.toLowerCase()}-`));
    const header = matching.length === 1 ? lower.slice(`x-mcp-${matching[0]!.toLowerCase()}-`.length) : '';
    if (AUTH_HEADERS.has(header)) given.set(matching[0]!, { ...given.get(matching[0]!), [header]: value });
  });
  if (!given.size) return servers;
  const out = new GrantedServers();
  for (const [name, server] of servers) {
    const client = given.get(name);
    if (!client) {
      out.set(name, server);
      continue;
    }
    // The configured credential goes entirely: its auth_value and any auth-like static header.
    const kept = Object.fromEntries(Object.entries(server.static_headers ?? {}).filter(([h]) => !isSensitiveHeader(h)));
    out.set(name, { ...server, static_headers: { ...kept, ...client }, auth_type: 'none', auth_value: undefined });
  }
  for (const [name, limits] of servers.toolLimits) out.toolLimits.set(name, limits);
  return out;
}
