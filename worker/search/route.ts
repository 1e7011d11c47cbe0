/**
 * LiteLLM's Search API: `POST /v1/search/{search_tool_name}` (and `/search/...`, or the tool named in the body
 * of `POST /v1/search`) sends the query to the tool's provider (search/providers.ts) with the tool's own
 * credential, as a call of the caller's key: admitted through its limits and budgets at the search's price,
 * refused for a tool its `object_permission.search_tools` (or its team's) leaves out, and settled in a
 * spend-log row (`call_type: asearch`) at that price. `GET /v1/search/tools` lists the tools a key may call.
 */
import type { Context } from 'hono';
import { identify } from '../auth/authenticate.ts';
import { checkRoute } from '../auth/routes.ts';
import type { ProviderId } from '../config/providers.ts';
import type { GatewayEnv } from '../env.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { NO_USAGE } from '../providers/openai-compatible/usage.ts';
import { answerResponse } from '../proxy/answer-headers.ts';
import { admitModelCall } from '../proxy/call-admission.ts';
import { type CallContext, endUserOf, requestTags } from '../proxy/call-context.ts';
import { callSettler } from '../proxy/call-end.ts';
import { callHeaders, headerSnapshot, requestTimeoutMs, withoutCredentials } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { log } from '../telemetry/log.ts';
import { permittedPath } from '../websearch/internal.ts';
import { callableTools, searchToolRefusal } from './access.ts';
import { providerRequest, searchBase, type SearchCredential, searchCredential } from './credential.ts';
import { SEARCH_PROVIDER_WIRES } from './providers.ts';
import { searchRequestSchema } from './request.ts';
import type { SearchTool } from './schema.ts';
import { reportedError, sendSearch } from './upstream.ts';
import { cappedResults } from './wire.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** The configured tool a request names (the path's name wins over the body's), else a 400 that lists none of them. */
function toolOf(state: GatewayState, name: string | undefined): SearchTool {
  if (!name) {
    throw new GatewayError('search_tool_name is required: name the tool in the path (/v1/search/{search_tool_name}) or in the body', {
      status: 400, type: 'invalid_request_error', param: 'search_tool_name',
    });
  }
  const tool = state.config.search_tools?.find((t) => t.search_tool_name === name);
  if (!tool) {
    throw new GatewayError(`Search tool not found: ${name} (GET /v1/search/tools lists the tools this key may call)`, {
      status: 400, type: 'invalid_request_error', param: 'search_tool_name',
    });
  }
  return tool;
}

/** The stand-in deployment a search's headers, metrics and spend row name: the tool as the model group, its provider. */
function toolDeployment(tool: SearchTool): DeploymentRef {
  const provider = tool.litellm_params.search_provider;
  return {
    id: '', group: tool.search_tool_name, provider: provider as ProviderId, model: tool.search_tool_name,
    params: { model: `${provider}/search` } as DeploymentRef['params'], info: {},
  };
}

/** `POST /v1/search[/{search_tool_name}]`: one search of a configured tool, as a billed call of the caller's key. */
export async function search(c: Ctx): Promise<Response> {
  const startedAt = Date.now();
  const seen: Seen = {};
  try {
    const state = await gatewayState(c.env);
    const headers = headerSnapshot(c.req.raw.headers);
    // Web search interception's own search is held to the client's route (websearch/internal.ts), as in LiteLLM.
    const path = permittedPath(c.req.raw, c.req.path);
    const who = await identify(headers, state, path);
    // Bad input is answered to a known key only: on that path alone the key is looked up first (an unknown one
    // gets its 401); a good body's key is looked up once, by its admission below.
    const request = await readJsonBody(c.req.raw, searchRequestSchema, bodyLimit(state.config)).catch(async (err: unknown) => {
      await authenticateRoute(c, state);
      throw err;
    });
    const name = c.req.param('search_tool_name') ?? request.search_tool_name;
    // The key is looked up (admitted) before the tool: to a caller without one, no tool's existence or credential shows.
    const found = name ? state.config.search_tools?.find((t) => t.search_tool_name === name) : undefined;
    const provider = found ? SEARCH_PROVIDER_WIRES[found.litellm_params.search_provider] : undefined;
    // Priced from what the provider is sent: a client's own count or depth field prices the search it buys.
    let sent: Record<string, unknown> | undefined;
    try {
      sent = provider?.body(request);
    } catch (err) {
      // A request the provider's wire refuses (a paid option it cannot price) is bad input: answered to a known key only.
      await authenticateRoute(c, state);
      throw err;
    }
    const price = found && provider && sent ? found.litellm_params.input_cost_per_query ?? provider.price(sent) : 0;
    const body = request as Record<string, unknown>;
    const storePrompts = state.config.general_settings.store_prompts_in_spend_logs === true;
    const group = name ?? 'search';
    seen.group = group;
    seen.call = { token: who.token, body, startedAt, storePrompts, ...(found ? { deployment: toolDeployment(found) } : {}) };
    const callId = crypto.randomUUID();
    const { admission, caller, tags } = await admitModelCall(c.env, c.executionCtx, state.config, {
      who, requestId: callId, group, endUser: endUserOf({ body, headers }), ownTags: requestTags({ body, headers }),
      client: { body, headers }, estimate: { estCost: price, estTokens: 0 }, free: price === 0, seen,
    });
    let tool: SearchTool;
    let credential: SearchCredential;
    let base: string;
    try {
      const allowed = caller.kind === 'key' ? caller.policy.allowedRoutes : [];
      if (allowed.length) checkRoute(allowed, path);
      tool = toolOf(state, name);
      const refused = searchToolRefusal(caller, tool.search_tool_name, state.config.general_settings.search_tool_deny_by_default === true);
      if (refused) throw refused;
      credential = searchCredential(c.env, tool);
      base = searchBase(c.env, tool);
    } catch (err) {
      if (admission) c.executionCtx.waitUntil(admission.release());
      throw err;
    }
    const wire = SEARCH_PROVIDER_WIRES[tool.litellm_params.search_provider];
    const fields = sent ?? wire.body(request);
    const deployment = toolDeployment(tool);
    const safeHeaders = withoutCredentials(headers, [state.keyHeader]);
    const ctx: CallContext = { callId, startedAt, endpoint: 'search', caller, deployment, body, stream: false, headers: safeHeaders, keepText: false, storePrompts, tags };
    const settler = callSettler(c, state, ctx, safeHeaders, admission);
    const url = wire.url(base);
    const apiBase = new URL(url).origin;
    const timeoutMs = tool.litellm_params.timeout !== undefined ? tool.litellm_params.timeout * 1000 : requestTimeoutMs(state.config);
    const sentAt = Date.now();
    try {
      const upstream = providerRequest(wire, url, fields, credential);
      const answer = await sendSearch(tool.litellm_params.search_provider, tool.search_tool_name, upstream, upstream.headers, timeoutMs, credential.secrets);
      const reported = wire.answerError?.(answer);
      if (reported) throw reportedError(tool.litellm_params.search_provider, tool.search_tool_name, reported, credential.secrets);
      const finishedAt = Date.now();
      const shown = JSON.stringify({ object: 'search', results: cappedResults(wire.results(answer, fields)) });
      const answered = answerResponse(shown, 200, {
        callId, deployment, apiBase, contentType: 'application/json', stream: false, admission, policy: caller.kind === 'key' ? caller.policy : undefined,
        retries: 0, fallbacks: 0, cost: price, startedAt, upstreamMs: finishedAt - sentAt,
      });
      settler.overheadMs = answered.overheadMs;
      settler.settle({ outcome: { usage: NO_USAGE, finishedAt }, cost: price, apiBase, finishedAt });
      return answered.response;
    } catch (err) {
      if (!(err instanceof GatewayError)) log.error(`search ${callId} of ${tool.search_tool_name} failed:`, err instanceof Error ? err.message : String(err));
      const error = err instanceof GatewayError ? err : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
      settler.settle({ error, cost: 0, apiBase, finishedAt: Date.now() });
      return errorResponse(error, callHeaders(ctx, apiBase));
    }
  } catch (err) {
    if (err instanceof GatewayError) recordRefusedCall(c, 'search', seen, err);
    return errorResponse(err);
  }
}

/** `GET /v1/search/tools`: the configured tools the caller may call (LiteLLM's list), never their credentials. */
export async function listSearchTools(c: Ctx): Promise<Response> {
  try {
    const state = await gatewayState(c.env);
    const caller = await authenticateRoute(c, state);
    const data = callableTools(caller, state.config.search_tools ?? [], state.config.general_settings.search_tool_deny_by_default === true).map((tool) => ({
      search_tool_name: tool.search_tool_name,
      search_provider: tool.litellm_params.search_provider,
      ...(tool.search_tool_info?.description ? { description: tool.search_tool_info.description } : {}),
    }));
    return Response.json({ object: 'list', data });
  } catch (err) {
    return errorResponse(err);
  }
}
