import type { Context } from 'hono';
import { checkJwtModel } from '../auth/jwt-permissions.ts';
import { identify } from '../auth/authenticate.ts';
import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { badRequest, errorResponse, GatewayError } from '../errors.ts';
import { currentCatalog } from '../models/catalog.ts';
import { type DeploymentRef, type ModelCatalog, standInDeployment } from '../models/deployments.ts';
import type { CallOutcome, UsageReport } from '../providers/types.ts';
import { admitModelCall } from '../proxy/call-admission.ts';
import { type CallContext, requestTags } from '../proxy/call-context.ts';
import { callSettler } from '../proxy/call-end.ts';
import { headerSnapshot, requestTimeoutMs, withoutCredentials } from '../proxy/call-helpers.ts';
import { reservationEstimate } from '../proxy/reservation.ts';
import { recordRefusedCall, type Seen } from '../proxy/refused-call.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { servingDeployments } from '../router/serving-deployments.ts';
import { refuseUnguardedRoute } from '../guardrails/run.ts';
import { holdDeploymentBudgets } from '../limits/budget-hold.ts';
import { gatewayState } from '../state.ts';
import { addUsage, eventType, eventUsage, transcriptionModel, transcriptionUsage } from '../realtime/session-usage.ts';
import { NO_USAGE } from '../providers/openai-compatible/usage.ts';
import { REALTIME_PROVIDERS } from '../realtime/upstream.ts';
import { closeQuietly, KEY_PROTOCOL, type Opened, openUpstream, withProtocolKey } from '../realtime/sockets.ts';
import pkg from '../../package.json';

type Ctx = Context<{ Bindings: GatewayEnv }>;

const BETA_PROTOCOL = 'openai-beta.realtime-v1';
// How long a socket may take to open (request_timeout when shorter): a client waits through every attempt.
const HANDSHAKE_TIMEOUT_MS = 15_000;
// How long a response cancelled for a client that left may take to report what it used.
const CANCEL_GRACE_MS = 5_000;
// The longest session: OpenAI's own limit.
const MAX_SESSION_MS = 60 * 60 * 1000;

/**
 * `GET /v1/realtime?model=<group>` with `Upgrade: websocket`: OpenAI's Realtime API, for a model group
 * of `openai/` or `azure/` deployments. The key is checked and the session admitted as a call (limits,
 * budgets, model access), one deployment's socket opened with the deployment's credential, and every
 * message passed on both ways as it is. The usage of each `response.done` is added up; when either side
 * closes, the session is priced (audio tokens at their own prices), settled and logged as one call
 * (`call_type: _arealtime`).
 */
export async function realtime(c: Ctx): Promise<Response> {
  const seen: Seen = {};
  try {
    return await openSession(c, seen);
  } catch (err) {
    if (err instanceof GatewayError) recordRefusedCall(c, 'realtime', seen, err);
    throw err;
  }
}

async function openSession(c: Ctx, seen: Seen): Promise<Response> {
  const startedAt = Date.now();
  if ((c.req.header('upgrade') ?? '').toLowerCase() !== 'websocket') {
    throw new GatewayError('The Realtime API is a WebSocket: connect with `Upgrade: websocket`', { status: 426, type: 'bad_request_error' });
  }
  const state = await gatewayState(c.env);
  const protocols = (c.req.header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const headers = withProtocolKey(headerSnapshot(c.req.raw.headers), protocols);
  const who = await identify(headers, state, c.req.path);
  const group = c.req.query('model');
  if (!group) throw badRequest('Missing `model` query parameter: the model group of the Realtime session', 'model');
  const body: Record<string, unknown> = { model: group };
  seen.group = group;
  const storePrompts = state.config.general_settings.store_prompts_in_spend_logs === true;
  const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: group });
  seen.known = catalog.groups;
  if (who.permits) checkJwtModel(who.permits, group, catalog);
  const named = resolveGroup(state.config, catalog, group);
  seen.call = { token: who.token, body, startedAt, storePrompts, ...(named.deployments[0] ? { deployment: named.deployments[0] } : {}) };
  const callId = crypto.randomUUID();
  const estimate = reservationEstimate(named.deployments[0], 0, body, 'chat', state.config.general_settings.token_rate_limit_type);
  const { admission, caller, tags, modelTags, loadStored } = await admitModelCall(c.env, c.executionCtx, state.config, {
    who, requestId: callId, group, endUser: headers.get('x-litellm-end-user-id'), ownTags: requestTags({ body, headers }), client: { body, headers }, seen, estimate, free: false,
  });
  let deployments: DeploymentRef[];
  try {
    refuseUnguardedRoute(state.config.guardrails, caller, 'the Realtime API');
    deployments = servingDeployments(state.config, catalog, group, { caller, admission, tags, modelTags }, {
      path: c.req.path, serves: (d) => REALTIME_PROVIDERS.has(d.provider), kind: 'the Realtime API (openai/ or azure/ deployments)',
    });
  } catch (err) {
    if (admission) c.executionCtx.waitUntil(admission.release());
    throw err;
  }
  // The session's headers as telemetry may read them: no credential, and not the subprotocols a browser's key rides in.
  const safeHeaders = withoutCredentials(headers, [state.keyHeader, 'sec-websocket-protocol']);
  const ctx: CallContext = {
    callId, startedAt, endpoint: 'realtime', caller, deployment: deployments[0]!, body, stream: true, headers: safeHeaders,
    keepText: false, storePrompts, tags, ...(admission?.modelRegion ? { modelRegion: admission.modelRegion } : {}),
  };
  const settler = callSettler(c, state, ctx, safeHeaders, admission);
  const beta = protocols.includes(BETA_PROTOCOL) || /realtime=v1/.test(headers.get('openai-beta') ?? '');
  const intent = c.req.query('intent');
  let holds = 0;
  // Kept alive past a client that gives up during the handshake: what it opens is closed and settled below.
  const opening = openUpstream(c, deployments, {
    beta, extra: intent ? { intent } : {}, timeoutMs: Math.min(HANDSHAKE_TIMEOUT_MS, requestTimeoutMs(state.config)),
    // The deployment's own budgets (its provider's, its tags') hold the session too, priced at it.
    hold: (d) => holdDeploymentBudgets(c.env, state.config, d, {
      callTags: tags, modelTags, loadStored, waitUntil: (p) => c.executionCtx.waitUntil(p), requestId: () => `${callId}:${holds++}`,
      price: () => ({ ...reservationEstimate(d, 0, body, 'chat'), free: false }),
    }),
  });
  c.executionCtx.waitUntil(opening.catch(() => undefined));
  let opened: Opened;
  try {
    opened = await opening;
  } catch (err) {
    // A deployment budget's limiter that could not be reached (a 503), or anything else: the session's own hold goes too.
    const error = err instanceof GatewayError ? err : new GatewayError('The Realtime session could not be opened', { status: 502, type: 'internal_server_error' });
    settler.settle({ error, cost: 0, apiBase: '', finishedAt: Date.now() });
    return errorResponse(error);
  }
  if (!opened.socket) {
    settler.settle({ error: opened.error, cost: 0, apiBase: opened.apiBase, finishedAt: Date.now() });
    return errorResponse(opened.error);
  }
  const { socket: upstream, deployment, apiBase } = opened;
  if (c.req.raw.signal?.aborted) {
    // The client gave up while the socket was opening: nobody to relay to.
    closeQuietly(upstream, 1000, 'client gone');
    if (opened.hold) settler.budgetHold = opened.hold;
    settler.settle({ outcome: { usage: NO_USAGE, finishedAt: Date.now(), aborted: true }, cost: 0, apiBase, finishedAt: Date.now() });
    return new Response(null, { status: 499 });
  }
  ctx.deployment = deployment;
  if (opened.hold) settler.budgetHold = opened.hold;

  const pair = new WebSocketPair();
  const [clientEnd, ours] = [pair[0], pair[1]];
  ours.accept();
  let usage: UsageReport = NO_USAGE;
  // Input audio transcribed (a model of its own, billed apart): its model as the server says it, and what it cost so far.
  let transcriber: DeploymentRef | undefined;
  let transcriptionCost = 0;
  let firstEventAt: number | undefined;
  // Responses started and not yet done: a client that leaves mid-response does not leave it unbilled.
  let running = 0;
  let leaving: ReturnType<typeof setTimeout> | undefined;
  let ended!: (how: { error?: GatewayError }) => void;
  const over = new Promise<{ error?: GatewayError }>((resolve) => (ended = resolve));
  // A session ends after MAX_SESSION_MS, as OpenAI's own do (their limit is 60 minutes), so none holds its reservation forever.
  const cap = setTimeout(() => leave(1000, 'session time limit reached'), MAX_SESSION_MS);
  const finish = (how: { error?: GatewayError }, code: number, reason: string) => {
    clearTimeout(cap);
    if (leaving !== undefined) clearTimeout(leaving);
    closeQuietly(ours, code, reason);
    closeQuietly(upstream, code, reason);
    ended(how);
  };
  ours.addEventListener('message', (event) => {
    try {
      upstream.send(event.data);
    } catch {
      finish({ error: new GatewayError('The Realtime upstream went away', { status: 502, type: 'internal_server_error' }) }, 1011, 'upstream went away');
    }
  });
  upstream.addEventListener('message', (event) => {
    firstEventAt ??= Date.now();
    // Only the few events that count are parsed (most are audio deltas, passed on unread).
    const type = typeof event.data === 'string' ? eventType(event.data) : undefined;
    if (type === 'response.created') running++;
    else if (type === 'session.created' || type === 'session.updated') {
      const model = transcriptionModel(event.data as string);
      if (model !== undefined) transcriber = model ? transcriptionDeployment(deployment, model, catalog) : undefined;
    } else if (type === 'conversation.item.input_audio_transcription.completed' && transcriber) {
      const transcribed = transcriptionUsage(event.data as string);
      if (transcribed) transcriptionCost += costOfCall(transcriber, transcribed);
    } else if (type === 'response.done') {
      const used = eventUsage(event.data as string);
      if (used) {
        usage = addUsage(usage, used);
        running = Math.max(0, running - 1);
        if (leaving !== undefined && running === 0) finish({}, leaveCode, leaveReason);
        else if (overBudget()) budgetSpent = true;
      }
    }
    if (leaving !== undefined) return;
    try {
      ours.send(event.data);
    } catch {
      // The client is gone; its close event ends the session.
    }
    // The answer that spent the budget reaches the client; then the session ends (1008, policy).
    if (budgetSpent) leave(1008, 'budget exceeded');
  });
  let clientGone = false;
  // The key's budget, as it stood when the session opened, is held through the session: once what it ran spends it, it ends.
  const policy = caller.kind === 'key' ? caller.policy : undefined;
  let budgetSpent = false;
  const overBudget = () => policy?.maxBudget != null && policy.spend + costOfCall(deployment, usage) + transcriptionCost >= policy.maxBudget;
  // The session ends: at once, or with a response still running, once it is cancelled and its response.done (which bills what ran) is in.
  let leaveCode = 1000;
  let leaveReason = '';
  const leave = (code: number, reason: string) => {
    if (leaving !== undefined) return;
    leaveCode = code;
    leaveReason = reason;
    if (running === 0) {
      finish({}, code, reason);
      return;
    }
    try {
      upstream.send(JSON.stringify({ type: 'response.cancel' }));
    } catch {
      // Upstream gone too.
    }
    leaving = setTimeout(() => {
      usage = { ...usage, reported: false };
      finish({}, code, reason);
    }, CANCEL_GRACE_MS);
  };
  ours.addEventListener('close', (event) => {
    clientGone = true;
    leave(event.code, event.reason);
  });
  upstream.addEventListener('close', (event) => {
    const clean = event.code === 1000 || event.code === 1005;
    finish(clean ? {} : { error: new GatewayError(`The Realtime upstream closed the session (${event.code})`, { status: 502, type: 'internal_server_error' }) },
      clean ? 1000 : 1011, event.reason);
  });
  for (const socket of [ours, upstream]) {
    socket.addEventListener('error', () => {
      // The client's socket errs once it has gone: its close already decided how the session ends.
      if (socket === ours && clientGone) return;
      finish({ error: new GatewayError('The Realtime session broke', { status: 502, type: 'internal_server_error' }) }, 1011, 'error');
    });
  }
  c.executionCtx.waitUntil(over.then(({ error }) => {
    const finishedAt = Date.now();
    const outcome: CallOutcome = { usage, finishedAt, ...(firstEventAt ? { firstChunkAt: firstEventAt } : {}), ...(error ? { error } : {}) };
    settler.settle({ outcome, cost: costOfCall(deployment, usage) + transcriptionCost, apiBase, finishedAt });
  }));

  const answer = new Headers({
    'x-litellm-call-id': callId, 'x-litellm-model-id': deployment.id, 'x-litellm-model-group': deployment.group, 'x-litellm-version': pkg.version,
  });
  // A browser's client offers subprotocols and needs one chosen: the one that carries no key.
  const chosen = protocols.find((p) => p === 'realtime') ?? protocols.find((p) => !p.startsWith(KEY_PROTOCOL));
  if (chosen) answer.set('sec-websocket-protocol', chosen);
  return new Response(null, { status: 101, webSocket: clientEnd, headers: answer });
}

/**
 * The deployment a session's transcription model is priced as: a deployment of the same provider serving
 * that model in config.yaml (its prices), else the price table's entry for it.
 */
function transcriptionDeployment(session: DeploymentRef, model: string, catalog: ModelCatalog): DeploymentRef {
  const configured = [...catalog.groups.values()].flat().find((d) => d.provider === session.provider && d.model === model);
  return configured ?? standInDeployment(session.provider, model);
}
