/**
 * One A2A JSON-RPC call through the gateway: admitted as a call of the caller's key (rpm, parallel requests,
 * budgets, with the agent's `cost_per_query` as the estimate) and of the agent (its `rpm_limit`), sent to the agent
 * with the agent's own credential and headers (never the caller's key; agent-headers.ts), passed back as it comes (a `message/stream` SSE stream event by event, agent-stream.ts),
 * and settled in a spend-log row (`call_type: asend_message`, `model: a2a_agent/<card name or id>`, `metadata.agent_id`,
 * `api_base` the gateway's own path: the agent's address is the admin's, not the caller's to see).
 */
import type { Context } from 'hono';
import { type Caller, identify } from '../auth/authenticate.ts';
import { checkRoute } from '../auth/routes.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { isObject, type Json } from '../json.ts';
import { standInDeployment } from '../models/deployments.ts';
import { NO_USAGE } from '../providers/openai-compatible/usage.ts';
import { admitModelCall } from '../proxy/call-admission.ts';
import { type CallContext, requestTags } from '../proxy/call-context.ts';
import { callSettler } from '../proxy/call-end.ts';
import { headerSnapshot, requestTimeoutMs, withoutCredentials } from '../proxy/call-helpers.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import type { GatewayState } from '../state.ts';
import type { Agent, Agents } from './registry.ts';
import { agentHeaders } from './agent-headers.ts';
import { passStream } from './agent-stream.ts';
import { admitAgentCall } from './agent-limits.ts';
import { INTERNAL_ERROR, rpcError, TASK_NOT_FOUND } from './json-rpc.ts';
import { recordTaskOwner, refusesTask } from './task-owners.ts';
import { boundedText } from '../mcp/answers.ts';
import { McpError } from '../mcp/json-rpc.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** The JSON-RPC request as the agent gets it: its id, the method's wire name, its params. */
export interface AgentRequest {
  id: Json[string];
  method: string;
  params: Json;
}

/** Whether a method is a message (billed at `cost_per_query`); task reads and cancels cost nothing. */
const isMessage = (method: string) => method === 'message/send' || method === 'message/stream';

/**
 * Admits, sends and settles one call of `agent`; refusals throw the gateway's own error (its envelope and status).
 * `all` is every agent the gateway serves: an `x-a2a-{agent}-*` header another one's name claims is not this one's.
 */
export async function callAgent(c: Ctx, state: GatewayState, agent: Agent, all: Agents, request: AgentRequest): Promise<Response> {
  const startedAt = Date.now();
  const callId = crypto.randomUUID();
  const headers = headerSnapshot(c.req.raw.headers);
  // tasks/resubscribe answers as message/stream does: the task's events as SSE.
  const stream = request.method === 'message/stream' || request.method === 'tasks/resubscribe';
  const cost = isMessage(request.method) ? agent.costPerQuery : 0;
  // LiteLLM's model for an agent call: `a2a_agent/{agent_card_params.name or agent_id}`.
  const cardName = typeof agent.card.name === 'string' && agent.card.name ? agent.card.name : agent.agent_id;
  const group = `a2a_agent/${cardName}`;
  const body: Json = { model: group, agent_id: agent.agent_id, a2a_method: request.method };
  // The agent's name is the admin's, but the path that reached it is the client's: its metric labels are "other".
  const deployment = { ...standInDeployment('', group, { group, clientNamed: true }), provider: 'a2a_agent' as never };
  const storePrompts = state.config.general_settings.store_prompts_in_spend_logs === true;
  const seen: Seen = { group };
  const who = await identify(headers, state, c.req.path);
  seen.call = { token: who.token, body, startedAt, storePrompts, deployment };
  let admitted;
  let foreign = false;
  try {
    admitted = await admitModelCall(c.env, c.executionCtx, state.config, {
      who, requestId: callId, group, endUser: null, ownTags: requestTags({ body, headers }), client: { body, headers },
      // Never `free`: a key over its budget is refused even an agent without a price (and task reads), as for a priced model.
      estimate: { estCost: cost, estTokens: 0 }, free: false, seen,
    });
    const routes = admitted.caller.kind === 'key' ? admitted.caller.policy.allowedRoutes : [];
    if (routes.length) checkRoute(routes, c.req.path);
    // A task (or context) another owner started is unknown to this caller (task-owners.ts): the agent is not called.
    foreign = await refusesTask(c.env, admitted.caller, agent.agent_id, request.method, request.params);
    // The agent's own rpm_limit / tpm_limit, last: a call the key's limits refuse is not counted against the agent.
    if (!foreign) await admitAgentCall(c.env, c.executionCtx, agent, callId, group);
  } catch (err) {
    if (err instanceof GatewayError) recordRefusedCall(c, 'a2a', seen, err);
    if (admitted?.admission) c.executionCtx.waitUntil(admitted.admission.release());
    throw err;
  }
  const outbound = agentHeaders(agent, headers, state.keyHeader, all);
  // What the client sent for the agent (extra_headers, x-a2a-*) is the agent's: never in logs or spend rows.
  const safeHeaders = withoutCredentials(headers, [state.keyHeader, ...outbound.unlogged]);
  const ctx: CallContext = { callId, startedAt, endpoint: 'a2a', caller: admitted.caller, deployment, body, stream, headers: safeHeaders, keepText: false, storePrompts, tags: admitted.tags };
  const settler = callSettler(c, state, ctx, safeHeaders, admitted.admission);
  const apiBase = `/a2a/${agent.agent_id}`;
  const failed = (message: string, status = 502) => {
    settler.settle({ error: new GatewayError(message, { status, type: 'upstream_error' }), cost: 0, apiBase, finishedAt: Date.now() });
    return rpcError(request.id, INTERNAL_ERROR, message, status, callId);
  };
  const own = { 'x-litellm-call-id': callId };
  // As the agent answers a task it does not know (A2A's TaskNotFoundError, HTTP 200; one SSE event for a stream), naming no owner.
  const notFound = (why: string) => {
    settler.settle({ error: new GatewayError(`Agent ${agent.agent_name}: ${why}`, { status: 404, type: 'not_found_error' }), cost: 0, apiBase, finishedAt: Date.now() });
    return rpcAnswer({ jsonrpc: '2.0', id: request.id, error: { code: TASK_NOT_FOUND, message: 'Task not found' } }, stream, own);
  };
  if (foreign) return notFound("the task is not this caller's (not sent to the agent)");
  // Whose a task the agent hands out is recorded before the client sees its id, and each answer of the owner's
  // naming it renews the record (task-owners.ts): an answer naming another's id, or unrecordable, is withheld.
  const caller = admitted.caller;
  const record = (result: unknown) => recordTaskOwner(c.env, caller, agent.agent_id, result);

  // A plain answer is bounded as a whole; a stream until its first chunk (passStream clears the timer then).
  const timeoutMs = requestTimeoutMs(state.config);
  const guard = new AbortController();
  const timer = setTimeout(() => guard.abort(), timeoutMs);
  const timeoutFailure = () => failed(`Agent ${agent.agent_name} did not answer in time`, 504);
  let answer: Response;
  try {
    answer = await fetch(agent.url, {
      method: 'POST',
      headers: withOwnHeaders(outbound.headers, stream, admitted.caller),
      body: JSON.stringify({ jsonrpc: '2.0', id: request.id, method: request.method, params: request.params }),
      signal: guard.signal,
      // A redirect is not followed: it would send the message and the x-litellm-* headers somewhere the admin did not name.
      redirect: 'manual',
    });
  } catch {
    clearTimeout(timer);
    return guard.signal.aborted ? timeoutFailure() : failed(`Agent ${agent.agent_name} is unreachable`);
  }
  if (answer.status >= 300 && answer.status < 400) {
    clearTimeout(timer);
    void answer.body?.cancel().catch(() => undefined);
    return failed(`Agent ${agent.agent_name} answered HTTP ${answer.status} (a redirect, not followed)`);
  }

  const type = answer.headers.get('content-type') ?? '';
  if (answer.ok && stream && type.includes('text/event-stream') && answer.body) {
    return passStream(answer.body, settler, { id: request.id, name: agent.agent_name, cost, apiBase, callId, started: () => clearTimeout(timer), record });
  }
  let text: string;
  try {
    text = await boundedText(answer);
  } catch (err) {
    // Over MAX_ANSWER_CHARS (mcp/answers.ts), cut by the deadline, or broken: never buffered without bound.
    if (guard.signal.aborted) return timeoutFailure();
    return failed(err instanceof McpError ? `Agent ${agent.agent_name}: answer too large` : `Agent ${agent.agent_name}: its answer broke`);
  } finally {
    clearTimeout(timer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch { /* not JSON: a failure below */ }
  if (!isObject(parsed) || parsed.jsonrpc !== '2.0' || (!('result' in parsed) && !isObject(parsed.error))) {
    // The agent's own words are not shown (they may carry its internals); its status is.
    return failed(`Agent ${agent.agent_name} answered HTTP ${answer.status} without a JSON-RPC response`);
  }
  if (isObject(parsed.error)) {
    // The agent's JSON-RPC error is its answer (as LiteLLM relays it): passed on, nothing billed.
    settler.settle({ error: new GatewayError(`Agent ${agent.agent_name}: ${String(parsed.error.message ?? 'error')}`.slice(0, 500), { status: 502, type: 'upstream_error' }), cost: 0, apiBase, finishedAt: Date.now() });
    return rpcAnswer(parsed, stream, own);
  }
  const recorded = await record(parsed.result);
  if (recorded === 'foreign') return notFound("the agent's answer names another owner's task (withheld)");
  if (recorded === 'failed') return failed('The A2A task store is unavailable; retry shortly', 503);
  settler.settle({ outcome: { usage: NO_USAGE, finishedAt: Date.now() }, cost, apiBase, finishedAt: Date.now() });
  // An agent that answered message/stream with one JSON-RPC response: one SSE event, as the client asked for a stream.
  if (stream) return rpcAnswer(parsed, stream, own);
  return new Response(text, { headers: { ...own, 'content-type': 'application/json', 'x-litellm-response-cost': String(cost) } });
}

/** One JSON-RPC response as the client asked for it: JSON, or one SSE event for a stream. */
function rpcAnswer(body: Json, stream: boolean, own: Record<string, string>): Response {
  if (stream) return new Response(`data: ${JSON.stringify(body)}\n\n`, { headers: { ...own, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
  return Response.json(body, { headers: own });
}

/** The gateway's own headers over the agent's (agent-headers.ts): the body's type, and who calls (`x-litellm-user-id`, `x-litellm-team-id`). */
function withOwnHeaders(headers: Headers, stream: boolean, caller: Caller): Headers {
  headers.set('content-type', 'application/json');
  headers.set('accept', stream ? 'text/event-stream' : 'application/json');
  if (caller.kind === 'key' && caller.policy.userId) headers.set('x-litellm-user-id', caller.policy.userId);
  if (caller.kind === 'key' && caller.policy.team) headers.set('x-litellm-team-id', caller.policy.team.id);
  return headers;
}
