import type { Context } from 'hono';
import type { Caller } from '../auth/authenticate.ts';
import { checkRoute } from '../auth/routes.ts';
import type { GatewayEnv } from '../env.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { RequestHeaders } from '../providers/types.ts';
import { estimateTokens } from '../providers/openai-compatible/usage.ts';
import type { GatewayState } from '../state.ts';
import { type AdmittedCall, admitModelCall } from '../proxy/call-admission.ts';
import { refuseUnguardedRoute } from '../guardrails/run.ts';
import { type CallContext, endUserOf, requestTags } from '../proxy/call-context.ts';
import { callSettler } from '../proxy/call-end.ts';
import { withoutCredentials } from '../proxy/call-helpers.ts';
import { countedTokens, freeModel, reservationEstimate } from '../proxy/reservation.ts';
import type { Seen } from '../proxy/refused-call.ts';
import { type OpaqueBody, refuseGatewayMetadata } from './pass-through-body.ts';
import { passOnAnswer } from './pass-through-answer.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

/** One pass-through call, as a route has resolved it. */
export interface PassThroughCall {
  /** The client's headers, read once. */
  headers: RequestHeaders;
  /** The headers keys came in besides the usual ones (the config's, a config endpoint's `litellm_user_api_key`): never logged. */
  keyHeaders: (string | undefined)[];
  /** The caller's key (identified before the body was read); undefined for a public config endpoint. */
  who: { token: string; master: boolean; shown: string } | undefined;
  /** The group the call is held and logged under ('' for none). */
  group: string;
  /** The JSON body, when the body is JSON: tags, end user and the reservation's size. */
  json: Record<string, unknown> | undefined;
  bodyChars: number;
  /**
   * A body the gateway did not read as a JSON object, for a provider's own API (refuseGatewayMetadata): why,
   * and its bytes. Absent for config endpoints, whose targets hold no objects the gateway reads back.
   */
  opaque?: OpaqueBody;
  /**
   * Whether the call runs a model (a POST to a generating, embedding or ranking path): only then is the
   * usage its answer reports billed (a stored response read back reports its usage again), and estimated
   * when it reports none.
   */
  billed: boolean;
  /** Whether the call generates (its reservation holds output tokens). */
  generative: boolean;
  /** The deployment whose prices apply; its model is replaced by the answer's when `priceByAnswer` (and that model has a price). */
  deployment: DeploymentRef;
  priceByAnswer: boolean;
  /** The model the request named, if any. */
  requested?: string | undefined;
  /** A config endpoint's `cost_per_request`: the call's cost, whatever it used. */
  costPerRequest?: number | undefined;
  /**
   * Throws (or rejects) when the caller may not make this call (after its admission, which is then released). May
   * settle `deployment` now that the caller is known (its aliases, its end user's region). A promise only where it
   * must read something (a key's role, for a config endpoint its `allowed_passthrough_routes` do not cover).
   */
  authorize(caller: Caller, admitted: AdmittedCall | undefined): void | Promise<void>;
  /** A route to a model (a provider's API, Google's format), which guardrails would check were it theirs to read; not a config endpoint's. */
  modelRoute: boolean;
  /** Route groups the path belongs to beyond the built-in ones (a config endpoint's: `llm_api_routes`), for `allowed_routes`. */
  routeGroups?: readonly string[];
  /** Sends the upstream request; throws GatewayError when it cannot be made (no credential). */
  send(signal: AbortSignal): Promise<Response>;
  apiBase: string;
  /** 0: no limit. */
  timeoutMs: number;
  /** What the call is logged as: a pass-through call (`pass_through_endpoint`) unless a route says otherwise (Google's Interactions API). */
  endpoint?: 'pass_through' | 'interaction';
}

/** How long a pass-through call may wait for its answer's headers, unless configured (LiteLLM's `pass_through_request_timeout`). */
const DEFAULT_PASS_THROUGH_TIMEOUT_S = 600;

/** A pass-through call's wait for its answer, in ms: its own (a config endpoint's `timeout`), else `pass_through_request_timeout`, else `request_timeout`, else 600 s. */
export function passThroughTimeoutMs(config: GatewayState['config'], own?: number): number {
  return (own ?? config.general_settings.pass_through_request_timeout ?? config.litellm_settings.request_timeout ?? DEFAULT_PASS_THROUGH_TIMEOUT_S) * 1000;
}

/**
 * A provider's own API (or a config endpoint's target) called for a client: its key checked and its call
 * admitted as a model call's is (limits, budgets, one request and its estimated cost), the answer passed
 * back as the provider gave it, status and headers included, with the gateway's headers added; the usage
 * the answer reports priced and settled like any call's, and a spend-log row
 * (`call_type: pass_through_endpoint`). Refusals before the upstream get the OpenAI error envelope.
 */
export async function passThroughCall(c: Ctx, state: GatewayState, call: PassThroughCall, seen: Seen): Promise<Response> {
  const startedAt = Date.now();
  const callId = crypto.randomUUID();
  const body = call.json ?? {};
  const { who } = call;
  const storePrompts = state.config.general_settings.store_prompts_in_spend_logs === true;
  seen.group = call.group;
  if (who) seen.call = { token: who.token, body, startedAt, storePrompts, deployment: call.deployment };
  const promptTokens = estimateTokens(call.bodyChars);
  const estimate = call.costPerRequest !== undefined
    ? { estCost: call.costPerRequest, estTokens: countedTokens(state.config.general_settings.token_rate_limit_type, promptTokens, 0) }
    : reservationEstimate(call.deployment, promptTokens, body, call.generative ? 'chat' : 'embedding', state.config.general_settings.token_rate_limit_type);
  const admitted = who
    ? await admitModelCall(c.env, c.executionCtx, state.config, {
      who, requestId: callId, group: call.group, endUser: endUserOf({ body, headers: call.headers }), ownTags: requestTags({ body, headers: call.headers }), client: { body, headers: call.headers },
      estimate, free: estimate.estCost === 0 && (call.costPerRequest === 0 || freeModel([call.deployment])), seen,
    })
    : undefined;
  const admission = admitted?.admission;
  // A public config endpoint's caller: no key, logged under the empty token.
  const caller: Caller = admitted?.caller ?? { kind: 'master', token: '' };
  try {
    const allowed = caller.kind === 'key' ? caller.policy.allowedRoutes : [];
    if (allowed.length && !allowed.some((r) => call.routeGroups?.includes(r))) checkRoute(allowed, c.req.path);
    if (who && call.modelRoute) refuseUnguardedRoute(state.config.guardrails, caller, 'this pass-through route');
    const pending = who ? call.authorize(caller, admitted) : undefined;
    if (pending) await pending;
    if (caller.kind === 'key') refuseGatewayMetadata(body, call.opaque);
  } catch (err) {
    if (admission) c.executionCtx.waitUntil(admission.release());
    throw err;
  }
  const safeHeaders = withoutCredentials(call.headers, call.keyHeaders);
  const ctx: CallContext = {
    callId, startedAt, endpoint: call.endpoint ?? 'pass_through', caller, deployment: call.deployment, body, stream: false, headers: safeHeaders,
    keepText: false, storePrompts, tags: admitted?.tags ?? [],
  };
  const settler = callSettler(c, state, ctx, safeHeaders, admission);
  const abort = new AbortController();
  const timer = call.timeoutMs > 0 ? setTimeout(() => abort.abort(), call.timeoutMs) : undefined;
  const stopTimer = () => timer !== undefined && clearTimeout(timer);
  const failure = (err: unknown) => err instanceof GatewayError ? err
    : abort.signal.aborted
      ? new GatewayError(`Pass-through request timed out after ${call.timeoutMs / 1000} s`, { status: 408, type: 'timeout' })
      : new GatewayError('Pass-through request could not reach the upstream', { status: 502, type: 'internal_server_error' });
  let upstream: Response;
  try {
    upstream = await call.send(abort.signal);
  } catch (err) {
    stopTimer();
    const error = failure(err);
    settler.settle({ error, cost: 0, apiBase: call.apiBase, finishedAt: Date.now() });
    return errorResponse(error);
  }
  return passOnAnswer(c, { call, ctx, settler, admission, promptTokens, failure, stopTimer }, upstream);
}
