import type { GatewayEnv } from '../env.ts';
import type { Admission, AdmissionInput } from './admission-answer.ts';
import type { TollgateConfig } from '../config/schema.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { deploymentTags } from '../router/eligible-deployments.ts';
import { deploymentBudgetIds, tagBudgetIds } from './router-budgets.ts';
import type { StoredTags } from './stored-tags.ts';
import { type Refusal, toGatewayError } from './refusals.ts';
import { AdmissionRound } from './admission-round.ts';
import { firstRefusal } from './admission-answer.ts';

/** Room held for one call in a deployment's budgets (its provider's, its own): settled with the call's cost, or released. */
export interface BudgetHold {
  settle(cost: number, tokens: number): Promise<void>;
  release(): Promise<void>;
}

/** Nothing held (no budget applied after all): settling and releasing it do nothing. */
const NO_HOLD: BudgetHold = { settle: () => Promise.resolve(), release: () => Promise.resolve() };

/** A spent budget: which, in LiteLLM's words, and when its window ends (s from now), if it does. */
export interface BudgetRefusal {
  refused: string;
  retryAfterSeconds?: number;
  /** The limiter's own answer, for a caller that refuses the call with it. */
  refusal: Refusal;
}

/**
 * Holds the call's estimate in each of the budgets (limiter ids of kind
 * `global`, router-budgets.ts) a deployment's calls count in, from this
 * isolate's leases or the budgets' objects. A spent one refuses: nothing is
 * held then, and `refused` says which, in LiteLLM's words.
 */
async function holdBudgets(env: GatewayEnv, ids: string[], input: Pick<AdmissionInput, 'requestId' | 'model' | 'estCost' | 'estTokens' | 'free' | 'waitUntil'>): Promise<BudgetHold | BudgetRefusal> {
  const round = new AdmissionRound(env, input);
  try {
    await round.ask(ids.map((id) => ({ kind: 'global', id })));
  } catch (err) {
    // A budget's limiter unreachable: what the others admitted is undone, and the call fails closed (503).
    input.waitUntil(round.undo());
    throw err;
  }
  const refusal = firstRefusal(round.results);
  if (refusal) {
    input.waitUntil(round.undo());
    return { refused: refusal.detail ?? refusal.message, refusal, ...(refusal.retryAfterSeconds !== undefined ? { retryAfterSeconds: refusal.retryAfterSeconds } : {}) };
  }
  return { settle: (cost, tokens) => round.settle(cost, tokens), release: () => round.undo() };
}

/**
 * The budgets of the tags a call carries through its key or team (known once the key is admitted):
 * held as the router's are, and settled or released with the admission. A spent one refuses the call
 * (LiteLLM's 429, as a request tag's), the admission undone.
 */
export async function holdKeyTagBudgets(env: GatewayEnv, admission: Admission, ids: string[], input: Pick<AdmissionInput, 'requestId' | 'model' | 'estCost' | 'estTokens' | 'free' | 'waitUntil'>): Promise<Admission> {
  let held: BudgetHold | BudgetRefusal;
  try {
    held = await holdBudgets(env, ids, input);
  } catch (err) {
    input.waitUntil(admission.release());
    throw err;
  }
  if ('refused' in held) {
    input.waitUntil(admission.release());
    throw toGatewayError(held.refusal);
  }
  const hold = held;
  return {
    ...admission,
    settle: (cost, tokens) => Promise.all([admission.settle(cost, tokens), hold.settle(cost, tokens)]).then(() => undefined),
    release: () => Promise.all([admission.release(), hold.release()]).then(() => undefined),
  };
}

/**
 * The router's hold of one deployment (RouteInput.hold): its provider's and own budgets, and those of
 * the tags it carries that the call does not already (its `litellm_params.tags` and `/tag/new`'s models'),
 * whose budgets `loadStored` says. Undefined, at once, when none of those can apply.
 */
export function holdDeploymentBudgets(
  env: GatewayEnv, config: TollgateConfig, d: DeploymentRef,
  call: {
    callTags: readonly string[];
    modelTags: ReadonlyMap<string, readonly string[]> | undefined;
    loadStored(): Promise<StoredTags>;
    waitUntil(p: Promise<unknown>): void;
    requestId(): string;
    price(): Pick<AdmissionInput, 'estCost' | 'estTokens' | 'free'>;
  },
): Promise<BudgetHold | BudgetRefusal> | undefined {
  const ids = deploymentBudgetIds(config, d);
  const given = deploymentTags(d, call.modelTags).filter((t) => !call.callTags.includes(t));
  if (!ids.length && !given.length) return undefined;
  return (async () => {
    const tagIds = given.length ? tagBudgetIds(config, given, (await call.loadStored()).budgeted) : [];
    if (!ids.length && !tagIds.length) return NO_HOLD;
    return holdBudgets(env, [...ids, ...tagIds], { requestId: call.requestId(), model: d.group, ...call.price(), waitUntil: call.waitUntil });
  })();
}
