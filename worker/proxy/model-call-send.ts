import type { GatewayEnv } from '../env.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { providerFor } from '../providers/registry.ts';
import { responseOwner } from '../providers/response-ids.ts';
import type { EncryptedItemsSink, Endpoint, ProviderAnswer, RequestHeaders } from '../providers/types.ts';
import { deploymentTags } from '../router/eligible-deployments.ts';
import { forwardsByGroup, groupForwardsHeaders } from '../router/header-groups.ts';
import { deploymentWithSecrets } from '../secrets/resolve.ts';
import type { GatewayState } from '../state.ts';
import type { CallFiles } from './call-file-ids.ts';
import type { CallContext } from './call-context.ts';
import type { TollgateConfig } from '../config/schema.ts';
import type { CachePlan } from '../cache/response-cache.ts';
import type { CachedAnswer } from '../cache/store.ts';
import type { Admission } from '../limits/admission-answer.ts';
import { answerCall, type CallSettler } from './call-end.ts';
import { forwardedHeaders, requestTimeoutMs } from './call-helpers.ts';
import { endUserOf } from './call-context.ts';
import { userInformationHeaders } from './user-info-headers.ts';
import { refuseLargeAnswer } from './answer-size.ts';
import { type CallGuards, guardAnswer } from './call-preparation.ts';
import { fileSearchIds, type FileSearchStores, withSearchResults } from './file-search-stores.ts';

/**
 * model_group_settings' groups (router/header-groups.ts): their deployments, and theirs only, get the client's headers.
 * None configured: undefined, after one check.
 * @example
 * const groupForwarded = groupForwardedHeaders(state.config, safeHeaders);
 */
export function groupForwardedHeaders(config: TollgateConfig, safeHeaders: RequestHeaders): Record<string, string> | undefined {
  return forwardsByGroup(config) ? forwardedHeaders(config.general_settings, safeHeaders, true) : undefined;
}

/**
 * litellm_settings.add_user_information_to_llm_headers (user-info-headers.ts); off, this is a property read.
 * Built only where it can be sent (LiteLLM sends it only with client headers forwarded, globally or by group).
 * @example
 * const userInfo = userInfoToSend(state.config, ctx, forwardsAll, who.shown === 'JWT');
 */
export function userInfoToSend(config: TollgateConfig, ctx: CallContext, forwardsAll: boolean, jwt: boolean): Record<string, string> | undefined {
  return config.litellm_settings.add_user_information_to_llm_headers === true && (forwardsAll || forwardsByGroup(config))
    ? userInformationHeaders(ctx.caller, endUserOf(ctx), jwt) : undefined;
}

/**
 * One attempt of a model call (routeCall's `call`, model-call.ts): the deployment's adapter, its credentials,
 * the client's headers chosen for its group, and adapter.call's arguments. Arguments are positional, as this
 * runs for every attempt and the call-wide ones are model-call.ts's locals (no object built per call).
 * @example
 * call: (d, timeout, items) => callDeployment(d, timeout, items, c.env, waitUntil, state, ctx, endpoint, mocked, ...)
 */
export async function callDeployment(
  d: DeploymentRef, timeout: number, encryptedItems: EncryptedItemsSink | undefined,
  env: GatewayEnv, waitUntil: (p: Promise<unknown>) => void, state: GatewayState, ctx: CallContext, endpoint: Endpoint, mocked: boolean,
  modelTags: Parameters<typeof deploymentTags>[1], requested: string, resolvedGroup: string,
  safeHeaders: RequestHeaders, forwarded: Record<string, string> | undefined, groupForwarded: Record<string, string> | undefined,
  userInfo: Record<string, string> | undefined, forwardsAll: boolean,
  stores: FileSearchStores | undefined, files: CallFiles | undefined, promptTokens: number, leads: boolean,
): Promise<ProviderAnswer> {
  const adapter = providerFor(d, endpoint, mocked);
  ctx.deployment = d;
  // The deployment's tags are the call's once it is called (its spend-log row carries them).
  ctx.servedTags = deploymentTags(d, modelTags);
  // Credentials a secret manager holds are read (or taken from this isolate's cache) for the adapter only.
  // (A plain value without a secret manager, or once cached: no await then.)
  const withSecrets = deploymentWithSecrets(d, env, waitUntil);
  const called = withSecrets instanceof Promise ? await withSecrets : withSecrets;
  const groups = groupForwarded || userInfo ? (d.group === resolvedGroup ? [d.group, requested] : [d.group]) : undefined;
  const chosen = groupForwarded && groupForwardsHeaders(state.config, groups!) ? groupForwarded : forwarded;
  // As in LiteLLM, the caller's information goes only where client headers are forwarded (globally or for the group).
  const sent = userInfo && (forwardsAll || groupForwardsHeaders(state.config, groups!)) ? { ...chosen, ...userInfo } : chosen;
  const body = ctx.body;
  const caller = ctx.caller;
  return adapter.call({
    endpoint,
    deployment: called,
    body: withSearchResults(files?.body ?? (stores ? { ...body, tools: stores.tools } : body), stores),
    stream: ctx.stream,
    clientWantsUsage: (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true,
    dropParams: state.config.litellm_settings.drop_params === true,
    env,
    timeoutMs: timeout,
    promptTokenEstimate: promptTokens,
    keepText: ctx.keepText || (leads && ctx.stream),
    headers: safeHeaders,
    ...(sent ? { forwarded: sent } : {}),
    ...(endpoint === 'responses' ? { responseOwner: { owner: responseOwner(caller), key: state.responseIdKey } } : {}),
    ...(stores ? { fileSearch: fileSearchIds(stores, caller, state.responseIdKey, d) } : {}),
    ...(files?.containers ? { containerIds: files.containers } : {}),
    ...(encryptedItems ? { encryptedItems } : {}),
  });
}

/**
 * A routed call's answer: its guardrails (post_call), general_settings.max_response_size_mb, then LiteLLM's
 * headers and the spend record (answerCall, call-end.ts). The tail of model-call.ts's modelCall.
 * @example
 * return answerRouted(c, state, ctx, endpoint, answer, deployment, routing, upstreamStartedAt, ...);
 */
export async function answerRouted(
  c: Parameters<typeof answerCall>[0], state: GatewayState, ctx: CallContext, endpoint: Endpoint, answer: ProviderAnswer, deployment: DeploymentRef,
  routing: { retries: number; fallbacks: number }, upstreamStartedAt: number,
  answerGuards: CallGuards['answerGuards'] | undefined, appliedGuards: string[] | undefined, piiTokens: CallGuards['piiTokens'],
  admission: Admission | undefined, settler: CallSettler, promptTokens: number, cache: CachePlan | undefined,
  settleLeader: ((answer: CachedAnswer | undefined) => void) | undefined,
): Promise<Response> {
  const { callId, caller, startedAt } = ctx;
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
