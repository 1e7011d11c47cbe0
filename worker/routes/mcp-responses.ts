import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { isObject, type Json } from '../json.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { mcpServersFor } from '../mcp/access.ts';
import {
  addUsage, allowedToolsOf, entryServers, inputItems, isProxyMcpTool, MAX_TURNS, offeredTools, responseEvents, toolOutputText,
} from '../mcp/responses-tools.ts';
import type { McpServer } from '../mcp/schema.ts';
import { responsesRequestSchema } from '../openai/request-schemas.ts';
import { handleModelCall } from '../proxy/model-call.ts';
import { recordRefusedCall } from '../proxy/refused-call.ts';
import type { GatewayState } from '../state.ts';
import { runTool, serverTools } from './mcp.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

const badRequest = (message: string, param: string) => new GatewayError(message, { status: 400, type: 'bad_request_error', param });

/**
 * `POST /v1/responses` with LiteLLM's `{type: "mcp", server_url: "litellm_proxy"}` tools (responses-tools.ts):
 * the model's turns and the tools' calls, until the model answers; each turn through the ordinary
 * Responses API path (its key, limits, budget, routing and spend row), each tool call as `/mcp` makes it.
 */
export async function mcpResponses(c: Ctx, state: GatewayState, request: Json): Promise<Response> {
  try {
    return await toolLoop(c, state, request);
  } catch (err) {
    if (err instanceof TurnFailed) return errorResponse(err.error);
    if (err instanceof GatewayError) recordRefusedCall(c, 'responses', {}, err);
    throw err;
  }
}

/** A turn's refusal, recorded by the turn's own call already. */
class TurnFailed extends Error {
  readonly error: GatewayError;
  constructor(error: GatewayError) {
    super(error.message);
    this.error = error;
  }
}

async function toolLoop(c: Ctx, state: GatewayState, request: Json): Promise<Response> {
  const caller = await authenticateRoute(c, state);
  const allowed = mcpServersFor(caller, state.config.mcp_servers ?? {});
  const tools = request.tools as unknown[];
  const entries = tools.filter(isProxyMcpTool);
  if (request.background === true) throw badRequest('litellm_proxy MCP tools run while the request waits: call without background', 'background');
  // Which server each offered tool belongs to, and which of its tools the entries allow.
  const offered = new Map<string, Set<string> | undefined>();
  for (const entry of entries) {
    if (entry.require_approval !== undefined && entry.require_approval !== 'never') {
      throw badRequest('require_approval must be "never" for litellm_proxy MCP tools: the gateway calls them as the model asks (approvals are not supported)', 'tools');
    }
    const { servers, missing } = entryServers(entry, allowed);
    if (missing.length) throw new GatewayError(`MCP server ${missing.join(', ')} not found`, { status: 404, type: 'not_found_error', param: 'tools' });
    const only = allowedToolsOf(entry);
    for (const server of servers) {
      // Two entries naming a server offer what either allows (undefined: every tool).
      const before = offered.get(server);
      offered.set(server, !offered.has(server) ? only : before && only ? new Set([...before, ...only]) : undefined);
    }
  }
  const scope = new Map<string, McpServer>([...offered.keys()].map((name) => [name, allowed.get(name)!]));
  const functions: Json[] = [];
  const listings: Json[] = [];
  for (const [name, only] of offered) {
    const listed = (await serverTools(name, scope.get(name)!)) ?? [];
    const { functions: f, listing } = offeredTools(name, listed.filter((t) => !only || only.has(String(t.name))));
    functions.push(...f);
    listings.push(listing);
  }
  const mcpNames = new Set(functions.map((f) => String(f.name)));
  const otherTools = tools.filter((t) => !isProxyMcpTool(t));
  const maxCalls = typeof request.max_tool_calls === 'number' ? request.max_tool_calls : Infinity;

  let input = inputItems(request.input);
  const calls: Json[] = [];
  let usage: Json | undefined;
  let turnCost = 0;
  let last: { json: Json; headers: Headers } | undefined;
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    const body: Json = {
      ...request, input, tools: [...otherTools, ...functions], stream: false,
      // A first turn's `required` would have every later turn call a tool again.
      ...(turn > 0 && request.tool_choice !== undefined ? { tool_choice: 'auto' } : {}),
    };
    let answered: Response;
    try {
      answered = await handleModelCall(c, 'responses', responsesRequestSchema, { body });
    } catch (err) {
      throw err instanceof GatewayError ? new TurnFailed(err) : err;
    }
    if (!answered.ok) return answered;
    const json = (await answered.json()) as Json;
    last = { json, headers: answered.headers };
    usage = addUsage(usage, json.usage);
    turnCost += Number(answered.headers.get('x-litellm-response-cost') ?? 0) || 0;
    const output = Array.isArray(json.output) ? json.output.filter(isObject) : [];
    const wanted = output.filter((item) => item.type === 'function_call' && mcpNames.has(String(item.name)));
    if (!wanted.length || calls.length >= maxCalls) break;
    const results: Json[] = [];
    for (const item of wanted) {
      if (calls.length >= maxCalls) break;
      const name = String(item.name);
      let args: unknown;
      try {
        args = typeof item.arguments === 'string' && item.arguments ? JSON.parse(item.arguments) : {};
      } catch {
        args = undefined;
      }
      const outcome = isObject(args) ? await runTool(c, state, scope, allowed, { name, arguments: args }) : { code: -32602, message: 'the arguments are not a JSON object', status: 400 };
      const [server, tool] = [name.slice(0, name.indexOf('-')), name.slice(name.indexOf('-') + 1)];
      const text = 'result' in outcome ? toolOutputText(outcome.result) : undefined;
      calls.push({
        type: 'mcp_call', id: `mcp_${crypto.randomUUID().replace(/-/g, '')}`, server_label: server, name: tool, arguments: item.arguments ?? '{}',
        output: text ?? null, error: 'result' in outcome ? (outcome.result.isError === true ? text ?? 'the tool failed' : null) : outcome.message,
      });
      results.push({ type: 'function_call_output', call_id: item.call_id, output: text ?? `Error: ${'message' in outcome ? outcome.message : ''}` });
    }
    // The next turn sees what this one said and what the tools answered.
    input = [...input, ...output, ...results];
  }
  const final = last!.json;
  const answer: Json = { ...final, tools: request.tools, output: [...listings, ...calls, ...(Array.isArray(final.output) ? final.output : [])], ...(usage ? { usage } : {}) };
  const headers = new Headers(last!.headers);
  headers.set('x-litellm-response-cost', String(turnCost));
  headers.delete('content-length');
  if (request.stream === true) {
    headers.set('content-type', 'text/event-stream');
    const events = responseEvents(answer).map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
    return new Response(events, { status: 200, headers });
  }
  headers.set('content-type', 'application/json');
  return new Response(JSON.stringify(answer), { status: 200, headers });
}
