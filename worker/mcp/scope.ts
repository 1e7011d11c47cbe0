/** Which of the caller's MCP servers a request names: by the path (`/mcp/a,b`), `x-mcp-servers`, or a stored server's id. */
import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import type { McpServer } from './schema.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** A server by its name, or a stored server by its id (LiteLLM's UI names servers by id). */
export function serverNamed(servers: ReadonlyMap<string, McpServer>, id: string): string | undefined {
  if (servers.has(id)) return id;
  return [...servers].find(([, s]) => s.server_id === id)?.[0];
}

/** The lists of servers the path (`/mcp/a,b`) and `x-mcp-servers` name. */
function namedLists(c: Ctx): string[][] {
  return [c.req.param('servers'), c.req.header('x-mcp-servers')].filter((v): v is string => !!v)
    .map((list) => list.split(',').map((s) => s.trim()).filter(Boolean));
}

export const namedServers = (c: Ctx) => namedLists(c).flat();

/**
 * The servers the caller may use, narrowed by the path (`/mcp/a,b`) and `x-mcp-servers`; naming one that
 * does not exist is a 404, one the key may not use a 403.
 */
export function serversInScope(c: Ctx, allowed: Map<string, McpServer>): Map<string, McpServer> {
  const named = namedLists(c);
  let scope = allowed;
  for (const list of named) {
    // One answer for a server that is not configured and one the key may not use: a key cannot learn the others' names.
    for (const name of list) if (!allowed.has(name)) throw new GatewayError(`MCP server ${name} not found`, { status: 404, type: 'not_found_error', param: 'mcp_servers' });
    scope = new Map([...scope].filter(([name]) => list.includes(name)));
  }
  return scope;
}

