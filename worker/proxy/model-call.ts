import type { Context } from 'hono';
import type { z } from 'zod';
import { identify } from '../auth/authenticate.ts';
import { jwtTeamForModel } from '../auth/jwt-teams.ts';
import { checkJwtModel } from '../auth/jwt-permissions.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { currentCatalog } from '../models/catalog.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { resolveGroup } from '../router/resolve-group.ts';
import { routeCall } from '../router/route-call.ts';
import { affinityOf } from '../router/affinity.ts';
import { promptText } from '../openai/request-schemas.ts';
import { estimateTokens } from '../providers/openai-compatible/usage.ts';
import { endpointRefusal } from '../providers/registry.ts';
import type { Endpoint, ProviderAnswer } from '../providers/types.ts';
import { gatewayState } from '../state.ts';
import { lead, lookup, planCache } from '../cache/response-cache.ts';
import { cacheSettings } from '../cache/settings.ts';
import '../telemetry/sinks.ts';
import { aliasOf, authorizeCall } from './call-access.ts';
import { endUserOf, type ModelCallOptions, requestTags } from './call-context.ts';
import { holdDeploymentBudgets } from '../limits/budget-hold.ts';
import { recordRefusedCall, type Seen } from './refused-call.ts';
import { callOverrides, DEFAULT_TIMEOUT_S, forwardedHeaders, headerSnapshot, requestTimeoutMs, withoutCredentials } from './call-helpers.ts';
import { freeModel, reservationEstimate } from './reservation.ts';
import { readCallBody } from './call-body.ts';
import { confirmCaller } from './confirm-caller.ts';
import { storedPromptLookup } from '../prompts/stored.ts';
import { admitModelCall } from './call-admission.ts';
import { routingScope } from './cached-answer.ts';
import { responsesRefusal } from './follow-up.ts';
import type { FileSearchStores } from './file-search-stores.ts';
import { callFileIds, type CallFiles } from './call-file-ids.ts';
import { callSettler } from './call-end.ts';
import { refuseLargeCacheHit } from './answer-size.ts';
import { answerRouted, callDeployment, groupForwardedHeaders, userInfoToSend } from './model-call-send.ts';
import { guardrailReply } from '../guardrails/guard-reply.ts';
import { answerFromCache, type CallGuards, callContextOf, failedCall, guardCallRequest, recordLookup, responsesStores } from './call-preparation.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;
export type { ModelCallOptions };

/**
 * One model call, the hot path of ARCHITECTURE.md: validate the body,
 * authenticate, check model access, pick a deployment, call the provider,
 * stream or return its answer with LiteLLM's headers, and settle the spend
 * record after the response (`waitUntil`), for failures too. A refusal
 * before any provider is recorded by recordRefusedCall (refused-call.ts).
 */
export async function handleModelCall(c: Ctx, endpoint: Endpoint, schema: z.ZodType<Record<string, unknown>>, options: ModelCallOptions = {}): Promise<Response> {
  const seen: Seen = {};
  try {
    return await modelCall(c, endpoint, schema, options, seen);
  } catch (err) {
    for (const slot of seen.slots ?? []) slot.free();
    if (err instanceof GatewayError) recordRefusedCall(c, endpoint, seen, err);
    throw err;
  }
}

async function modelCall(c: Ctx, endpoint: Endpoint, schema: z.ZodType<Record<string, unknown>>, options: ModelCallOptions, seen: Seen): Promise<Response> {
  const startedAt = Date.now();
  const state = await gatewayState(c.env);
  const requestHeaders = headerSnapshot(c.req.raw.headers);
  // A request without a key is refused before its body is read, as LiteLLM authenticates first.
  let who = await identify(requestHeaders, state, c.req.path);
  const body = await readCallBody(c.req.raw, endpoint, schema, options, state.config, () => confirmCaller(c.env, who, c.req.path),
    storedPromptLookup(state, c.env, c.executionCtx));
  // What the client sent, where the route translated it (/v1/messages), for the config's rules on a call's body and tags.
  const rulesBody = options.clientBody ?? body;
  const overrides = callOverrides(body, requestHeaders);
  const group = body.model as string;
  seen.group = group;
  seen.call = { token: who.token, body, startedAt, storePrompts: state.config.general_settings.store_prompts_in_spend_logs === true, ...(who.endUser ? { endUser: who.endUser } : {}) };
  const catalog = await currentCatalog(state, c.env, c.executionCtx, { missing: group });
  seen.known = catalog.groups;
  // A JWT's role_permissions / scope_mappings models (auth/jwt-permissions.ts): a property read for every other caller.
  if (who.permits) checkJwtModel(who.permits, group, catalog);
  const named = resolveGroup(state.config, catalog, group);
  // A JWT listing several teams (team_ids_jwt_field) calls as the first that may call this model (jwt-teams.ts).
  if (who.alternatives) seen.call.token = (who = await jwtTeamForModel(c.env, who, group, catalog, named.deployments.length > 0)).token;
  seen.call.deployment = named.deployments[0];
  const callId = crypto.randomUUID();
  const promptTokens = estimateTokens(promptText(body).length);
  const estimate = reservationEstimate(named.deployments[0], promptTokens, body, endpoint, state.config.general_settings.token_rate_limit_type);
  const free = estimate.estCost === 0 && freeModel(named.deployments);
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  const { admission: admitted, caller, tags: keyedTags, modelTags, loadStored } = await admitModelCall(c.env, c.executionCtx, state.config, {
    who, requestId: callId, group, endUser: endUserOf({ body, headers: requestHeaders }), ownTags: requestTags({ body, headers: requestHeaders }), client: { body: rulesBody, headers: requestHeaders }, estimate, free, seen, countGlobal: true,
  });
  const extra = options.extraCost;
  const admission = extra && admitted ? { ...admitted, settle: (cost: number, tokens: number) => admitted.settle(cost + extra, tokens) } : admitted;
  const aliased = aliasOf(caller, group);
  const routedName = aliased ?? group;
  const resolved = aliased ? resolveGroup(state.config, catalog, aliased) : named;
  if (aliased) seen.call.deployment = resolved.deployments[0];
  let picked: DeploymentRef;
  // A Responses API call's file_search tools: the caller's own vector stores, by the provider's ids (file-search-stores.ts).
  let stores: FileSearchStores | undefined;
  let files: CallFiles | undefined;
  // config.yaml's guardrails (none configured: nothing to do here), run before callFileIds copies the body, the cache and the provider.
  const guards = state.config.guardrails?.length ? state.config.guardrails : undefined;
  let guarded: CallGuards | undefined;
  try {
    picked = authorizeCall({ caller, requested: group, aliased, picked: resolved.deployments[0], catalog, path: c.req.path, body, bodyRules: { settings: state.config.general_settings, clientBody: rulesBody } });
    if (endpoint === 'responses') stores = responsesStores(caller, body, catalog, state.responseIdKey);
    if (guards) guarded = await guardCallRequest(guards, body, caller, c.env, callId, endpoint, rulesBody);
    files = callFileIds(caller, endpoint, body, catalog, state.responseIdKey, stores);
  } catch (err) {
    if (admission) c.executionCtx.waitUntil(admission.release());
    throw err;
  }
  const answerGuards = guarded?.answerGuards;
  const piiTokens = guarded?.piiTokens;
  const appliedGuards = guarded?.appliedGuards;
  // A customer held to a region is answered from answers made in that region only: its own cache keys.
  const region = admission?.modelRegion;
  const tags = state.config.router_settings.enable_tag_filtering === true ? keyedTags : undefined;
  const scope = routingScope(resolved, region, tags, state.config.router_settings, modelTags);
  // A call whose answer a guardrail checks or unmasks (output_parse_pii) neither takes a cached answer nor makes one.
  const cache = answerGuards?.length || piiTokens || guarded?.answer !== undefined || scope.cacheGroup === undefined ? undefined : await planCache(cacheSettings(state.config, c.env), endpoint, scope.cacheGroup, body, caller.kind === 'key' ? caller.policy.allowedCacheControls : undefined)
    .catch((err: unknown) => {
      if (admission) c.executionCtx.waitUntil(admission.release());
      throw err;
    });
  let deployment = scope.first ?? picked;
  const ctx = callContextOf(state, callId, startedAt, endpoint, caller, deployment, body, requestHeaders, region, keyedTags, appliedGuards);
  // The client's headers without its credentials, for providers (anthropic-beta) and telemetry (langfuse_*): built once.
  const safeHeaders = withoutCredentials(requestHeaders, state.keyHeader);
  const settler = callSettler(c, state, ctx, safeHeaders, admission);
  // A request a guardrail answered (disable_exception_on_block): its text in the endpoint's format, no provider called, at no cost.
  if (guarded?.answer !== undefined) {
    ctx.guardrailAnswered = true;
    const reply = guardrailReply(endpoint, body, guarded.answer, ctx.stream, ctx.keepText);
    return answerRouted(c, state, ctx, endpoint, reply, deployment, { retries: 0, fallbacks: 0 }, Date.now(), undefined, appliedGuards, undefined, admission, settler, promptTokens, undefined, undefined);
  }
  // The client's headers a provider gets, globally and for model_group_settings' groups, and the caller's information (model-call-send.ts).
  const forwarded = forwardedHeaders(state.config.general_settings, safeHeaders);
  const groupForwarded = groupForwardedHeaders(state.config, safeHeaders);
  const forwardsAll = state.config.general_settings.forward_client_headers_to_llm_api === true;
  const userInfo = userInfoToSend(state.config, ctx, forwardsAll, who.shown === 'JWT');

  if (cache) {
    const hit = await lookup(cache, requestTimeoutMs(state.config));
    recordLookup(c.env, c.executionCtx, cache, hit, caller, resolved.group, catalog.groups);
    if (hit) {
      const maxHitMb = state.config.general_settings.max_response_size_mb;
      return (maxHitMb && refuseLargeCacheHit(ctx, hit, cache.key, maxHitMb * 1024 * 1024, settler)) || answerFromCache(ctx, hit, cache.key, admission, settler);
    }
  }
  // This request fills the cache for the key; identical requests arriving meanwhile wait for it.
  const settleLeader = cache?.save ? lead(cache) : undefined;
  const upstreamStartedAt = Date.now();
  const mocked = typeof body.mock_response === 'string';
  const responses = endpoint === 'responses' ? responsesRefusal(body, mocked, stores) : undefined;
  let answer: ProviderAnswer;
  let routing: { retries: number; fallbacks: number };
  let holds = 0;
  try {
    const requestTimeoutS = state.config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S;
    const routed = await routeCall({
      env: c.env, ctx: c.executionCtx, state, catalog, requested: routedName, stream: ctx.stream, promptTokens, caller, region: ctx.modelRegion,
      tags,
      modelTags,
      affinity: affinityOf(state.config, { endpoint, body, caller, headers: ctx.headers, promptTokens }),
      refusal: (d) => endpointRefusal(d, endpoint, mocked) ?? files?.refusal(d) ?? responses?.(d),
      clientFallbacks: Array.isArray(body.fallbacks) ? body.fallbacks.filter((f): f is string => typeof f === 'string') : undefined,
      deadline: startedAt + Math.max(requestTimeoutS, overrides?.timeoutS ?? 0) * 1000,
      overrides,
      // One attempt (model-call-send.ts); ctx.deployment follows the deployment called, for a failure's record.
      call: (d, timeout, encryptedItems) => callDeployment(
        d, timeout, encryptedItems, c.env, waitUntil, state, ctx, endpoint, mocked, modelTags, group, resolved.group,
        safeHeaders, forwarded, groupForwarded, userInfo, forwardsAll, stores, files, promptTokens, settleLeader !== undefined,
      ),
      // Each attempt's hold is its own reservation, priced at the deployment it is for.
      hold: (d) => holdDeploymentBudgets(c.env, state.config, d, {
        callTags: keyedTags, modelTags, loadStored, waitUntil, requestId: () => `${callId}:${holds++}`,
        price: () => {
          const priced = reservationEstimate(d, promptTokens, body, endpoint);
          return { ...priced, free: priced.estCost === 0 && freeModel([d]) };
        },
      }),
    });
    settler.budgetHold = routed.hold;
    if (routed.slot) (seen.slots ??= []).push(settler.slot = routed.slot);
    answer = routed.answer;
    deployment = routed.deployment;
    ctx.deployment = routed.deployment;
    routing = { retries: routed.attemptedRetries, fallbacks: routed.attemptedFallbacks };
  } catch (err) {
    // A provider's refusal names the files and containers sent by the client's ids (a 404 of an expired container).
    return failedCall(files ? files.shownError(err) : err, ctx, ctx.deployment, settler, settleLeader);
  }
  return answerRouted(c, state, ctx, endpoint, answer, deployment, routing, upstreamStartedAt, answerGuards, appliedGuards, piiTokens, admission, settler, promptTokens, cache, settleLeader);
}
