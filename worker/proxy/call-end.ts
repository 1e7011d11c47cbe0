import type { CachePlan } from '../cache/response-cache.ts';
import type { CachedAnswer } from '../cache/store.ts';
import { costOfCall } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { errorResponse } from '../errors.ts';
import { watchLaterWork } from '../jobs/later-work-client.ts';
import type { Admission } from '../limits/admission-answer.ts';
import type { BudgetHold } from '../limits/budget-hold.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { responseOwner } from '../providers/response-ids.ts';
import type { Endpoint, ProviderAnswer, RequestHeaders } from '../providers/types.ts';
import type { HeldSlot } from '../router/deployment-slots.ts';
import { countsDeploymentUsage, countTokens } from '../router/health.ts';
import type { GatewayState } from '../state.ts';
import { emitCall } from '../telemetry/emit.ts';
import { type AnswerHeaders, answerResponse } from './answer-headers.ts';
import { callHeaders, requestTimeoutMs, storeAnswer } from './call-helpers.ts';
import { countedTokens } from './reservation.ts';
import { type CallContext, endUserOf } from './call-context.ts';
import { type CallResult, spendRecord } from './spend-record.ts';
import { log } from '../telemetry/log.ts';

/** What the end of a call runs in: the Worker's env and its waitUntil. */
interface CallScope {
  env: GatewayEnv;
  executionCtx: { waitUntil(p: Promise<unknown>): void };
}

/**
 * How a model call is settled, however it ends (an answer, a cache hit, an error): its telemetry (spend
 * log, callbacks, metrics), the usage-based router's tokens, and its limiters' and deployment budgets'
 * reservations turned into what it cost. What is learnt on the way is set on it (`overheadMs`, `budgetHold`).
 */
export interface CallSettler {
  settle(result: CallResult): void;
  overheadMs?: number;
  budgetHold?: BudgetHold;
  /** The serving deployment's slot of its `max_parallel_requests`: given back as the call settles. */
  slot?: HeldSlot;
}

export function callSettler(c: CallScope, state: GatewayState, ctx: CallContext, safeHeaders: RequestHeaders, admission: Admission | undefined): CallSettler {
  const logged = (what: string) => (err: unknown) => log.error(`${what} failed:`, err instanceof Error ? err.message : String(err));
  const settler: CallSettler = {
    settle(result) {
      settler.slot?.free();
      // A request a guardrail answered used no model: whatever its usage says, it costs nothing (a property read otherwise).
      if (ctx.guardrailAnswered) result = { ...result, cost: 0 };
      // A cost that is not a number of dollars would poison every limiter counter it reaches (NaN spend refuses all calls).
      if (!(Number.isFinite(result.cost) && result.cost >= 0)) {
        log.error(`call ${ctx.callId}: cost ${String(result.cost)} is not a number of dollars; settled as 0`);
        result = { ...result, cost: 0 };
      }
      emitCall(c.env, c.executionCtx, {
        record: spendRecord(ctx, result), endpoint: ctx.endpoint, caller: ctx.caller, deployment: ctx.deployment, body: ctx.body, stream: ctx.stream, outcome: result.outcome,
        error: result.error ?? result.outcome?.error, headers: safeHeaders, startedAt: ctx.startedAt, finishedAt: result.finishedAt, overheadMs: settler.overheadMs,
      });
      const input = result.outcome?.usage.promptTokens ?? 0;
      const output = result.outcome?.usage.completionTokens ?? 0;
      const tokens = input + output;
      // Usage-based routing weighs each deployment's tokens this minute (and its tpm).
      if (tokens && countsDeploymentUsage(state.config)) countTokens(ctx.deployment.group, ctx.deployment.id, tokens, Date.now());
      // The limiters' tpm counts the tokens token_rate_limit_type names.
      const settling = admission?.settle(result.cost, countedTokens(state.config.general_settings.token_rate_limit_type, input, output));
      if (settling) c.executionCtx.waitUntil(settling.catch(logged('limiter settle')));
      if (settler.budgetHold) c.executionCtx.waitUntil(settler.budgetHold.settle(result.cost, tokens).catch(logged('budget settle')));
    },
  };
  return settler;
}

/**
 * The provider's answer as the client's response, and the call settled: a plain answer with its cost in
 * the headers (a background response still running watched first, to be billed once it is over), a
 * stream passed on and settled at its end. Either fills the response cache when this call leads it.
 */
export async function answerCall(c: CallScope, state: GatewayState, ctx: CallContext, end: {
  /** The gateway endpoint called (the cache stores answers of those only). */
  endpoint: Endpoint; answer: ProviderAnswer; deployment: DeploymentRef; headers: AnswerHeaders; settler: CallSettler; promptTokens: number;
  cache: CachePlan | undefined; settleLeader: ((a: CachedAnswer | undefined) => void) | undefined;
}): Promise<Response> {
  const { answer, deployment, settler, cache, settleLeader } = end;
  if (!(answer.body instanceof ReadableStream)) {
    const outcome = await answer.outcome;
    // A background response still running is billed once it is over: its watch starts before the client learns its id.
    const unwatched = outcome.backgroundId && await watchLaterWork(c.env, c.executionCtx, deployment, {
      kind: 'response', deploymentId: deployment.id, group: deployment.group, id: outcome.backgroundId, creator: ctx.caller.token, owner: responseOwner(ctx.caller),
      master: ctx.caller.kind === 'master', endUser: endUserOf(ctx), tags: [...(ctx.tags ?? [])], promptTokenEstimate: end.promptTokens, trackedAt: Date.now(),
    }, requestTimeoutMs(state.config));
    if (unwatched) {
      settler.settle({ outcome, cost: 0, apiBase: answer.apiBase, finishedAt: outcome.finishedAt, error: unwatched });
      return errorResponse(unwatched, callHeaders(ctx, ''));
    }
    if (cache && settleLeader) c.executionCtx.waitUntil(storeAnswer(cache, settleLeader, end.endpoint, answer.body, outcome));
    const cost = ctx.guardrailAnswered ? 0 : costOfCall(deployment, outcome.usage);
    const answered = answerResponse(answer.body, answer.status, { ...end.headers, cost });
    settler.overheadMs = answered.overheadMs;
    settler.settle({ outcome, cost, apiBase: answer.apiBase, finishedAt: outcome.finishedAt });
    return answered.response;
  }
  // A stream's cost is known only at its end: it goes to the spend log, not the headers (unless known before, as a speech's).
  c.executionCtx.waitUntil(answer.outcome.then(async (outcome) => {
    settler.settle({ outcome, cost: costOfCall(deployment, outcome.usage), apiBase: answer.apiBase, finishedAt: outcome.finishedAt });
    if (cache && settleLeader) await storeAnswer(cache, settleLeader, end.endpoint, undefined, outcome, deployment.model);
  }));
  // A streamed body priced before it is read (speech) still says its cost.
  const answered = answerResponse(answer.body, answer.status, answer.usage ? { ...end.headers, cost: costOfCall(deployment, answer.usage) } : end.headers);
  settler.overheadMs = answered.overheadMs;
  return answered.response;
}
