/**
 * LiteLLM's MCP REST API, for calling tools without an MCP client: `GET /v1/mcp/server` (the servers a key
 * may use), `GET /mcp-rest/tools/list`, `POST /mcp-rest/tools/call` (billed as over `/mcp`).
 */
import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { isObject } from '../json.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { mcpServersFor } from '../mcp/access.ts';
import { serverTools } from '../mcp/listings.ts';
import { serverNamed } from '../mcp/scope.ts';
import { mcpServers } from '../mcp/servers.ts';
import { runTool } from '../mcp/tool-call.ts';
import { readJsonObject } from '../openai/read-body.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { gatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * `GET /v1/mcp/server` (and `/v1/mcp/server/{server}`): the MCP servers the key may use, as LiteLLM lists
 * them (`server_id` and `server_name` are the config name); the url only to the master key.
 */
export async function mcpServerList(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const one = c.req.param('server');
  const allowed = mcpServersFor(caller, await mcpServers(state, c.env, c.executionCtx, one === undefined ? [] : [one]));
  const shown = [...allowed].map(([name, server]) => ({
    server_id: server.server_id ?? name, server_name: name, alias: name, description: server.description ?? server.mcp_info?.description ?? null,
    transport: server.transport, auth_type: server.auth_type ?? 'none', allowed_tools: server.allowed_tools ?? [], mcp_access_groups: server.access_groups ?? [],
    mcp_info: { ...server.mcp_info, server_name: name }, ...(caller.kind === 'master' ? { url: server.url } : {}),
  }));
  if (one === undefined) return c.json(shown);
  const named = serverNamed(allowed, one);
  const found = shown.find((s) => s.server_name === named);
  if (!found) throw new GatewayError(`MCP server ${one} not found`, { status: 404, type: 'not_found_error', param: 'server_id' });
  return c.json(found);
}

/**
 * LiteLLM's MCP REST API. `GET /mcp-rest/tools/list` (`?server_id=`): the tools of the servers the key may
 * use, each by its server's own name with `mcp_info.server_name`, as `{tools, error, message}`.
 */
export async function mcpRestListTools(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const serverId = c.req.query('server_id');
  const allowed = mcpServersFor(caller, await mcpServers(state, c.env, c.executionCtx, serverId ? [serverId] : []), headerSnapshot(c.req.raw.headers));
  const named = serverId === undefined ? undefined : serverNamed(allowed, serverId);
  if (serverId && !named) return c.json({ tools: [], error: 'server_not_found', message: `Server with id ${serverId} not found` });
  const scope = named ? new Map([[named, allowed.get(named)!]]) : allowed;
  const failed: string[] = [];
  const tools = (await Promise.all([...scope].map(async ([name, server]) => {
    const listed = await serverTools(name, server);
    if (!listed) failed.push(name);
    return (listed ?? []).filter((t) => allowed.permits(name, String(t.name))).map((t) => ({ ...t, mcp_info: { ...server.mcp_info, server_name: name } }));
  }))).flat();
  const error = failed.length && (serverId || !tools.length) ? (serverId ? 'server_error' : 'partial_failure') : null;
  return c.json({ tools, error, message: error ? `Failed to get tools from ${failed.sort().join(', ')}` : 'Successfully retrieved tools' });
}

/** `POST /mcp-rest/tools/call` (`{name, arguments, server_id?}`): one tool call, billed as over `/mcp`; its result as the server gave it. */
export async function mcpRestCallTool(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const read = await readJsonObject(c.req.raw, state.config);
  if (!read) throw new GatewayError('Invalid JSON in request body', { status: 400, type: 'bad_request_error' });
  const body = read.json;
  if (!isObject(body)) throw new GatewayError('Expected a JSON object {name, arguments, server_id}', { status: 400, type: 'bad_request_error' });
  const serverId = body.server_id;
  const allowed = mcpServersFor(caller, await mcpServers(state, c.env, c.executionCtx, typeof serverId === 'string' ? [serverId] : []), headerSnapshot(c.req.raw.headers));
  const named = typeof serverId === 'string' ? serverNamed(allowed, serverId) : undefined;
  if (serverId !== undefined && !named) {
    throw new GatewayError(`MCP server ${String(serverId)} not found`, { status: 404, type: 'not_found_error', param: 'server_id' });
  }
  const scope = named ? new Map([[named, allowed.get(named)!]]) : allowed;
  const { server_id: _server, ...params } = body;
  const outcome = await runTool(c, state, scope, allowed, params);
  if ('result' in outcome) return c.json(outcome.result);
  // A refusal as the gateway made it (its type, param and retry-after); the rest as what it is.
  throw outcome.error ?? new GatewayError(outcome.message, { status: outcome.status, type: outcome.status === 404 ? 'not_found_error' : outcome.status === 502 ? 'upstream_error' : 'bad_request_error' });
}
