import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import type { Admission, AdmissionInput } from './admission-answer.ts';
import { CROSSED_BUDGET } from './router-budgets.ts';
import { AdmissionRound } from './admission-round.ts';
import { firstRefusal } from './admission-answer.ts';

/** Room held for one call in a deployment's budgets (its provider's, its own): settled with the call's cost, or released. */
export interface BudgetHold {
  settle(cost: number, tokens: number): Promise<void>;
  release(): Promise<void>;
}

/** Nothing held (no budget applied after all): settling and releasing it do nothing. */
export const NO_HOLD: BudgetHold = { settle: () => Promise.resolve(), release: () => Promise.resolve() };

/** A spent budget: which, in LiteLLM's words, and when its window ends (s from now), if it does. */
export interface BudgetRefusal {
  refused: string;
  retryAfterSeconds?: number;
}

/**
 * Holds the call's estimate in each of the budgets (limiter ids of kind
 * `global`, router-budgets.ts) a deployment's calls count in, from this
 * isolate's leases or the budgets' objects. A spent one refuses: nothing is
 * held then, and `refused` says which, in LiteLLM's words.
 */
export async function holdBudgets(env: GatewayEnv, ids: string[], input: Pick<AdmissionInput, 'requestId' | 'model' | 'estCost' | 'estTokens' | 'free' | 'waitUntil'>): Promise<BudgetHold | BudgetRefusal> {
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
    return { refused: refusal.detail ?? refusal.message, ...(refusal.retryAfterSeconds !== undefined ? { retryAfterSeconds: refusal.retryAfterSeconds } : {}) };
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
    const wait = held.retryAfterSeconds;
    throw new GatewayError(`${CROSSED_BUDGET}: ${held.refused}`, {
      status: 429, type: 'budget_exceeded', ...(wait !== undefined ? { headers: { 'retry-after': String(Math.max(1, Math.ceil(wait))) } } : {}),
    });
  }
  const hold = held;
  return {
    ...admission,
    settle: (cost, tokens) => Promise.all([admission.settle(cost, tokens), hold.settle(cost, tokens)]).then(() => undefined),
    release: () => Promise.all([admission.release(), hold.release()]).then(() => undefined),
  };
}
