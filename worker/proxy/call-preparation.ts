import type { Caller } from '../auth/authenticate.ts';
import { badRequest, errorResponse, GatewayError } from '../errors.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';
import type { Endpoint, ProviderAnswer } from '../providers/types.ts';
import { guardRequest, guardrailsFor, refuseUnguardedRoute, requestedGuardrails } from '../guardrails/run.ts';
import type { GuardrailConfig } from '../guardrails/schema.ts';
import { guardedAnswer } from '../guardrails/answer-check.ts';
import { costOfCall } from '../cost/deployment-cost.ts';
import type { CallContext } from './call-context.ts';
import type { CallSettler } from './call-end.ts';
import { cachedAnswer } from './cached-answer.ts';
import type { CachePlan } from '../cache/response-cache.ts';
import { type CachedAnswer, takeCacheFailures } from '../cache/store.ts';
import { recordCacheFailures, recordCacheLookup } from '../telemetry/metrics/hooks.ts';
import type { Admission } from '../limits/admission-answer.ts';
import type { GatewayState } from '../state.ts';
import { langfuseWantsText } from '../telemetry/langfuse/logging-settings.ts';
import { otelWantsText } from '../telemetry/otel/sink.ts';
import { standardLoggersWantText } from '../telemetry/standard/registry.ts';
import { callerHasLogging } from '../telemetry/standard/dynamic-settings.ts';
import { callHeaders } from './call-helpers.ts';
import { requireOwnPrevious } from './follow-up.ts';
import { refusedOutcome } from './refused-answer.ts';
import { fileSearchStores, type FileSearchStores } from './file-search-stores.ts';
import { log } from '../telemetry/log.ts';

/**
 * The calls guardrails read, as LiteLLM's: chats, completions and responses (input and answer), embeddings,
 * images and speech (their input: `input`, `prompt`; the answer is vectors, images or audio), transcriptions
 * (their `prompt`, and the answer's text), reranks (the query and documents).
 */
export const GUARDED: ReadonlySet<Endpoint> = new Set(['chat', 'completion', 'responses', 'embedding', 'image_generation', 'image_edit', 'speech', 'transcription', 'rerank']);
/** The calls no guardrail reads (moderations, OCR): a key that guardrails hold is refused them (refuseUnguardedRoute). */
export const UNGUARDED: ReadonlySet<Endpoint> = new Set(['moderation', 'ocr']);
/** The calls whose answer has text a `post_call` guardrail reads. */
const ANSWER_TEXT: ReadonlySet<Endpoint> = new Set(['chat', 'completion', 'responses', 'transcription']);

/**
 * A Responses API call's checks before it is routed: its previous response must be the caller's own,
 * and its file_search tools name the caller's own vector stores, by the provider's ids (file-search-stores.ts).
 */
export function responsesStores(caller: Caller, body: Record<string, unknown>, catalog: ModelCatalog, key: string): FileSearchStores | undefined {
  requireOwnPrevious(caller, body, key);
  return Array.isArray(body.tools) ? fileSearchStores(caller, body, catalog, key) : undefined;
}

/** The guardrails of a call: those that check its answer, and the names of those that ran on its request. */
export interface CallGuards {
  answerGuards: GuardrailConfig[];
  appliedGuards: string[];
  /** What a Presidio guardrail with `output_parse_pii` replaced in the request (`<PERSON_1_3fa9c2d0>` → the name), to put back in the answer. */
  piiTokens?: Map<string, string>;
  /** The text a guardrail answered the call with (`disable_exception_on_block`): no provider is called (guard-reply.ts). */
  answer?: string;
}

/**
 * config.yaml's guardrails on the request, run before the cache and the provider (a call no guardrail reads: none,
 * and moderations and OCR refused to a key that guardrails hold). The answer's
 * guardrails (post_call) read the whole answer (a stream's once it is whole); a background response has none to read yet.
 */
export async function guardCallRequest(
  guards: readonly GuardrailConfig[], body: Record<string, unknown>, caller: Caller, env: Record<string, unknown>, callId: string, endpoint: Endpoint, clientBody: Record<string, unknown>,
): Promise<CallGuards | undefined> {
  if (UNGUARDED.has(endpoint)) refuseUnguardedRoute(guards, caller, endpoint === 'ocr' ? 'the OCR API' : 'the moderations API');
  if (!GUARDED.has(endpoint)) return undefined;
  const requested = requestedGuardrails(body, caller, clientBody);
  const answerText = ANSWER_TEXT.has(endpoint);
  const answerGuards = answerText ? guardrailsFor(guards, ['post_call'], requested) : [];
  const requestGuards = guardrailsFor(guards, ['pre_call', 'during_call'], requested);
  // output_parse_pii (LiteLLM's): the request masked with numbered tokens, the answer unmasked with them.
  const unmasking = answerText && requestGuards.some((g) => g.litellm_params.guardrail === 'presidio' && g.litellm_params.output_parse_pii === true);
  const reading = [...answerGuards, ...(unmasking ? requestGuards.filter((g) => g.litellm_params.output_parse_pii === true) : [])];
  if (reading.length && body.background === true) {
    throw badRequest(`Guardrails that check the answer (${reading.map((g) => g.guardrail_name).join(', ')}) read it when it comes: call without background`, 'background');
  }
  const piiTokens = unmasking ? new Map<string, string>() : undefined;
  const { ran: appliedGuards, answer } = await guardRequest(requestGuards, body, endpoint, env, callId, piiTokens);
  // Answered by a guardrail: the model never answers, so no guardrail reads an answer (LiteLLM's pre-call block).
  if (answer !== undefined) return { answerGuards: [], appliedGuards, answer };
  return { answerGuards, appliedGuards, ...(piiTokens?.size ? { piiTokens } : {}) };
}

/** What guardAnswer needs of the call. */
export interface AnswerGuardInput {
  answer: ProviderAnswer;
  answerGuards: GuardrailConfig[];
  appliedGuards: string[] | undefined;
  piiTokens: Map<string, string> | undefined;
  env: Record<string, unknown>;
  callId: string;
  timeoutMs: number;
  ctx: CallContext;
  deployment: DeploymentRef;
  settler: CallSettler;
  settleLeader: ((answer: undefined) => void) | undefined;
}

/**
 * The answer's guardrails (post_call), a stream held until whole: one that blocks still leaves the call
 * paid for, and the call is settled here and answered with the guardrail's error. Then the request's
 * PII tokens (output_parse_pii) are put back.
 */
export async function guardAnswer(input: AnswerGuardInput): Promise<{ answer: ProviderAnswer; appliedGuards: string[] } | Response> {
  const { answer, answerGuards, appliedGuards, ctx, settler } = input;
  try {
    const guarded = await guardedAnswer(answer, answerGuards, input.env, input.callId, appliedGuards ?? [], input.timeoutMs, ctx.endpoint === 'transcription', input.piiTokens);
    const applied = [...(appliedGuards ?? []), ...guarded.ran];
    ctx.appliedGuardrails = applied;
    return { answer: guarded.answer, appliedGuards: applied };
  } catch (err) {
    const error = err instanceof GatewayError ? err : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
    input.settleLeader?.(undefined);
    ctx.appliedGuardrails = [...(appliedGuards ?? []), ...answerGuards.map((g) => g.guardrail_name)];
    // Nor what was asked: a refused answer's row keeps no prompt, as a refused request's (refused-call.ts).
    ctx.storePrompts = false;
    const outcome = await answer.outcome;
    // What the answer said is not kept: the guardrail refused it.
    settler.settle({ outcome: refusedOutcome(outcome), cost: costOfCall(input.deployment, outcome.usage), apiBase: answer.apiBase, finishedAt: Date.now(), error });
    return errorResponse(error, callHeaders(ctx, ''));
  }
}

/** The call's context, for its headers, its spend-log row and its telemetry. */
export function callContextOf(
  state: GatewayState, callId: string, startedAt: number, endpoint: Endpoint, caller: Caller, deployment: DeploymentRef, body: Record<string, unknown>,
  headers: CallContext['headers'], region: string | undefined, tags: CallContext['tags'], appliedGuards: string[] | undefined,
): CallContext {
  return {
    callId,
    startedAt,
    endpoint,
    caller,
    deployment,
    body,
    stream: body.stream === true && (endpoint === 'chat' || endpoint === 'completion' || endpoint === 'responses'),
    headers,
    keepText: state.config.general_settings.store_prompts_in_spend_logs === true || langfuseWantsText(state.config, caller) || otelWantsText(state.config) || standardLoggersWantText(state.config) || callerHasLogging(caller),
    storePrompts: state.config.general_settings.store_prompts_in_spend_logs === true,
    ...(region ? { modelRegion: region } : {}),
    tags,
    ...(appliedGuards?.length ? { appliedGuardrails: appliedGuards } : {}),
  };
}

/** A cache hit: the cached answer, and the call settled at no cost. */
export function answerFromCache(ctx: CallContext, hit: CachedAnswer, key: string, admission: Admission | undefined, settler: CallSettler): Response {
  const answered = cachedAnswer(ctx, hit, key, admission);
  settler.overheadMs = answered.overheadMs;
  settler.settle({ outcome: { usage: hit.usage, finishedAt: Date.now() }, cost: 0, apiBase: '', finishedAt: Date.now(), cacheKey: key });
  return answered.response;
}

/** A call that no deployment answered: settled with its error, which is its response. */
export function failedCall(err: unknown, ctx: CallContext, deployment: DeploymentRef, settler: CallSettler, settleLeader: ((answer: undefined) => void) | undefined): Response {
  const error = err instanceof GatewayError ? err : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
  if (!(err instanceof GatewayError)) log.error('model call failed', err instanceof Error ? err : String(err));
  settleLeader?.(undefined);
  settler.settle({ error, cost: 0, apiBase: deployment.params.api_base ?? '', finishedAt: Date.now() });
  return errorResponse(error, callHeaders(ctx, ''));
}

type Lookup = Parameters<typeof recordCacheLookup>;

/** A cache lookup's metrics, with the cache's Redis failures (this lookup's, or earlier writes'). */
export function recordLookup(env: Lookup[0], waitUntil: Lookup[1], cache: CachePlan, hit: CachedAnswer | undefined, caller: Caller, group: string, known: Lookup[2]['known']): void {
  if (cache.lookup) recordCacheLookup(env, waitUntil, { caller, group, known, hit: !!hit, cachedTokens: hit ? hit.usage.promptTokens + hit.usage.completionTokens : 0 });
  // They become a metric and an alert here, where there is a request context.
  const cacheFailures = takeCacheFailures();
  if (cacheFailures) recordCacheFailures(env, waitUntil, cacheFailures);
}
