/**
 * One MCP tool call as a call of the gateway: the tool found among the caller's servers, admitted as a call of
 * its key (limits, budgets, the tool's `mcp_server_cost_info` price), passed to its server with the server's
 * credential (or the user's own, access.ts), and settled in a spend-log row (`call_type: call_mcp_tool`). `/mcp`, the REST API and the
 * Responses API's tool loop all call tools through here.
 */
import type { Context } from 'hono';
import { identify } from '../auth/authenticate.ts';
import { checkRoute } from '../auth/routes.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { isObject, type Json } from '../json.ts';
import { standInDeployment } from '../models/deployments.ts';
import { NO_USAGE } from '../providers/openai-compatible/usage.ts';
import { admitModelCall } from '../proxy/call-admission.ts';
import { type CallContext, endUserOf, requestTags } from '../proxy/call-context.ts';
import { callSettler } from '../proxy/call-end.ts';
import { headerSnapshot, withoutCredentials } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import type { GatewayState } from '../state.ts';
import { type GrantedServers, toolCost, toolName, toolOffered, toolTarget } from './access.ts';
import { INTERNAL_ERROR, INVALID_PARAMS, McpError, REFUSED } from './json-rpc.ts';
import { serverTools } from './listings.ts';
import type { McpServer } from './schema.ts';
import { callServer } from './upstream.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** How long a tool call may take unless its server's `timeout` says. */
const DEFAULT_CALL_TIMEOUT_S = 600;

/** A tool call's result (and what it cost), or the JSON-RPC error it ends in (`status`: the gateway's HTTP status for it, for REST). */
export type ToolOutcome = { result: Json; cost: number } | { code: number; message: string; data?: unknown; status: number; error?: GatewayError };

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
  const body: Json = { model: toolName(target.server, target.tool), mcp_server: target.server, tool: target.tool };
  // The tool is the client's to name: its metric labels are "other" (CLIENT_NAMED).
  const deployment = standInDeployment('', toolName(target.server, target.tool), { group: target.server, clientNamed: true });
  const storePrompts = state.config.general_settings.store_prompts_in_spend_logs === true;
  const seen: Seen = { group: target.server };
  const who = await identify(headers, state, c.req.path);
  seen.call = { token: who.token, body, startedAt, storePrompts, deployment };
  let admitted;
  try {
    admitted = await admitModelCall(c.env, c.executionCtx, state.config, {
      who, requestId: callId, group: target.server, endUser: attribution ? attribution.endUser : endUserOf({ body, headers }),
      ownTags: attribution ? attribution.tags : requestTags({ body, headers }),
      ...(attribution ? {} : { client: { body, headers } }),
      estimate: { estCost: cost, estTokens: 0 }, free: cost === 0, seen,
    });
    const allowed = admitted.caller.kind === 'key' ? admitted.caller.policy.allowedRoutes : [];
    if (allowed.length) checkRoute(allowed, c.req.path);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    recordRefusedCall(c, 'mcp', seen, err);
    if (admitted?.admission) c.executionCtx.waitUntil(admitted.admission.release());
    const retryAfter = err.headers['retry-after'];
    return { code: REFUSED, message: err.message, data: { status: err.status, type: err.type, ...(retryAfter ? { retry_after: retryAfter } : {}) }, status: err.status, error: err };
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

