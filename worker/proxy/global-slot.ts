import type { TollgateConfig } from '../config/schema.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import type { Admission } from '../limits/admission-answer.ts';
import { GLOBAL_SLOT, GLOBAL_SLOTS_OBJECT, type HeldSlot, takeSlot } from '../router/deployment-slots.ts';
import type { WaitUntil } from '../telemetry/emit.ts';

/**
 * `general_settings.global_max_parallel_requests`: a slot of the proxy's cap on model calls in flight,
 * counted in one object for every isolate (worker/router/parallel-slots.ts), taken before the call's
 * admission as LiteLLM checks it first; beyond the cap, LiteLLM's 429. Undefined when no cap is set.
 */
export async function takeGlobalSlot(env: GatewayEnv, ctx: WaitUntil, config: TollgateConfig, requestId: string): Promise<HeldSlot | undefined> {
  const limit = config.general_settings.global_max_parallel_requests;
  if (limit === undefined) return undefined;
  const slot = await takeSlot(env, ctx, GLOBAL_SLOTS_OBJECT, [{ slot: GLOBAL_SLOT, limit }], `${requestId}:global`);
  if (slot) return slot;
  // LiteLLM's words (parallel_request_limiter.py); its retry-after runs to the next minute, but a slot frees as soon as any call ends.
  throw new GatewayError(`Max parallel request limit reached Hit Global Limit: Limit=${limit}, current: ${limit}`, {
    status: 429, type: 'rate_limit_error', headers: { 'retry-after': '1' },
  });
}

/** The admission (an empty one for a master-key call nothing else holds) that also gives the slot back when the call settles or is undone. */
export function holdingSlot(admission: Admission | undefined, slot: HeldSlot): Admission {
  const base: Admission = admission ?? { policy: null, headers: {}, leased: false, settle: () => undefined, release: () => Promise.resolve() };
  return {
    ...base,
    settle: (cost, tokens) => {
      slot.free();
      return base.settle(cost, tokens);
    },
    release: () => {
      slot.free();
      return base.release();
    },
  };
}
