/**
 * LiteLLM's MCP gateway: `POST /mcp` (and `/mcp/{server}[,{server}...]`, `/{server}/mcp`) is one MCP server
 * over Streamable HTTP whose tools, prompts and resources are those of the MCP servers (config.yaml's
 * `mcp_servers` and stored ones) the caller's key may use, tools and prompts named `<server>-<tool>`;
 * `x-mcp-servers: a,b` narrows them as the path does. Tool calls go through mcp/tool-call.ts (admitted,
 * billed, with the server's credential or the user's own, never the client's gateway key). The gateway is stateless towards clients:
 * it gives no `Mcp-Session-Id` and offers no standalone stream.
 */
import type { Context } from 'hono';
import { type Caller } from '../auth/authenticate.ts';
import { presentedKey } from '../auth/credentials.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { isObject, type Json } from '../json.ts';
import { type GrantedServers, mcpServersFor, toolName, toolTarget } from '../mcp/access.ts';
import {
  GATEWAY_INFO, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, McpError, METHOD_NOT_FOUND, PARSE_ERROR, PROTOCOL_VERSIONS, rpcError, rpcResult,
} from '../mcp/json-rpc.ts';
import { type ListKind, serverList, serverTools } from '../mcp/listings.ts';
import type { McpServer } from '../mcp/schema.ts';
import { namedServers, serversInScope } from '../mcp/scope.ts';
import { mcpServers } from '../mcp/servers.ts';
import { runTool } from '../mcp/tool-call.ts';
import { callServer } from '../mcp/upstream.ts';
import { readJsonObject } from '../openai/read-body.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { gatewayState, type GatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** How long a prompt or resource read may take. */
const DEFAULT_LIST_CALL_MS = 30_000;

/** `GET` and `DELETE`: no standalone stream, no sessions to end (MCP lets a server answer 405). */
export function mcpMethodNotAllowed(): Response {
  return new Response(null, { status: 405, headers: { allow: 'POST' } });
}

/**
 * `/{server}/mcp` (LiteLLM's form of `/mcp/{server}`): served when the caller's key may use every server it
 * names; anything else (no key, a server it may not use or that does not exist) goes on to the other routes,
 * so the path tells nobody which servers exist.
 */
export async function mcpServerPath(c: Ctx, next: () => Promise<void>): Promise<Response | void> {
  const state = await gatewayState(c.env);
  const names = (c.req.param('servers') ?? '').split(',').map((n) => n.trim());
  // No key: nothing read (the key is checked first, as everywhere); any other path of this shape goes on.
  if (!presentedKey(headerSnapshot(c.req.raw.headers), state.keyHeader)) return next();
  let caller: Caller;
  try {
    // The key's allowed_routes are held to the path this one stands for.
    caller = await authenticateRoute({ req: { raw: c.req.raw, path: `/mcp/${names.join(',')}` }, env: c.env }, state);
  } catch (err) {
    if (err instanceof GatewayError && (err.status === 401 || err.status === 403)) return next();
    throw err;
  }
  const allowed = mcpServersFor(caller, await mcpServers(state, c.env, c.executionCtx, names));
  if (!names.every((name) => allowed.has(name))) return next();
  return c.req.method === 'POST' ? mcpEndpoint(c) : mcpMethodNotAllowed();
}

export async function mcpEndpoint(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const allowed = mcpServersFor(caller, await mcpServers(state, c.env, c.executionCtx, namedServers(c)), headerSnapshot(c.req.raw.headers));
  const scope = serversInScope(c, allowed);
  const read = await readJsonObject(c.req.raw, state.config);
  if (!read) return rpcError(null, PARSE_ERROR, 'Parse error: the body is not JSON', undefined, 400);
  const message = read.json;
  if (Array.isArray(message)) return rpcError(null, INVALID_REQUEST, 'JSON-RPC batches are not supported: send one message a request', undefined, 400);
  if (!isObject(message) || message.jsonrpc !== '2.0') return rpcError(null, INVALID_REQUEST, 'Invalid Request: expected a JSON-RPC 2.0 message', undefined, 400);
  // A notification, or a response to a request of ours (there are none): accepted, nothing to answer.
  if (!('id' in message) || typeof message.method !== 'string') return new Response(null, { status: 202 });
  const { id, method } = message;
  const params = isObject(message.params) ? message.params : {};
  switch (method) {
    case 'initialize': {
      const asked = typeof params.protocolVersion === 'string' ? params.protocolVersion : '';
      return rpcResult(id, {
        protocolVersion: PROTOCOL_VERSIONS.includes(asked) ? asked : PROTOCOL_VERSIONS[0]!,
        capabilities: { tools: { listChanged: false }, prompts: { listChanged: false }, resources: { listChanged: false, subscribe: false } },
        serverInfo: GATEWAY_INFO,
      });
    }
    case 'ping':
      return rpcResult(id, {});
    case 'tools/list':
      return rpcResult(id, { tools: await listTools(scope, allowed) });
    case 'tools/call':
      return callTool(c, state, scope, allowed, id, params);
    case 'prompts/list':
      return rpcResult(id, { prompts: await listAll(scope, 'prompts', true) });
    case 'prompts/get':
      return getPrompt(scope, allowed, id, params);
    case 'resources/list':
      return rpcResult(id, { resources: await listAll(scope, 'resources', false) });
    case 'resources/templates/list':
      return rpcResult(id, { resourceTemplates: await listAll(scope, 'resourceTemplates', false) });
    case 'resources/read':
      return readResource(scope, id, params);
    default:
      return rpcError(id, METHOD_NOT_FOUND, `Method not found: ${method}`);
  }
}

/** Every tool of the servers in scope, named `<server>-<tool>`; a server that fails is left out (and logged). */
async function listTools(scope: ReadonlyMap<string, McpServer>, allowed: GrantedServers): Promise<Json[]> {
  const lists = await Promise.all([...scope].map(async ([name, server]) =>
    ((await serverTools(name, server)) ?? []).filter((t) => allowed.permits(name, String(t.name))).map((t) => ({ ...t, name: toolName(name, String(t.name)) }))));
  return lists.flat();
}

/** Every server's list of one kind; prompts named `<server>-<prompt>` as tools are, resources by their own URIs. */
async function listAll(scope: ReadonlyMap<string, McpServer>, kind: ListKind, prefixed: boolean): Promise<Json[]> {
  const lists = await Promise.all([...scope].map(async ([name, server]) =>
    ((await serverList(name, server, kind)) ?? []).map((item) => (prefixed ? { ...item, name: toolName(name, String(item.name)) } : item))));
  return lists.flat();
}

/** `prompts/get`: the prompt of the server its name says (as tools are named), from that server; not billed. */
async function getPrompt(scope: ReadonlyMap<string, McpServer>, allowed: GrantedServers, id: unknown, params: Json): Promise<Response> {
  const name = params.name;
  const target = typeof name === 'string' ? toolTarget(scope, [...allowed.keys()], name) : undefined;
  const server = target && scope.get(target.server);
  const prompts = server && (await serverList(target.server, server, 'prompts'));
  if (!target || !server || (prompts && !prompts.some((p) => p.name === target.tool))) return rpcError(id, INVALID_PARAMS, `Unknown prompt: ${String(name)}`);
  return relay(id, () => callServer(target.server, server, 'prompts/get', { ...params, name: target.tool }, DEFAULT_LIST_CALL_MS));
}

/**
 * `resources/read`: from the one server in scope, else the server that lists the URI (a URI only a template
 * of several servers matches is ambiguous: narrow to its server with the path or `x-mcp-servers`).
 */
async function readResource(scope: ReadonlyMap<string, McpServer>, id: unknown, params: Json): Promise<Response> {
  const uri = params.uri;
  if (typeof uri !== 'string' || !uri) return rpcError(id, INVALID_PARAMS, 'resources/read needs the resource\'s uri');
  let target: [string, McpServer] | undefined = scope.size === 1 ? [...scope][0] : undefined;
  for (const [name, server] of target ? [] : scope) {
    if (((await serverList(name, server, 'resources')) ?? []).some((r) => r.uri === uri)) {
      target = [name, server];
      break;
    }
  }
  if (!target) return rpcError(id, INVALID_PARAMS, `Unknown resource: ${uri} (with several servers in scope, name its server: /mcp/<server> or x-mcp-servers)`);
  const [name, server] = target;
  return relay(id, () => callServer(name, server, 'resources/read', { ...params, uri }, DEFAULT_LIST_CALL_MS));
}

/** A server's answer to a request passed back as it came, or its error. */
async function relay(id: unknown, call: () => Promise<Json>): Promise<Response> {
  try {
    return rpcResult(id, await call());
  } catch (err) {
    const failed = err instanceof McpError ? err : new McpError(INTERNAL_ERROR, 'MCP server request failed');
    return rpcError(id, failed.code, failed.message, failed.data);
  }
}

/** A tool call: admitted as a call of the key (its limits and budgets, the tool's price), passed on, billed. */
async function callTool(c: Ctx, state: GatewayState, scope: ReadonlyMap<string, McpServer>, allowed: GrantedServers, id: unknown, params: Json): Promise<Response> {
  const outcome = await runTool(c, state, scope, allowed, params);
  return 'result' in outcome ? rpcResult(id, outcome.result) : rpcError(id, outcome.code, outcome.message, outcome.data);
}

