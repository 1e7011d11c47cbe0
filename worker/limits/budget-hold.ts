import type { GatewayEnv } from '../env.ts';
import type { AdmissionInput } from './admission-answer.ts';
import { AdmissionRound } from './admission-round.ts';
import { firstRefusal } from './admission-answer.ts';

/** Room held for one call in a deployment's budgets (its provider's, its own): settled with the call's cost, or released. */
export interface BudgetHold {
  settle(cost: number, tokens: number): Promise<void>;
  release(): Promise<void>;
}

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
export async function holdBudgets(env: GatewayEnv, ids: string[], input: Pick<AdmissionInput, 'requestId' | 'model' | 'estCost' | 'estTokens' | 'waitUntil'>): Promise<BudgetHold | BudgetRefusal> {
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
