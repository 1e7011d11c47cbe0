import type { BudgetHold, BudgetRefusal } from '../limits/budget-hold.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { type HeldSlot, parallelCap, takeSlot } from './deployment-slots.ts';
import type { RouteInput } from './route-input.ts';

/**
 * How long a call waits for a slot when every deployment of its group that could serve it is at its
 * `max_parallel_requests` (LiteLLM waits on the deployment's semaphore for as long as it takes; a Worker
 * holding requests open without bound only moves the queue, so briefly, then the group's fallbacks, then a 429).
 */
export const PARALLEL_WAIT_MS = 2_000;

/** What one attempt holds on the deployment it goes to: room in its budgets, a slot of its cap on calls in flight. */
export interface Claim {
  deployment: DeploymentRef;
  hold?: BudgetHold;
  slot?: HeldSlot;
}

let holderPrefix: string | undefined;
let holderCount = 0;
/** A slot holder id: unique per attempt across isolates, without a random UUID each time. */
const nextHolder = () => `${(holderPrefix ??= crypto.randomUUID())}:${holderCount++}`;

/**
 * Picks the deployment of `available` an attempt goes to (by `pick`), passing over, without counting an
 * attempt, one at its cap on calls in flight (`max_parallel_requests`, else `default_max_parallel_requests`:
 * counted in the group's DeploymentHealth object, so across every isolate) and one whose budget is spent
 * (its refusal added to `crossed`). When every one left is at its cap, waits up to PARALLEL_WAIT_MS for a
 * slot of any of them. Answers the claim (if any) and the deployments still available; `full` says some
 * were passed over at their caps.
 */
export async function claimDeployment(
  input: RouteInput, group: string, available: DeploymentRef[], pick: (pool: DeploymentRef[]) => DeploymentRef, crossed: BudgetRefusal[],
): Promise<{ claim?: Claim; available: DeploymentRef[]; full: boolean }> {
  const config = input.state.config;
  const full: DeploymentRef[] = [];
  let left = available;
  while (left.length) {
    const deployment = pick(left);
    const cap = parallelCap(config, deployment);
    const slot = cap === undefined ? undefined : await takeSlot(input.env, input.ctx, group, [{ slot: deployment.id, limit: cap }], nextHolder());
    if (cap !== undefined && !slot) {
      full.push(deployment);
      left = left.filter((d) => d !== deployment);
      continue;
    }
    const claim = await holdBudgets(input, deployment, slot, crossed);
    if (claim) return { claim, available: left, full: full.length > 0 };
    left = left.filter((d) => d !== deployment);
  }
  if (!full.length) return { available: left, full: false };
  const waitMs = Math.min(PARALLEL_WAIT_MS, input.deadline - Date.now());
  const slot = waitMs > 0 ? await takeSlot(input.env, input.ctx, group, full.map((d) => ({ slot: d.id, limit: parallelCap(config, d)! })), nextHolder(), waitMs) : undefined;
  const deployment = slot && full.find((d) => d.id === slot.slot);
  if (!slot || !deployment) {
    slot?.free();
    return { available: [], full: true };
  }
  const claim = await holdBudgets(input, deployment, slot, crossed);
  return claim ? { claim, available: [deployment], full: false } : { available: [], full: false };
}

/** Room in the deployment's budgets (budget routing), when any applies; undefined, with the slot given back, when one is spent. */
async function holdBudgets(input: RouteInput, deployment: DeploymentRef, slot: HeldSlot | undefined, crossed: BudgetRefusal[]): Promise<Claim | undefined> {
  let answer: BudgetHold | BudgetRefusal | undefined;
  try {
    answer = await input.hold?.(deployment);
  } catch (err) {
    slot?.free();
    throw err;
  }
  if (answer && 'refused' in answer) {
    slot?.free();
    crossed.push(answer);
    return undefined;
  }
  return { deployment, ...(answer ? { hold: answer } : {}), ...(slot ? { slot } : {}) };
}
