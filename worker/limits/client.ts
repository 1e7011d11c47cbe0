/**
 * How other code reaches the limiter Durable Objects: one object per limited
 * entity, named `<kind>:<id>` (never one object every request goes through).
 */
import type { EntityKind } from './entity-kind.ts';

export type { EntityKind };
export { teamMemberId } from './entity-kind.ts';

export function limiterName(kind: EntityKind, id: string): string {
  return `${kind}:${id}`;
}

/** The RPC surface the admin Worker uses; the class is worker/limits/entity-limiter.ts. */
export interface LimiterAdminApi {
  /** Re-reads the entity's policy from Postgres (after an admin change) and returns its view. */
  reload(): Promise<unknown>;
  /** Zeroes the current window's spend (LiteLLM's reset_spend), or sets it to `to`; see EntityLimiter.resetSpend. */
  resetSpend(closingWindowEnd?: number, to?: number): Promise<void>;
  /** Each `budget_limits` window's spend so far, by duration (LiteLLM's `budget_limits_usage`). */
  budgetLimitsUsage(kind: EntityKind, id: string): Promise<Record<string, { current_spend: number }>>;
  /** The entity's view (spend in its window, budget), admitting nothing. */
  describe(kind: EntityKind, id: string): Promise<{ ok: unknown; view?: { spend: number } }>;
}

export interface LimiterEnv {
  LIMITER?: DurableObjectNamespace;
}

/**
 * Tells an entity's limiter that its policy changed in Postgres, so the very
 * next request anywhere sees the change (block, delete, new limits, raised
 * budget). Call it after the transaction commits. A deployment without the
 * limiter binding (tests of the admin API alone) skips it.
 */
export async function refreshLimiter(env: LimiterEnv, kind: EntityKind, id: string): Promise<void> {
  await adminStub(env, kind, id)?.reload();
}

/** The entity's limiter as the admin Worker calls it; undefined without the binding. */
function adminStub(env: LimiterEnv, kind: EntityKind, id: string): LimiterAdminApi | undefined {
  return env.LIMITER ? env.LIMITER.get(env.LIMITER.idFromName(limiterName(kind, id))) as unknown as LimiterAdminApi : undefined;
}

export async function resetLimiterSpend(env: LimiterEnv, kind: EntityKind, id: string, closingWindowEnd?: number, to?: number): Promise<void> {
  await adminStub(env, kind, id)?.resetSpend(closingWindowEnd, to);
}

/** What an entity's limiter counts in each of its `budget_limits` windows; undefined without the binding. */
export async function limiterWindowSpend(env: LimiterEnv, kind: EntityKind, id: string): Promise<Record<string, { current_spend: number }> | undefined> {
  return await adminStub(env, kind, id)?.budgetLimitsUsage(kind, id);
}

/** What an entity's limiter counts as spent in its current window; undefined without the binding. */
export async function limiterSpend(env: LimiterEnv, kind: EntityKind, id: string): Promise<number | undefined> {
  return (await adminStub(env, kind, id)?.describe(kind, id))?.view?.spend;
}
