import type { Context } from 'hono';
import type { z } from 'zod';
import { type Caller, identify } from '../auth/authenticate.ts';
import { checkRoute } from '../auth/routes.ts';
import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import { authorizeModel, mayCall } from '../models/access.ts';
import { currentCatalog } from '../models/catalog.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { routeCall } from '../router/route-call.ts';
import { countTokens } from '../router/health.ts';
import { usageBased } from '../router/strategies.ts';
import { promptText } from '../openai/request-schemas.ts';
import { readJsonBody } from '../openai/read-body.ts';
import { estimateTokens } from '../providers/openai-compatible/usage.ts';
import { mock } from '../providers/mock/index.ts';
import { PROVIDERS } from '../providers/registry.ts';
import type { Endpoint, ProviderAnswer } from '../providers/types.ts';
import { gatewayState } from '../state.ts';
import { replayAsStream } from '../cache/replay.ts';
import { lead, lookup, planCache } from '../cache/response-cache.ts';
import { cacheSettings } from '../cache/settings.ts';
import { takeCacheFailures } from '../cache/store.ts';
import { emitCall } from '../telemetry/emit.ts';
import { recordSpend } from '../telemetry/spend-log.ts';
import { recordCacheFailures, recordCacheLookup, recordRejectedCall } from '../telemetry/metrics/hooks.ts';
import { langfuseWantsText } from '../telemetry/langfuse/logging-settings.ts';
import '../telemetry/sinks.ts';
import { type CallContext, endUserOf } from './call-context.ts';
import { admit, callHeaders, callOverrides, freeModel, DEFAULT_TIMEOUT_S, reservationEstimate, storeAnswer, timingHeaders, validated, withoutCredentials } from './call-helpers.ts';
import { type CallResult, spendRecord } from './spend-record.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;


/**
 * One model call, the hot path of ARCHITECTURE.md: validate the body,
 * authenticate, check model access, pick a deployment, call the provider,
 * stream or return its answer with LiteLLM's headers, and settle the spend
 * record after the response (`waitUntil`), for failures too.
 */
export interface ModelCallOptions {
  /** Azure-style paths name the model group in the path. */
  modelFromPath?: string;
  /**
   * An OpenAI-format body another route already read and translated (the
   * Anthropic-format /v1/messages); it is validated like a client's.
   */
  body?: Record<string, unknown>;
}

/**
 * A refusal before any provider is called (bad body, unknown key, limits,
 * model access, unknown model) produces no CallEvent; it still counts in the
 * proxy's request metrics, as LiteLLM counts it.
 */
export async function handleModelCall(c: Ctx, endpoint: Endpoint, schema: z.ZodType<Record<string, unknown>>, options: ModelCallOptions = {}): Promise<Response> {
  const seen: Seen = {};
  try {
    return await modelCall(c, endpoint, schema, options, seen);
  } catch (err) {
    if (err instanceof GatewayError) {
      recordRejectedCall(c.env, c.executionCtx, { caller: seen.caller, endpoint, group: seen.group, known: seen.known ?? new Map(), error: err });
      recordRefusal(c, endpoint, seen, err);
    }
    throw err;
  }
}

interface Seen {
  caller?: Caller;
  group?: unknown;
  known?: ReadonlyMap<string, unknown>;
  /** Once the key is known: the call as far as it got, for its spend-log row. */
  call?: { token: string; body: Record<string, unknown>; startedAt: number; storePrompts: boolean; deployment?: DeploymentRef };
}

/**
 * The spend-log row of a call refused before any provider (limits, budget, model access, an unknown
 * model, enforce_user_param), as LiteLLM logs its proxy's own errors: status failure, no spend, the
 * error in metadata. Only once the key is known to be one (an unknown key's request is not a call).
 */
function recordRefusal(c: Ctx, endpoint: Endpoint, seen: Seen, error: GatewayError): void {
  const call = seen.call;
  if (!call || error.type === 'token_not_found_in_db') return;
  try {
    const group = typeof seen.group === 'string' ? seen.group : '';
    const now = Date.now();
    const record = spendRecord({
      callId: crypto.randomUUID(), startedAt: call.startedAt, endpoint, caller: seen.caller ?? { kind: 'master', token: call.token },
      deployment: call.deployment ?? { id: '', group, provider: '' as DeploymentRef['provider'], model: group },
      body: call.body, headers: c.req.raw.headers, storePrompts: call.storePrompts,
    }, { error, cost: 0, apiBase: '', finishedAt: now });
    recordSpend(c.env, c.executionCtx, record);
  } catch (err) {
    console.error('spend log of a refused call failed:', err instanceof Error ? err.message : String(err));
  }
}

async function modelCall(c: Ctx, endpoint: Endpoint, schema: z.ZodType<Record<string, unknown>>, options: ModelCallOptions, seen: Seen): Promise<Response> {
  const startedAt = Date.now();
  const state = await gatewayState(c.env);
  const sizeMb = state.config.general_settings.max_request_size_mb;
  const { modelFromPath } = options;
  // A request without a key is refused before its body is read, as LiteLLM authenticates first.
  const who = await identify(c.req.raw.headers, state.masterKeyHash, state.keyHeader);
  const body = options.body
    ? validated(schema, modelFromPath ? { ...options.body, model: modelFromPath } : options.body)
    : await readJsonBody(c.req.raw, schema, {
      ...(sizeMb ? { maxBytes: sizeMb * 1024 * 1024 } : {}),
      ...(modelFromPath ? { overrides: { model: modelFromPath } } : {}),
    });
  const overrides = callOverrides(body, c.req.raw.headers);
  const group = body.model as string;
  seen.group = group;
  seen.call = { token: who.token, body, startedAt, storePrompts: state.config.general_settings.store_prompts_in_spend_logs === true };
  const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: group });
  seen.known = catalog.groups;
  const named = resolveGroup(state.config, catalog, group);
  seen.call.deployment = named.deployments[0];
  const callId = crypto.randomUUID();
  const promptTokens = estimateTokens(promptText(body).length);
  const estimate = reservationEstimate(named.deployments[0], promptTokens, body, endpoint);
  const endUser = endUserOf({ body, headers: c.req.raw.headers });
  // One parallel round of limiter calls (key, team, org or user, end user); the master key has no limits of its own.
  const general = state.config.general_settings;
  const globalBudget = (general.max_budget ?? state.config.litellm_settings.max_budget) !== undefined;
  const admission = !who.master || endUser || globalBudget
    ? await admit(c.env, who, { requestId: callId, model: group, endUser, globalBudget, ...estimate, free: estimate.estCost === 0 && freeModel(named.deployments), waitUntil: (p) => c.executionCtx.waitUntil(p) })
    : undefined;
  const caller: Caller = who.master || !admission?.policy ? { kind: 'master', token: who.token } : { kind: 'key', token: admission.policy.token, policy: admission.policy };
  seen.caller = caller;
  // A key's `aliases`, else its team's `model_aliases`, name the group a name stands for (LiteLLM's key and team model aliases).
  const aliased = caller.kind === 'key' ? caller.policy.aliases[group] ?? caller.policy.team?.modelAliases[group] : undefined;
  const routedName = aliased ?? group;
  const resolved = aliased ? resolveGroup(state.config, catalog, aliased) : named;
  const picked = resolved.deployments[0];
  if (aliased) seen.call.deployment = picked;
  try {
    if (caller.kind === 'key' && caller.policy.allowedRoutes.length) checkRoute(caller.policy.allowedRoutes, c.req.path);
    // An alias is callable when its name is on the key's list or the group it stands for is.
    if (!aliased || !mayCall(caller, group, catalog)) authorizeModel(caller, routedName, catalog);
    // LiteLLM's enforce_user_param: a virtual key's calls must name their end user (`user`).
    if (general.enforce_user_param === true && caller.kind === 'key' && body.user === undefined) {
      throw new GatewayError('Authentication Error, \'user\' param not passed in. \'enforce_user_param\'=True', { status: 401, type: 'auth_error', param: 'user' });
    }
    if (!picked) {
      throw new GatewayError(`Invalid model name passed in model=${group}. Call \`/v1/models\` to view available models for your key.`, {
        status: 400, type: 'bad_request_error', param: 'model',
      });
    }
  } catch (err) {
    if (admission) c.executionCtx.waitUntil(admission.release());
    throw err;
  }
  const cache = await planCache(cacheSettings(state.config, c.env), endpoint, resolved.group, body, caller.kind === 'key' ? caller.policy.allowedCacheControls : undefined)
    .catch((err: unknown) => {
      if (admission) c.executionCtx.waitUntil(admission.release());
      throw err;
    });
  let deployment = picked;
  const ctx: CallContext = {
    callId,
    startedAt,
    endpoint,
    caller,
    deployment,
    body,
    stream: body.stream === true && endpoint !== 'embedding',
    headers: c.req.raw.headers,
    keepText: state.config.general_settings.store_prompts_in_spend_logs === true || langfuseWantsText(state.config, caller),
    storePrompts: state.config.general_settings.store_prompts_in_spend_logs === true,
  };
  let overheadMs: number | undefined;
  // The client's headers without its credentials, for providers (anthropic-beta) and telemetry (langfuse_*): built once.
  const safeHeaders = withoutCredentials(c.req.raw.headers, state.keyHeader);
  const settle = (result: CallResult) => {
    emitCall(c.env, c.executionCtx, {
      record: spendRecord(ctx, result), endpoint, caller, deployment: ctx.deployment, body, stream: ctx.stream, outcome: result.outcome,
      error: result.error ?? result.outcome?.error, headers: safeHeaders, startedAt, finishedAt: result.finishedAt, overheadMs,
    });
    const tokens = (result.outcome?.usage.promptTokens ?? 0) + (result.outcome?.usage.completionTokens ?? 0);
    // Usage-based routing weighs each deployment's tokens this minute (and its tpm).
    if (tokens && usageBased(state.config.router_settings.routing_strategy)) countTokens(ctx.deployment.group, ctx.deployment.id, tokens, Date.now());
    if (admission) c.executionCtx.waitUntil(admission.settle(result.cost, tokens).catch((err: unknown) => console.error('limiter settle failed:', err instanceof Error ? err.message : String(err))));
  };

  if (cache) {
    const requestTimeoutS = state.config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S;
    const hit = await lookup(cache, requestTimeoutS * 1000);
    if (cache.lookup) recordCacheLookup(c.env, c.executionCtx, { caller, group: resolved.group, known: catalog.groups, hit: !!hit, cachedTokens: hit ? hit.usage.promptTokens + hit.usage.completionTokens : 0 });
    // Redis failures (this lookup's, or earlier writes') become a metric and an alert here, where there is a request context.
    const cacheFailures = takeCacheFailures();
    if (cacheFailures) recordCacheFailures(c.env, c.executionCtx, cacheFailures);
    if (hit) {
      const headers = { ...admission?.headers, ...callHeaders(ctx, ''), 'x-litellm-cache-key': cache.key, 'x-litellm-response-cost': '0' };
      overheadMs = timingHeaders(headers, startedAt, 0);
      settle({ outcome: { usage: hit.usage, finishedAt: Date.now() }, cost: 0, apiBase: '', finishedAt: Date.now(), cacheKey: cache.key });
      const includeUsage = (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true;
      return ctx.stream
        ? new Response(replayAsStream(hit, includeUsage), { headers: { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
        : new Response(hit.json, { headers: { ...headers, 'content-type': 'application/json' } });
    }
  }
  // This request fills the cache for the key; identical requests arriving meanwhile wait for it.
  const settleLeader = cache?.save ? lead(cache) : undefined;
  const upstreamStartedAt = Date.now();
  const callProvider = (d: DeploymentRef, timeout: number): Promise<ProviderAnswer> => {
    const adapter = typeof body.mock_response === 'string' ? mock : PROVIDERS.get(d.provider);
    if (!adapter) {
      return Promise.reject(new GatewayError(`Provider "${d.provider}" is not implemented yet (model group ${d.group})`, {
        status: 501, type: 'not_implemented_error', provider: d.provider,
      }));
    }
    if (!adapter.endpoints.has(endpoint)) {
      return Promise.reject(new GatewayError(`Model group ${d.group} (${d.provider}) does not serve /${endpoint === 'chat' ? 'chat/completions' : `${endpoint}s`}`, {
        status: 400, type: 'bad_request_error', param: 'model',
      }));
    }
    deployment = d;
    ctx.deployment = d;
    return adapter.call({
      endpoint,
      deployment: d,
      body,
      stream: ctx.stream,
      clientWantsUsage: (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true,
      dropParams: state.config.litellm_settings.drop_params === true,
      env: c.env,
      timeoutMs: timeout,
      promptTokenEstimate: promptTokens,
      keepText: ctx.keepText || (settleLeader !== undefined && ctx.stream),
      headers: safeHeaders,
    });
  };
  let answer: ProviderAnswer;
  let routing: { retries: number; fallbacks: number };
  try {
    const requestTimeoutS = state.config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S;
    const routed = await routeCall({
      env: c.env, ctx: c.executionCtx, state, catalog, requested: routedName, stream: ctx.stream, promptTokens, caller,
      clientFallbacks: Array.isArray(body.fallbacks) ? body.fallbacks.filter((f): f is string => typeof f === 'string') : undefined,
      deadline: startedAt + Math.max(requestTimeoutS, overrides?.timeoutS ?? 0) * 1000,
      overrides,
      call: callProvider,
    });
    answer = routed.answer;
    deployment = routed.deployment;
    ctx.deployment = routed.deployment;
    routing = { retries: routed.attemptedRetries, fallbacks: routed.attemptedFallbacks };
  } catch (err) {
    const error = err instanceof GatewayError ? err : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
    if (!(err instanceof GatewayError)) console.error('model call failed', err instanceof Error ? err.stack ?? err.message : String(err));
    settleLeader?.(undefined);
    settle({ error, cost: 0, apiBase: deployment.params.api_base ?? '', finishedAt: Date.now() });
    return errorResponse(error, callHeaders(ctx, ''));
  }
  const upstreamMs = Date.now() - upstreamStartedAt;
  const headers: Record<string, string> = {
    ...admission?.headers,
    ...callHeaders(ctx, answer.apiBase),
    'x-litellm-attempted-retries': String(routing.retries),
    'x-litellm-attempted-fallbacks': String(routing.fallbacks),
  };
  headers['content-type'] = answer.contentType;

  if (!(answer.body instanceof ReadableStream)) {
    const outcome = await answer.outcome;
    if (cache && settleLeader) c.executionCtx.waitUntil(storeAnswer(cache, settleLeader, endpoint, answer.body, outcome));
    const cost = costOfCall(deployment, outcome.usage);
    headers['x-litellm-response-cost'] = String(cost);
    if (caller.kind === 'key') headers['x-litellm-key-spend'] = String(caller.policy.spend + cost);
    overheadMs = timingHeaders(headers, startedAt, upstreamMs);
    settle({ outcome, cost, apiBase: answer.apiBase, finishedAt: outcome.finishedAt });
    return new Response(answer.body, { status: answer.status, headers });
  }
  // A stream's cost is known only at its end: it goes to the spend log, not the headers.
  c.executionCtx.waitUntil(answer.outcome.then(async (outcome) => {
    settle({ outcome, cost: costOfCall(deployment, outcome.usage), apiBase: answer.apiBase, finishedAt: outcome.finishedAt });
    if (cache && settleLeader) await storeAnswer(cache, settleLeader, endpoint, undefined, outcome, deployment.model);
  }));
  headers['cache-control'] = 'no-cache';
  if (caller.kind === 'key') headers['x-litellm-key-spend'] = String(caller.policy.spend);
  overheadMs = timingHeaders(headers, startedAt, upstreamMs);
  return new Response(answer.body, { status: answer.status, headers });
}

