/**
 * LiteLLM's A2A agent gateway on the gateway Worker: `POST /a2a/{agent_id}` (JSON-RPC 2.0: `message/send`,
 * `message/stream` and `tasks/resubscribe` as SSE, `tasks/get`, `tasks/cancel`), the agent card at
 * `/a2a/{agent_id}/.well-known/agent-card.json` (its url the gateway's), and `GET /v1/agents[/{agent_id}]`,
 * the agents a key may reach. Writes (`POST/PUT/PATCH/DELETE /v1/agents`) are the admin Worker's.
 */
import type { Context } from 'hono';
import type { Caller } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { isObject, type Json } from '../json.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { readJsonObject } from '../openai/read-body.ts';
import { gatewayState } from '../state.ts';
import { agentsFor } from './access.ts';
import { callAgent } from './call.ts';
import { AGENT_NOT_FOUND, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, rpcError } from './json-rpc.ts';
import { type Agent, type Agents, agentNamed, storedAgents } from './registry.ts';
import { ID_CHARS_MAX, NAMED_IDS_MAX } from './task-owners.ts';
import { namedIds, referencedCount } from './task-ids.ts';
import { strayIdKey, taskMetadataStray, taskParams } from './task-id-keys.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** A2A 1.0's method names, as LiteLLM maps them to the wire names agents speak. */
const WIRE_NAMES: Readonly<Record<string, string>> = {
  SendMessage: 'message/send', SendStreamingMessage: 'message/stream', GetTask: 'tasks/get', CancelTask: 'tasks/cancel',
  SubscribeToTask: 'tasks/resubscribe',
};
const METHODS = new Set(['message/send', 'message/stream', 'tasks/get', 'tasks/cancel', 'tasks/resubscribe']);

/** The agent a path names, among those the caller may reach: 404 (unknown) or 403 (not the caller's), as LiteLLM answers. */
async function reachableAgent(c: Ctx, caller: Caller, idOrName: string, agents?: Agents): Promise<Agent> {
  const state = await gatewayState(c.env);
  agents ??= await storedAgents(state, c.env, c.executionCtx, [idOrName]);
  const agent = agentNamed(agents, idOrName);
  if (!agent) throw new GatewayError(`Agent '${idOrName.slice(0, 200)}' not found`, { status: 404, type: 'not_found_error', param: 'agent_id' });
  if (!agentsFor(caller, [agent]).length) {
    throw new GatewayError(`Agent '${idOrName.slice(0, 200)}' is not allowed for your key/team. Contact proxy admin for access.`, { status: 403, type: 'auth_error', param: 'agent_id' });
  }
  return agent;
}

/** `POST /a2a/{agent_id}` (also `/a2a/{agent_id}/message/send`, `/v1/a2a/{agent_id}/message/send`): one JSON-RPC call of the agent. */
export async function a2aInvoke(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  // The key first: to a caller without one, no agent's existence shows.
  const caller = await authenticateRoute(c, state);
  const read = await readJsonObject(c.req.raw, state.config);
  if (!read) return rpcError(null, PARSE_ERROR, 'Parse error: the body is not JSON', 400);
  const body = read.json;
  if (!isObject(body) || body.jsonrpc !== '2.0') return rpcError(isObject(body) ? body.id : null, INVALID_REQUEST, "Invalid Request: jsonrpc must be '2.0'", 400);
  const id = body.id;
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') return rpcError(null, INVALID_REQUEST, 'Invalid Request: id must be a string or a number', 400);
  const agentId = c.req.param('agent_id') ?? '';
  const agents = await storedAgents(state, c.env, c.executionCtx, [agentId]);
  let agent: Agent;
  try {
    agent = await reachableAgent(c, caller, agentId, agents);
  } catch (err) {
    // An unknown agent is LiteLLM's JSON-RPC error (-32000, 404); a refusal stays the gateway's error envelope.
    if (err instanceof GatewayError && err.status === 404) return rpcError(id, AGENT_NOT_FOUND, err.message, 404);
    throw err;
  }
  const method = typeof body.method === 'string' ? WIRE_NAMES[body.method] ?? body.method : undefined;
  if (!method || !METHODS.has(method)) return rpcError(id, METHOD_NOT_FOUND, `Method '${String(body.method).slice(0, 100)}' not found`, 400);
  const params = body.params ?? {};
  if (!isObject(params)) return rpcError(id, INVALID_PARAMS, 'Invalid params: params must be an object', 400);
  if (method.startsWith('message/') && (!isObject(params.message) || !Array.isArray(params.message.parts))) {
    return rpcError(id, INVALID_PARAMS, 'Invalid params: params.message with its parts is required', 400);
  }
  // A task's id is a string or a number (its text: task-ids.ts namedIds), as everywhere else a request names one.
  if (method.startsWith('tasks/') && typeof params.id !== 'string' && typeof params.id !== 'number') {
    return rpcError(id, INVALID_PARAMS, "Invalid params: params.id (the task's id) is required", 400);
  }
  // Each id a request names is one owner record read (task-owners.ts): a bounded number, of a length one records.
  if (referencedCount(params) > NAMED_IDS_MAX - 2) {
    return rpcError(id, INVALID_PARAMS, `Invalid params: params.message.referenceTaskIds takes at most ${NAMED_IDS_MAX - 2} tasks`, 400);
  }
  // An id-like key an agent may read but the gateway would not check (`TaskId`, `ID`, `metadata.session_id`) is refused.
  const stray = method.startsWith('tasks/') ? taskMetadataStray(params) : strayIdKey(params);
  if (stray) return rpcError(id, INVALID_PARAMS, `Invalid params: ${stray.slice(0, 200)} is not a field the gateway takes (task and context ids go in taskId, contextId, referenceTaskIds)`, 400);
  const named = namedIds(method, params);
  if (named.invalid) return rpcError(id, INVALID_PARAMS, `Invalid params: ${named.invalid} must be a string or a number`, 400);
  if (named.tasks.length + named.contexts.length > NAMED_IDS_MAX) return rpcError(id, INVALID_PARAMS, `Invalid params: a request names at most ${NAMED_IDS_MAX} tasks and contexts`, 400);
  if ([...named.tasks, ...named.contexts].some((one) => one.length > ID_CHARS_MAX)) {
    return rpcError(id, INVALID_PARAMS, `Invalid params: a task or context id is at most ${ID_CHARS_MAX} characters`, 400);
  }
  // A task method's params are rebuilt from the checked fields (task-id-keys.ts); a message's go as sent.
  return callAgent(c, state, agent, agents, { id: id ?? null, method, params: method.startsWith('tasks/') ? taskParams(params) : params });
}

/** The gateway's URL for an agent: `PROXY_BASE_URL` when set (the public one behind a proxy), else this request's origin. */
function gatewayUrl(c: Ctx, agent: Agent): string {
  const base = typeof c.env.PROXY_BASE_URL === 'string' && c.env.PROXY_BASE_URL ? c.env.PROXY_BASE_URL.replace(/\/+$/, '') : new URL(c.req.url).origin;
  return `${base}/a2a/${agent.agent_id}`;
}

/** The agent's card with every URL of the agent's own replaced by the gateway's: clients call it through the gateway. */
function servedCard(c: Ctx, agent: Agent): Json {
  const url = gatewayUrl(c, agent);
  const card: Json = { ...agent.card, name: agent.card.name ?? agent.agent_name, url };
  if (Array.isArray(card.supportedInterfaces)) card.supportedInterfaces = card.supportedInterfaces.map((i: unknown) => (isObject(i) ? { ...i, url } : i));
  if (Array.isArray(card.additionalInterfaces)) card.additionalInterfaces = card.additionalInterfaces.map((i: unknown) => (isObject(i) ? { ...i, url } : i));
  return card;
}

/** `GET /a2a/{agent_id}/.well-known/agent-card.json` (and `agent.json`): the card, for a key that may reach the agent. */
export async function a2aCard(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const agent = await reachableAgent(c, caller, c.req.param('agent_id') ?? '');
  return c.json(servedCard(c, agent));
}

/** An agent as `/v1/agents` shows it: credentials never; the agent's own URL, headers and limits to the master key only. */
function shown(c: Ctx, caller: Caller, agent: Agent): Json {
  const master = caller.kind === 'master';
  return {
    agent_id: agent.agent_id, agent_name: agent.agent_name,
    agent_card_params: master ? agent.card : servedCard(c, agent),
    litellm_params: master ? agent.publicParams : {},
    ...(master ? { static_headers: agent.publicStaticHeaders, extra_headers: agent.extraHeaders, rpm_limit: agent.rpmLimit, tpm_limit: agent.tpmLimit } : {}),
    agent_access_groups: agent.accessGroups, created_at: agent.created_at, updated_at: agent.updated_at,
  };
}

/** `GET /v1/agents` and `GET /v1/agents/{agent_id}`: the agents the key may reach, as LiteLLM lists them. */
export async function listAgents(c: Ctx): Promise<Response> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  const one = c.req.param('agent_id');
  if (one !== undefined) return c.json(shown(c, caller, await reachableAgent(c, caller, one)));
  const agents = agentsFor(caller, await storedAgents(state, c.env, c.executionCtx));
  return c.json(agents.map((a) => shown(c, caller, a)));
}
