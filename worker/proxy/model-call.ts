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
import { endpointRefusal, providerFor } from '../providers/registry.ts';
import type { EncryptedItemsSink, Endpoint, ProviderAnswer } from '../providers/types.ts';
import { gatewayState } from '../state.ts';
import { lead, lookup, planCache } from '../cache/response-cache.ts';
import { cacheSettings } from '../cache/settings.ts';
import '../telemetry/sinks.ts';
import { aliasOf, authorizeCall } from './call-access.ts';
import { endUserOf, type ModelCallOptions, requestTags } from './call-context.ts';
import { userInformationHeaders } from './user-info-headers.ts';
import { deploymentTags } from '../router/eligible-deployments.ts';
import { holdDeploymentBudgets } from '../limits/budget-hold.ts';
import { recordRefusedCall, type Seen } from './refused-call.ts';
import { callOverrides, DEFAULT_TIMEOUT_S, forwardedHeaders, headerSnapshot, requestTimeoutMs, withoutCredentials } from './call-helpers.ts';
import { freeModel, reservationEstimate } from './reservation.ts';
import { readCallBody } from './call-body.ts';
import { admitModelCall } from './call-admission.ts';
import { routingScope } from './cached-answer.ts';
import { responsesRefusal } from './follow-up.ts';
import { fileSearchIds, type FileSearchStores, withSearchResults } from './file-search-stores.ts';
import { callFileIds, type CallFiles } from './call-file-ids.ts';
import { responseOwner } from '../providers/response-ids.ts';
import { answerCall, callSettler } from './call-end.ts';
import { deploymentWithSecrets } from '../secrets/resolve.ts';
import { refuseLargeAnswer, refuseLargeCacheHit } from './answer-size.ts';
import { forwardsByGroup, groupForwardsHeaders } from '../router/header-groups.ts';
import { answerFromCache, type CallGuards, callContextOf, failedCall, guardAnswer, guardCallRequest, recordLookup, responsesStores } from './call-preparation.ts';

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
  const body = await readCallBody(c.req.raw, endpoint, schema, options, state.config);
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
  let appliedGuards = guarded?.appliedGuards;
  // A customer held to a region is answered from answers made in that region only: its own cache keys.
  const region = admission?.modelRegion;
  const tags = state.config.router_settings.enable_tag_filtering === true ? keyedTags : undefined;
  const scope = routingScope(resolved, region, tags, state.config.router_settings, modelTags);
  // A call whose answer a guardrail checks or unmasks (output_parse_pii) neither takes a cached answer nor makes one.
  const cache = answerGuards?.length || piiTokens || scope.cacheGroup === undefined ? undefined : await planCache(cacheSettings(state.config, c.env), endpoint, scope.cacheGroup, body, caller.kind === 'key' ? caller.policy.allowedCacheControls : undefined)
    .catch((err: unknown) => {
      if (admission) c.executionCtx.waitUntil(admission.release());
      throw err;
    });
  let deployment = scope.first ?? picked;
  const ctx = callContextOf(state, callId, startedAt, endpoint, caller, deployment, body, requestHeaders, region, keyedTags, appliedGuards);
  // The client's headers without its credentials, for providers (anthropic-beta) and telemetry (langfuse_*): built once.
  const safeHeaders = withoutCredentials(requestHeaders, state.keyHeader);
  const settler = callSettler(c, state, ctx, safeHeaders, admission);
  const forwarded = forwardedHeaders(state.config.general_settings, safeHeaders);
  // model_group_settings' groups (router/header-groups.ts): their deployments, and theirs only, get the client's headers.
  const groupForwarded = forwardsByGroup(state.config) ? forwardedHeaders(state.config.general_settings, safeHeaders, true) : undefined;
  // litellm_settings.add_user_information_to_llm_headers (user-info-headers.ts); off, this is a property read.
  // Built only where it can be sent (LiteLLM sends it only with client headers forwarded, globally or by group).
  const forwardsAll = state.config.general_settings.forward_client_headers_to_llm_api === true;
  const userInfo = state.config.litellm_settings.add_user_information_to_llm_headers === true && (forwardsAll || forwardsByGroup(state.config))
    ? userInformationHeaders(caller, endUserOf(ctx), who.shown === 'JWT') : undefined;

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
  const callProvider = async (d: DeploymentRef, timeout: number, encryptedItems?: EncryptedItemsSink): Promise<ProviderAnswer> => {
    const adapter = providerFor(d, endpoint, mocked);
    deployment = d;
    ctx.deployment = d;
    // The deployment's tags are the call's once it is called (its spend-log row carries them).
    ctx.servedTags = deploymentTags(d, modelTags);
    // Credentials a secret manager holds are read (or taken from this isolate's cache) for the adapter only.
    // (A plain value without a secret manager, or once cached: no await then.)
    const withSecrets = deploymentWithSecrets(d, c.env, waitUntil);
    const called = withSecrets instanceof Promise ? await withSecrets : withSecrets;
    const groups = groupForwarded || userInfo ? (d.group === resolved.group ? [d.group, group] : [d.group]) : undefined;
    const chosen = groupForwarded && groupForwardsHeaders(state.config, groups!) ? groupForwarded : forwarded;
    // As in LiteLLM, the caller's information goes only where client headers are forwarded (globally or for the group).
    const sent = userInfo && (forwardsAll || groupForwardsHeaders(state.config, groups!)) ? { ...chosen, ...userInfo } : chosen;
    return adapter.call({
      endpoint,
      deployment: called,
      body: withSearchResults(files?.body ?? (stores ? { ...body, tools: stores.tools } : body), stores),
      stream: ctx.stream,
      clientWantsUsage: (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true,
      dropParams: state.config.litellm_settings.drop_params === true,
      env: c.env,
      timeoutMs: timeout,
      promptTokenEstimate: promptTokens,
      keepText: ctx.keepText || (settleLeader !== undefined && ctx.stream),
      headers: safeHeaders,
      ...(sent ? { forwarded: sent } : {}),
      ...(endpoint === 'responses' ? { responseOwner: { owner: responseOwner(caller), key: state.responseIdKey } } : {}),
      ...(stores ? { fileSearch: fileSearchIds(stores, caller, state.responseIdKey, d) } : {}),
      ...(files?.containers ? { containerIds: files.containers } : {}),
      ...(encryptedItems ? { encryptedItems } : {}),
    });
  };
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
      call: callProvider,
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
    return failedCall(files ? files.shownError(err) : err, ctx, deployment, settler, settleLeader);
  }
  // The answer's guardrails (post_call), a stream held until whole: one that blocks still leaves the call paid for.
  if (answerGuards?.length || piiTokens) {
    const checked = await guardAnswer({ answer, answerGuards: answerGuards ?? [], appliedGuards, piiTokens, env: c.env, callId, timeoutMs: requestTimeoutMs(state.config), ctx, deployment, settler, settleLeader });
    if (checked instanceof Response) return checked;
    answer = checked.answer;
    appliedGuards = checked.appliedGuards;
  }
  // general_settings.max_response_size_mb (unset: this one read): a non-streamed answer over it is refused, its spend kept.
  const maxAnswerMb = state.config.general_settings.max_response_size_mb;
  if (maxAnswerMb) {
    const refused = await refuseLargeAnswer({ answer, maxBytes: maxAnswerMb * 1024 * 1024, ctx, deployment, settler, settleLeader });
    if (refused) return refused;
  }
  const policy = caller.kind === 'key' ? caller.policy : undefined;
  const answerHeaders = {
    callId, deployment, apiBase: answer.apiBase, contentType: answer.contentType, stream: answer.body instanceof ReadableStream, admission, policy,
    retries: routing.retries, fallbacks: routing.fallbacks, startedAt, upstreamMs: Date.now() - upstreamStartedAt, region: ctx.modelRegion, providerHeaders: answer.providerHeaders,
  };

  const response = await answerCall(c, state, ctx, { endpoint, answer, deployment, headers: answerHeaders, settler, promptTokens, cache, settleLeader });
  if (appliedGuards?.length) response.headers.set('x-litellm-applied-guardrails', appliedGuards.join(','));
  return response;
}
