import type { Context } from 'hono';
import type { Caller } from '../auth/authenticate.ts';
import { checkRoute } from '../auth/routes.ts';
import { costOfCall, deploymentPrice } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { CallOutcome, RequestHeaders, UsageReport } from '../providers/types.ts';
import { estimatedUsage, estimateTokens, NO_USAGE } from '../providers/openai-compatible/usage.ts';
import type { GatewayState } from '../state.ts';
import { answerResponse } from '../proxy/answer-headers.ts';
import { type AdmittedCall, admitModelCall } from '../proxy/call-admission.ts';
import { refuseUnguardedRoute } from '../guardrails/run.ts';
import { type CallContext, endUserOf, requestTags } from '../proxy/call-context.ts';
import { callSettler } from '../proxy/call-end.ts';
import { withoutCredentials } from '../proxy/call-helpers.ts';
import { countedTokens, freeModel, reservationEstimate, reservedOutputTokens } from '../proxy/reservation.ts';
import type { Seen } from '../proxy/refused-call.ts';
import { returnedHeaders } from './forward.ts';
import { tapUsage } from './usage-tap.ts';
import { readJsonText, readUsage, type UsageReading, usageOf } from './usage-reader.ts';
import { readAnswerOf } from './read-answer.ts';
import { type OpaqueBody, refuseGatewayMetadata } from './pass-through-body.ts';

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
   * Throws when the caller may not make this call (after its admission, which is then released). May settle
   * `deployment` now that the caller is known (its aliases, its end user's region).
   */
  authorize(caller: Caller, admitted: AdmittedCall | undefined): void;
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

// A JSON answer up to this size is read whole, so its cost can be in its headers; a larger one (or one of unknown length) streams.
const MAX_BUFFERED_JSON = 8 * 1024 * 1024;

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
    if (who) call.authorize(caller, admitted);
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
  const upstreamMs = Date.now() - startedAt;
  // An answer the route already read (read-answer.ts): not read again; one it could not pass on may still be charged for.
  const preread = readAnswerOf(upstream);
  const charged = preread?.charged;
  const contentType = upstream.headers.get('content-type') ?? '';
  const failed = upstream.status >= 400
    ? new GatewayError(`Upstream answered ${upstream.status}`, { status: upstream.status, type: upstream.status === 429 ? 'rate_limit_error' : 'upstream_error', upstreamStatus: upstream.status })
    : undefined;
  // What the call used: what the answer says, else (an answer that says nothing) an estimate from the text it carried; a stream
  // cut short before its last usage event is billed at least what its text shows.
  const usageOfCall = (reported: UsageReport | undefined, textChars: number, cut: boolean): UsageReport => {
    if (!call.billed) return NO_USAGE;
    if (failed) return charged === undefined ? NO_USAGE : charged !== 'estimate' ? charged
      : { promptTokens, completionTokens: call.generative ? reservedOutputTokens(body) : 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: false };
    const written = call.generative ? estimateTokens(textChars) : 0;
    if (!reported) return estimatedUsage(promptTokens, call.generative ? textChars : 0);
    return cut && written > reported.completionTokens ? { ...reported, completionTokens: written, reported: false } : reported;
  };
  const costOf = (usage: UsageReport, model: string | undefined) => {
    if (call.costPerRequest !== undefined) return failed ? 0 : call.costPerRequest;
    if (usage === NO_USAGE) return 0;
    return costOfCall(pricedAs(call, model), usage);
  };
  const headersOf = (cost: number | undefined, stream: boolean) => ({
    callId, deployment: call.deployment, apiBase: call.apiBase, contentType: contentType || 'application/octet-stream', stream, admission,
    policy: caller.kind === 'key' ? caller.policy : undefined, retries: 0, fallbacks: 0, cost, startedAt, upstreamMs,
  });
  const settle = (outcome: CallOutcome, cost: number) => settler.settle({ outcome, cost, apiBase: call.apiBase, finishedAt: outcome.finishedAt, ...(failed ? { error: failed } : {}) });

  const length = Number(upstream.headers.get('content-length') ?? NaN);
  if (preread || (/^application\/(.+\+)?json/i.test(contentType) && upstream.body && length <= MAX_BUFFERED_JSON)) {
    // A JSON answer of known, bounded size is read whole (as the gateway's own calls are), so its cost can be in its headers.
    let bytes: ArrayBuffer | Uint8Array<ArrayBuffer>;
    try {
      bytes = preread?.bytes ?? await upstream.arrayBuffer();
    } catch (err) {
      const error = failure(err);
      settler.settle({ error, cost: 0, apiBase: call.apiBase, finishedAt: Date.now() });
      return errorResponse(error);
    } finally {
      stopTimer();
    }
    const reading: UsageReading = {};
    if (preread && 'value' in preread) readUsage(preread.value, reading);
    else readJsonText(new TextDecoder().decode(bytes), reading);
    const usage = usageOfCall(usageOf(reading) ?? headerUsage(upstream.headers), reading.textChars ?? 0, false);
    const cost = costOf(usage, reading.model);
    const answered = answerResponse(bytes, upstream.status, headersOf(cost, false));
    returnedHeaders(upstream.headers, answered.response.headers);
    settler.overheadMs = answered.overheadMs;
    settle({ usage, finishedAt: Date.now() }, cost);
    return answered.response;
  }
  // A stream (or a large body) runs as long as it runs: the timeout was for the answer's headers.
  stopTimer();
  const sse = contentType.toLowerCase().startsWith('text/event-stream');
  ctx.stream = sse;
  const framing = sse ? 'sse' : /amazon\.eventstream/i.test(contentType) ? 'eventstream' : /json/i.test(contentType) ? 'json' : 'other';
  const tapped = upstream.body ? tapUsage(upstream.body, framing) : undefined;
  if (tapped) {
    c.executionCtx.waitUntil(tapped.done.then((end) => {
      const usage = usageOfCall(end.usage, end.textChars, end.aborted || end.broken || end.exception);
      const outcome: CallOutcome = { usage, finishedAt: end.finishedAt, ...(end.firstChunkAt ? { firstChunkAt: end.firstChunkAt } : {}), ...(end.aborted ? { aborted: true } : {}) };
      if ((end.broken || end.exception) && !failed) outcome.error = new GatewayError(end.exception ? 'The upstream stream ended with an error' : 'The upstream stream broke off', { status: 502, type: 'internal_server_error' });
      settle(outcome, costOf(usage, end.model));
    }));
  } else {
    const usage = usageOfCall(headerUsage(upstream.headers), 0, false);
    settle({ usage, finishedAt: Date.now() }, costOf(usage, undefined));
  }
  const answered = answerResponse(tapped?.body ?? null, upstream.status, headersOf(undefined, sse));
  returnedHeaders(upstream.headers, answered.response.headers);
  settler.overheadMs = answered.overheadMs;
  return answered.response;
}

/**
 * The deployment a call is priced as: with `priceByAnswer`, the model the answer names where the price table
 * knows it, else the one asked for (a Bedrock or Vertex answer names its model without the provider's
 * prefix or version suffix the table keys it by).
 */
function pricedAs(call: PassThroughCall, answered: string | undefined): DeploymentRef {
  if (!call.priceByAnswer) return call.deployment;
  for (const model of [answered, call.requested]) {
    if (!model || model === call.deployment.model) continue;
    const candidate = { ...call.deployment, model };
    if (deploymentPrice(candidate)) return candidate;
  }
  return call.deployment;
}

/** Bedrock's InvokeModel says its counts in headers (`x-amzn-bedrock-input-token-count`), for models whose answers do not. */
function headerUsage(headers: Headers): UsageReport | undefined {
  const input = Number(headers.get('x-amzn-bedrock-input-token-count') ?? NaN);
  const output = Number(headers.get('x-amzn-bedrock-output-token-count') ?? NaN);
  if (!Number.isFinite(input) && !Number.isFinite(output)) return undefined;
  return { promptTokens: Number.isFinite(input) ? input : 0, completionTokens: Number.isFinite(output) ? output : 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
}
