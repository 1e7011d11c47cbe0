import type { Caller } from '../auth/authenticate.ts';
import { isObject } from '../json.ts';
import type { McpServer } from './schema.ts';

const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * The MCP servers (config.yaml's `mcp_servers`, Streamable HTTP ones) a caller may use, as LiteLLM grants
 * them: the master key every one; a virtual key those its `object_permission` names (`mcp_servers`, or an
 * `mcp_access_groups` entry of the server's `access_groups`), and those with `allow_all_keys`.
 */
export function mcpServersFor(caller: Caller, servers: Readonly<Record<string, McpServer>>): Map<string, McpServer> {
  const out = new Map<string, McpServer>();
  const permission = caller.kind === 'key' && isObject(caller.policy.metadata.object_permission) ? caller.policy.metadata.object_permission : {};
  const granted = new Set(names(permission.mcp_servers));
  const groups = new Set(names(permission.mcp_access_groups));
  for (const [name, server] of Object.entries(servers)) {
    if (server.transport !== 'http') continue;
    const allowed = caller.kind === 'master' || server.allow_all_keys === true || granted.has(name) || (server.access_groups ?? []).some((g) => groups.has(g));
    if (allowed) out.set(name, server);
  }
  return out;
}

/** Whether a server offers one of its tools (by the server's own name): `allowed_tools` when set, never `disallowed_tools`. */
export function toolOffered(server: McpServer, tool: string): boolean {
  if (server.disallowed_tools?.includes(tool)) return false;
  return !server.allowed_tools?.length || server.allowed_tools.includes(tool);
}

/** What one call of a tool costs: its own price, else the server's default, else 0. */
export function toolCost(server: McpServer, tool: string): number {
  const prices = server.mcp_info?.mcp_server_cost_info;
  return prices?.tool_name_to_cost_per_query?.[tool] ?? prices?.default_cost_per_query ?? 0;
}

/** The separator of a server's name and its tool's in the names `/mcp` offers (LiteLLM's MCP_TOOL_PREFIX_SEPARATOR). */
export const TOOL_SEPARATOR = '-';

/**
 * The server and tool a name offered by `/mcp` stands for: `<server>-<tool>` (the longest configured server
 * name that fits; undefined when that server is not in scope), or, when only one server is in scope and the
 * name names no configured server, that server's tool of that very name.
 */
export function toolTarget(scope: ReadonlyMap<string, McpServer>, configured: readonly string[], name: string): { server: string; tool: string } | undefined {
  const byLength = [...configured].sort((a, b) => b.length - a.length);
  const server = byLength.find((s) => name.startsWith(`${s}${TOOL_SEPARATOR}`) && name.length > s.length + 1);
  if (server) return scope.has(server) ? { server, tool: name.slice(server.length + 1) } : undefined;
  if (scope.size === 1) return { server: [...scope.keys()][0]!, tool: name };
  return undefined;
}
