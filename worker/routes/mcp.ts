/**
 * LiteLLM's MCP gateway: `POST /mcp` (and `/mcp/{server}[,{server}...]`) is one MCP server over Streamable
 * HTTP whose tools are those of config.yaml's `mcp_servers` the caller's key may use, each named
 * `<server>-<tool>`; `x-mcp-servers: a,b` narrows them as the path does. A tool call is admitted and billed
 * as a call (the key's limits and budgets; the server's `mcp_server_cost_info` price; a spend-log row with
 * `call_type: call_mcp_tool`) and passed to its server with the server's own credential, never the client's.
 * The gateway is stateless towards clients: it gives no `Mcp-Session-Id` and offers no standalone stream.
 */
import type { Context } from 'hono';
import type { Caller } from '../auth/authenticate.ts';
import { identify } from '../auth/authenticate.ts';
import { checkRoute } from '../auth/routes.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { isObject, type Json } from '../json.ts';
import { type GrantedServers, mcpServersFor, TOOL_SEPARATOR, toolCost, toolOffered, toolTarget } from '../mcp/access.ts';
import type { McpServer } from '../mcp/schema.ts';
import { mcpServers } from '../mcp/servers.ts';
import { type ListKind, serverList, serverTools } from '../mcp/listings.ts';
import { callServer, GATEWAY_INFO, McpError, PROTOCOL_VERSIONS } from '../mcp/upstream.ts';
import { standInDeployment } from '../models/deployments.ts';
import { bodyLimit, DEFAULT_MAX_BODY_BYTES, readBoundedBytes } from '../openai/read-body.ts';
import { NO_USAGE } from '../providers/openai-compatible/usage.ts';
import { admitModelCall } from '../proxy/call-admission.ts';
import { type CallContext, requestTags } from '../proxy/call-context.ts';
import { callSettler } from '../proxy/call-end.ts';
import { headerSnapshot, withoutCredentials } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { gatewayState, type GatewayState } from '../state.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

const DEFAULT_CALL_TIMEOUT_S = 600;
/** How long a prompt or resource read may take. */
const DEFAULT_LIST_CALL_MS = 30_000;

// JSON-RPC's error codes.
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;
/** A call the gateway refused (limits, budget): the gateway's error in `data`. */
const REFUSED = -32000;

const rpcResult = (id: unknown, result: Json) => Response.json({ jsonrpc: '2.0', id, result });
const rpcError = (id: unknown, code: number, message: string, data?: unknown, status = 200) =>
  Response.json({ jsonrpc: '2.0', id: id ?? null, error: { code, message, ...(data !== undefined ? { data } : {}) } }, { status });

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
  const configured = await mcpServers(state, c.env, c.executionCtx, names);
  if (!names.every((name) => Object.hasOwn(configured, name))) return next();
  let allowed: Map<string, McpServer>;
  try {
    allowed = mcpServersFor(await authenticateRoute(c, state), configured);
  } catch {
    return next();
  }
  if (!names.every((name) => allowed.has(name))) return next();
  return c.req.method === 'POST' ? mcpEndpoint(c) : mcpMethodNotAllowed();
}

/**
 * `GET /v1/mcp/server` (and `/v1/mcp/server/{server}`): the MCP servers the key may use, as LiteLLM lists
 * them (`server_id` and `server_name` are the config name); the url only to the master key.
 */
export async function mcpServerList(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const shown = [...mcpServersFor(caller, await mcpServers(state, c.env, c.executionCtx))].map(([name, server]) => ({
    server_id: server.server_id ?? name, server_name: name, alias: name, description: server.description ?? server.mcp_info?.description ?? null,
    transport: server.transport, auth_type: server.auth_type ?? 'none', allowed_tools: server.allowed_tools ?? [], mcp_access_groups: server.access_groups ?? [],
    mcp_info: { ...server.mcp_info, server_name: name }, ...(caller.kind === 'master' ? { url: server.url } : {}),
  }));
  const one = c.req.param('server');
  if (one === undefined) return c.json(shown);
  const found = shown.find((s) => s.server_id === one);
  if (!found) throw new GatewayError(`MCP server ${one} not found`, { status: 404, type: 'not_found_error', param: 'server_id' });
  return c.json(found);
}

export async function mcpEndpoint(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const allowed = mcpServersFor(caller, await mcpServers(state, c.env, c.executionCtx, namedServers(c)));
  const scope = serversInScope(c, allowed);
  let message: unknown;
  try {
    const bytes = await readBoundedBytes(c.req.raw, bodyLimit(state.config).maxBytes ?? DEFAULT_MAX_BODY_BYTES);
    message = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    return rpcError(null, PARSE_ERROR, 'Parse error: the body is not JSON', undefined, 400);
  }
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

/** A server by its name, or a stored server by its id (LiteLLM's UI names servers by id). */
function serverNamed(servers: ReadonlyMap<string, McpServer>, id: string): string | undefined {
  if (servers.has(id)) return id;
  return [...servers].find(([, s]) => s.server_id === id)?.[0];
}

/** The lists of servers the path (`/mcp/a,b`) and `x-mcp-servers` name. */
function namedLists(c: Ctx): string[][] {
  return [c.req.param('servers'), c.req.header('x-mcp-servers')].filter((v): v is string => !!v)
    .map((list) => list.split(',').map((s) => s.trim()).filter(Boolean));
}

const namedServers = (c: Ctx) => namedLists(c).flat();

/**
 * The servers the caller may use, narrowed by the path (`/mcp/a,b`) and `x-mcp-servers`; naming one that
 * does not exist is a 404, one the key may not use a 403.
 */
function serversInScope(c: Ctx, allowed: Map<string, McpServer>): Map<string, McpServer> {
  const named = namedLists(c);
  let scope = allowed;
  for (const list of named) {
    // One answer for a server that is not configured and one the key may not use: a key cannot learn the others' names.
    for (const name of list) if (!allowed.has(name)) throw new GatewayError(`MCP server ${name} not found`, { status: 404, type: 'not_found_error', param: 'mcp_servers' });
    scope = new Map([...scope].filter(([name]) => list.includes(name)));
  }
  return scope;
}

/** Every tool of the servers in scope, named `<server>-<tool>`; a server that fails is left out (and logged). */
async function listTools(scope: ReadonlyMap<string, McpServer>, allowed: GrantedServers): Promise<Json[]> {
  const lists = await Promise.all([...scope].map(async ([name, server]) =>
    ((await serverTools(name, server)) ?? []).filter((t) => allowed.permits(name, String(t.name))).map((t) => ({ ...t, name: `${name}${TOOL_SEPARATOR}${String(t.name)}` }))));
  return lists.flat();
}

/** Every server's list of one kind; prompts named `<server>-<prompt>` as tools are, resources by their own URIs. */
async function listAll(scope: ReadonlyMap<string, McpServer>, kind: ListKind, prefixed: boolean): Promise<Json[]> {
  const lists = await Promise.all([...scope].map(async ([name, server]) =>
    ((await serverList(name, server, kind)) ?? []).map((item) => (prefixed ? { ...item, name: `${name}${TOOL_SEPARATOR}${String(item.name)}` } : item))));
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

/** A tool call's result (and what it cost), or the JSON-RPC error it ends in (`status`: the gateway's HTTP status for it, for REST). */
export type ToolOutcome = { result: Json; cost: number } | { code: number; message: string; data?: unknown; status: number };

/** Who a tool call of a model call is made for: the model call's end user and tags (its budgets and spend rows). */
export interface ToolAttribution {
  endUser: string | null;
  tags: string[];
}

/**
 * `scope`: the servers the call may reach; `allowed`: all the caller may use (a name's prefix is read against
 * those, so a server it may not use is as unknown as one that does not exist). A tool the server does not
 * list is unknown too, unless its listing fails (the server then judges the call).
 */
export async function runTool(
  c: Ctx, state: GatewayState, scope: ReadonlyMap<string, McpServer>, allowed: GrantedServers, params: Json, attribution?: ToolAttribution,
): Promise<ToolOutcome> {
  const name = params.name;
  if (typeof name !== 'string' || !name) return { code: INVALID_PARAMS, message: 'tools/call needs the tool\'s name', status: 400 };
  const target = toolTarget(scope, [...allowed.keys()], name);
  const server = target && scope.get(target.server);
  const unknown = { code: INVALID_PARAMS, message: `Unknown tool: ${name}`, status: 404 };
  if (!target || !server || !toolOffered(server, target.tool) || !allowed.permits(target.server, target.tool)) return unknown;
  const listedTools = await serverTools(target.server, server);
  if (listedTools && !listedTools.some((t) => t.name === target.tool)) return unknown;
  const args = params.arguments === undefined ? {} : params.arguments;
  if (!isObject(args)) return { code: INVALID_PARAMS, message: 'tools/call arguments must be an object', status: 400 };

  const startedAt = Date.now();
  const callId = crypto.randomUUID();
  const headers = headerSnapshot(c.req.raw.headers);
  const cost = toolCost(server, target.tool);
  const body: Json = { model: `${target.server}${TOOL_SEPARATOR}${target.tool}`, mcp_server: target.server, tool: target.tool };
  // The tool is the client's to name: its metric labels are "other" (CLIENT_NAMED).
  const deployment = standInDeployment('', `${target.server}${TOOL_SEPARATOR}${target.tool}`, { group: target.server, clientNamed: true });
  const storePrompts = state.config.general_settings.store_prompts_in_spend_logs === true;
  const seen: Seen = { group: target.server };
  const who = await identify(headers, state.masterKeyHash, state.keyHeader);
  seen.call = { token: who.token, body, startedAt, storePrompts, deployment };
  let admitted;
  try {
    admitted = await admitModelCall(c.env, c.executionCtx, state.config, {
      who, requestId: callId, group: target.server, endUser: attribution ? attribution.endUser : headers.get('x-litellm-end-user-id'),
      ownTags: attribution ? attribution.tags : requestTags({ body, headers }),
      estimate: { estCost: cost, estTokens: 0 }, free: cost === 0, seen,
    });
    const allowed = admitted.caller.kind === 'key' ? admitted.caller.policy.allowedRoutes : [];
    if (allowed.length) checkRoute(allowed, c.req.path);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    recordRefusedCall(c, 'mcp', seen, err);
    if (admitted?.admission) c.executionCtx.waitUntil(admitted.admission.release());
    return { code: REFUSED, message: err.message, data: { status: err.status, type: err.type }, status: err.status };
  }
  const { admission, caller, tags } = admitted;
  const safeHeaders = withoutCredentials(headers, [state.keyHeader]);
  const ctx: CallContext = {
    callId, startedAt, endpoint: 'mcp', caller, deployment, body, stream: false, headers: safeHeaders, keepText: false, storePrompts, tags,
  };
  const settler = callSettler(c, state, ctx, safeHeaders, admission);
  const apiBase = new URL(server.url).origin;
  let outcome: ToolOutcome;
  try {
    outcome = { result: await callServer(target.server, server, 'tools/call', { ...params, name: target.tool, arguments: args }, (server.timeout ?? DEFAULT_CALL_TIMEOUT_S) * 1000), cost };
  } catch (err) {
    const failed = err instanceof McpError ? err : new McpError(INTERNAL_ERROR, 'MCP tool call failed');
    outcome = { code: failed.code, message: failed.message, data: failed.data, status: 502 };
  }
  // A result is the server's answer, billed even when it reports the tool's own error (isError); no answer costs nothing.
  if ('result' in outcome) settler.settle({ outcome: { usage: NO_USAGE, finishedAt: Date.now() }, cost, apiBase, finishedAt: Date.now() });
  else settler.settle({ error: new GatewayError(`MCP server ${target.server}: ${outcome.message}`, { status: 502, type: 'upstream_error' }), cost: 0, apiBase, finishedAt: Date.now() });
  return outcome;
}

/**
 * LiteLLM's MCP REST API. `GET /mcp-rest/tools/list` (`?server_id=`): the tools of the servers the key may
 * use, each by its server's own name with `mcp_info.server_name`, as `{tools, error, message}`.
 */
export async function mcpRestListTools(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const serverId = c.req.query('server_id');
  const allowed = mcpServersFor(caller, await mcpServers(state, c.env, c.executionCtx, serverId ? [serverId] : []));
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
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(await readBoundedBytes(c.req.raw, bodyLimit(state.config).maxBytes ?? DEFAULT_MAX_BODY_BYTES)));
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError('Invalid JSON in request body', { status: 400, type: 'bad_request_error' });
  }
  if (!isObject(body)) throw new GatewayError('Expected a JSON object {name, arguments, server_id}', { status: 400, type: 'bad_request_error' });
  const serverId = body.server_id;
  const allowed = mcpServersFor(caller, await mcpServers(state, c.env, c.executionCtx, typeof serverId === 'string' ? [serverId] : []));
  const named = typeof serverId === 'string' ? serverNamed(allowed, serverId) : undefined;
  if (serverId !== undefined && !named) {
    throw new GatewayError(`MCP server ${String(serverId)} not found`, { status: 404, type: 'not_found_error', param: 'server_id' });
  }
  const scope = named ? new Map([[named, allowed.get(named)!]]) : allowed;
  const { server_id: _server, ...params } = body;
  const outcome = await runTool(c, state, scope, allowed, params);
  if ('result' in outcome) return c.json(outcome.result);
  throw new GatewayError(outcome.message, { status: outcome.status, type: outcome.code === REFUSED && isObject(outcome.data) ? String(outcome.data.type) : outcome.status === 502 ? 'upstream_error' : 'bad_request_error' });
}
