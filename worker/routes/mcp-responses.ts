import type { Context } from 'hono';
import type { GatewayEnv } from '../env.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { isObject, type Json } from '../json.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { mcpServersFor, toolName } from '../mcp/access.ts';
import { INVALID_PARAMS, REFUSED } from '../mcp/json-rpc.ts';
import {
  addCost, addUsage, DEFAULT_MAX_TOOL_CALLS, entryServers, inputItems, isProxyMcpTool, MAX_TURNS, offeredTools, replayedInput, responseEvents, serversOf,
  toolFilterOf, toolOutputText,
} from '../mcp/responses-tools.ts';
import type { McpServer } from '../mcp/schema.ts';
import { mcpServers } from '../mcp/servers.ts';
import { responsesRequestSchema } from '../openai/request-schemas.ts';
import { endUserOf, requestTags } from '../proxy/call-context.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import { handleModelCall } from '../proxy/model-call.ts';
import { recordRefusedCall } from '../proxy/refused-call.ts';
import type { GatewayState } from '../state.ts';
import { serverTools } from '../mcp/listings.ts';
import { runTool } from '../mcp/tool-call.ts';

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
    if (err instanceof TurnFailed) return err.spent ? notRetried(errorResponse(err.error)) : errorResponse(err.error);
    if (err instanceof GatewayError) recordRefusedCall(c, 'responses', {}, err);
    throw err;
  }
}

/** A turn's refusal, recorded by the turn's own call already. */
class TurnFailed extends Error {
  readonly error: GatewayError;
  /** Whether earlier turns (or tools) were already paid for. */
  readonly spent: boolean;
  constructor(error: GatewayError, spent: boolean) {
    super(error.message);
    this.error = error;
    this.spent = spent;
  }
}

async function toolLoop(c: Ctx, state: GatewayState, request: Json): Promise<Response> {
  const caller = await authenticateRoute(c, state);
  const tools = request.tools as unknown[];
  const entries = tools.filter(isProxyMcpTool);
  if (request.background === true) throw badRequest('litellm_proxy MCP tools run while the request waits: call without background', 'background');
  if (request.conversation !== undefined && request.conversation !== null) throw badRequest('litellm_proxy MCP tools keep the conversation in the request: call without conversation (use previous_response_id or send the history)', 'conversation');
  for (const entry of entries) {
    if (serversOf(entry) === null) throw badRequest(`server_url ${String(entry.server_url)}: expected litellm_proxy or litellm_proxy/mcp/<server>[,<server>]`, 'tools');
    if (entry.require_approval !== undefined && entry.require_approval !== 'never') {
      throw badRequest('require_approval must be "never" for litellm_proxy MCP tools: the gateway calls them as the model asks (approvals are not supported)', 'tools');
    }
  }
  const allowed = mcpServersFor(caller, await mcpServers(state, c.env, c.executionCtx, entries.flatMap((e) => serversOf(e) ?? [])), headerSnapshot(c.req.raw.headers));
  // Which servers the entries offer, each with its entry's label and which of its tools they allow.
  const offered = new Map<string, { label: string; filters: ((t: Json) => boolean)[] | undefined }>();
  for (const entry of entries) {
    const { servers, missing } = entryServers(entry, allowed);
    if (missing.length) throw new GatewayError(`MCP server ${missing.join(', ')} not found`, { status: 404, type: 'not_found_error', param: 'tools' });
    const only = toolFilterOf(entry);
    const label = typeof entry.server_label === 'string' && entry.server_label && serversOf(entry)?.length === 1 ? entry.server_label : undefined;
    for (const server of servers) {
      // Two entries naming a server offer what either allows (no filter: every tool).
      const before = offered.get(server);
      const filters = !before ? (only ? [only] : undefined) : before.filters && only ? [...before.filters, only] : undefined;
      offered.set(server, { label: before?.label ?? label ?? server, filters });
    }
  }
  const scope = new Map<string, McpServer>([...offered.keys()].map((name) => [name, allowed.get(name)!]));
  const byName = new Map<string, { server: string; tool: string; label: string }>();
  const functions: Json[] = [];
  const listings: Json[] = [];
  for (const [name, { label, filters }] of offered) {
    const listed = await serverTools(name, scope.get(name)!);
    const offeredHere = (listed ?? []).filter((t) => allowed.permits(name, String(t.name)) && (!filters || filters.some((ok) => ok(t))));
    const { functions: f, listing } = offeredTools(name, label, offeredHere, byName);
    functions.push(...f);
    listings.push(listed ? listing : { ...listing, error: `MCP server ${name} did not list its tools` });
  }
  const byTool = (label: string, tool: string) => [...byName].find(([, t]) => t.label === label && t.tool === tool)?.[0];
  const otherTools = tools.filter((t) => !isProxyMcpTool(t));
  const maxCalls = typeof request.max_tool_calls === 'number' ? Math.min(request.max_tool_calls, DEFAULT_MAX_TOOL_CALLS) : DEFAULT_MAX_TOOL_CALLS;
  // The tool calls bill the request's end user and tags, as its turns do.
  const requestHeaders = headerSnapshot(c.req.raw.headers);
  const attribution = { endUser: endUserOf({ body: request, headers: requestHeaders }), tags: requestTags({ body: request, headers: requestHeaders }) };
  const { stream_options: _streamOptions, ...rest } = request;

  let input = replayedInput(inputItems(request.input), byTool);
  const calls: Json[] = [];
  let usage: Json | undefined;
  let cost = 0;
  let spent = false;
  let last: { json: Json; headers: Headers } | undefined;
  let incomplete = false;
  for (let turn = 0; ; turn++) {
    // The last turn the limits allow is asked to answer: no more tools.
    const mustAnswer = turn >= MAX_TURNS - 1 || calls.length >= maxCalls;
    const body: Json = {
      ...rest, input, tools: [...otherTools, ...functions], stream: false,
      ...(mustAnswer ? { tool_choice: 'none' } : turn > 0 && request.tool_choice !== undefined ? { tool_choice: 'auto' } : {}),
    };
    let answered: Response;
    try {
      answered = await handleModelCall(c, 'responses', responsesRequestSchema, { body });
    } catch (err) {
      throw err instanceof GatewayError ? new TurnFailed(err, spent) : err;
    }
    if (!answered.ok) return spent ? notRetried(answered) : answered;
    spent = true;
    const json = (await answered.json()) as Json;
    last = { json, headers: answered.headers };
    usage = addUsage(usage, json.usage);
    cost = addCost(cost, Number(answered.headers.get('x-litellm-response-cost') ?? 0) || 0);
    const output = Array.isArray(json.output) ? json.output.filter(isObject) : [];
    const wanted = output.filter((item) => item.type === 'function_call' && byName.has(String(item.name)));
    if (!wanted.length) break;
    if (mustAnswer) {
      // A model that calls tools anyway is answered as it stands, without the calls nobody will make.
      json.output = output.filter((item) => !wanted.includes(item));
      incomplete = true;
      break;
    }
    const foreign = output.some((item) => item.type === 'function_call' && !byName.has(String(item.name)));
    const results: Json[] = [];
    for (const item of wanted) {
      const target = byName.get(String(item.name))!;
      const mcpCall: Json = { type: 'mcp_call', id: `mcp_${crypto.randomUUID().replace(/-/g, '')}`, server_label: target.label, name: target.tool, arguments: typeof item.arguments === 'string' ? item.arguments : '{}' };
      let said: string;
      if (calls.length >= maxCalls) {
        said = 'Not run: the request\'s max_tool_calls was reached.';
        Object.assign(mcpCall, { output: null, error: { type: 'mcp_protocol_error', code: REFUSED, message: said }, status: 'incomplete' });
      } else {
        let args: unknown;
        try {
          args = typeof item.arguments === 'string' && item.arguments ? JSON.parse(item.arguments) : {};
        } catch {
          args = undefined;
        }
        const outcome = isObject(args)
          ? await runTool(c, state, scope, allowed, { name: toolName(target.server, target.tool), arguments: args }, attribution)
          : { code: INVALID_PARAMS, message: 'the arguments are not a JSON object', status: 400 };
        if ('result' in outcome) {
          cost = addCost(cost, outcome.cost);
          said = toolOutputText(outcome.result);
          const failed = outcome.result.isError === true;
          Object.assign(mcpCall, { output: failed ? null : said, error: failed ? { type: 'mcp_tool_execution_error', content: outcome.result.content ?? [] } : null, status: failed ? 'failed' : 'completed' });
        } else {
          said = `Error: ${outcome.message}`;
          Object.assign(mcpCall, { output: null, error: { type: 'mcp_protocol_error', code: outcome.code, message: outcome.message }, status: 'failed' });
        }
      }
      calls.push(mcpCall);
      results.push({ type: 'function_call_output', call_id: item.call_id, output: said });
    }
    if (foreign) {
      // The client's own functions are the client's to call: it gets them, with the MCP calls made and answered.
      json.output = output.filter((item) => !wanted.includes(item));
      break;
    }
    // The next turn sees what this one said and what the tools answered.
    input = [...input, ...output, ...results];
  }
  const final = last!.json;
  const answer: Json = {
    ...final, tools: request.tools, output: [...listings, ...calls, ...(Array.isArray(final.output) ? final.output : [])], ...(usage ? { usage } : {}),
    ...(incomplete ? { status: 'incomplete', incomplete_details: { reason: calls.length >= maxCalls ? 'max_tool_calls' : 'max_turns' } } : {}),
  };
  const headers = new Headers(last!.headers);
  // What the whole request cost: its turns and its tool calls.
  headers.set('x-litellm-response-cost', String(cost));
  headers.delete('content-length');
  if (request.stream === true) {
    headers.set('content-type', 'text/event-stream');
    const events = responseEvents(answer).map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
    return new Response(events, { status: 200, headers });
  }
  headers.set('content-type', 'application/json');
  return new Response(JSON.stringify(answer), { status: 200, headers });
}

/** An error after turns or tools were paid for: a client retrying would run (and pay for) them again. */
function notRetried(res: Response): Response {
  const headers = new Headers(res.headers);
  headers.set('x-should-retry', 'false');
  return new Response(res.body, { status: res.status, headers });
}
