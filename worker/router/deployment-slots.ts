import type { TollgateConfig } from '../config/schema.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { DeploymentHealth } from './health-object.ts';
import { SLOT_RENEW_MS, type SlotCap, SlotTable } from './parallel-slots.ts';
import { log } from '../telemetry/log.ts';

// The isolate's side of the caps on calls in flight (parallel-slots.ts): taking a slot, renewing it while
// the call runs, giving it back however the call ends.

/** The object counting the proxy's `global_max_parallel_requests` (a DeploymentHealth no model group is named for). */
export const GLOBAL_SLOTS_OBJECT = 'tollgate:global_max_parallel_requests';
export const GLOBAL_SLOT = 'proxy';
/**
 * No call holds a slot longer than this: a call whose end the isolate never sees (its client gone while the
 * handler was cancelled) gives it back then. A stream running longer stops counting (LiteLLM's semaphore
 * stops counting a stream once it begins).
 */
const MAX_HOLD_MS = 10 * 60_000;
/** A slot object that does not answer within this is a 503, as an unreachable limiter is. */
const ANSWER_WITHIN_MS = 5_000;

interface WaitUntil { waitUntil(p: Promise<unknown>): void }

/** A slot held by one call: `free` gives it back (any number of times, once counted). */
export interface HeldSlot {
  slot: string;
  free(): void;
}

type SlotObject = Pick<DeploymentHealth, 'takeSlot' | 'freeSlot' | 'renewSlots'>;

/** Without the Durable Object binding (a bare runtime), slots are counted in the isolate. */
const isolateTables = new Map<string, SlotTable>();

function slotObject(env: GatewayEnv, name: string): SlotObject {
  const ns = env.ROUTER_HEALTH;
  if (ns) return ns.get(ns.idFromName(name)) as unknown as SlotObject;
  let table = isolateTables.get(name);
  if (!table) isolateTables.set(name, (table = new SlotTable()));
  const t = table;
  return {
    takeSlot: (caps, holder, waitMs) => t.take(caps, holder, waitMs ?? 0, Date.now()),
    freeSlot: (slot, holder) => t.free(slot, holder, Date.now()),
    renewSlots: (holds) => t.renew(holds, Date.now()),
  };
}

/**
 * A deployment's cap on calls in flight: its `max_parallel_requests`, else the router's
 * `default_max_parallel_requests`; undefined for none (0 too, as LiteLLM makes no semaphore of it).
 */
export function parallelCap(config: TollgateConfig, d: DeploymentRef): number | undefined {
  return (d.params.max_parallel_requests ?? config.router_settings.default_max_parallel_requests) || undefined;
}

/**
 * Takes a slot of the first of `caps` with room, in the object `objectName` (a model group's, or
 * GLOBAL_SLOTS_OBJECT), waiting up to `waitMs` for one. Undefined when none had room. The slot is
 * renewed every SLOT_RENEW_MS until freed, so it outlives its isolate by SLOT_TTL_MS at most.
 */
export async function takeSlot(env: GatewayEnv, ctx: WaitUntil, objectName: string, caps: SlotCap[], holder: string, waitMs = 0): Promise<HeldSlot | undefined> {
  const object = slotObject(env, objectName);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slot = await Promise.race([
    object.takeSlot(caps, holder, waitMs),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), waitMs + ANSWER_WITHIN_MS))),
  ]).catch((err: unknown) => {
    // The slot may have been taken after all: given back, so it is not held until it expires.
    ctx.waitUntil(Promise.resolve(object.freeSlot(caps[0]!.slot, holder)).catch(() => undefined));
    for (const cap of caps.slice(1)) ctx.waitUntil(Promise.resolve(object.freeSlot(cap.slot, holder)).catch(() => undefined));
    log.error(`parallel request slots (${objectName}) unavailable:`, err instanceof Error ? err.message : String(err));
    throw new GatewayError('Parallel request limits could not be checked; try again', { status: 503, type: 'service_unavailable', headers: { 'retry-after': '1' } });
  }).finally(() => timer !== undefined && clearTimeout(timer));
  if (slot === null) return undefined;
  return holdSlot(object, ctx, slot, holder);
}

function holdSlot(object: SlotObject, ctx: WaitUntil, slot: string, holder: string): HeldSlot {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let freed = false;
  const until = Date.now() + MAX_HOLD_MS;
  // The call's own context is alive while it runs (a stream too): the renewals live in it, and end with the slot.
  ctx.waitUntil((async () => {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = await Promise.race([released.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), SLOT_RENEW_MS)))]);
      if (timer !== undefined) clearTimeout(timer);
      if (!tick || freed) return;
      if (Date.now() > until) {
        free();
        return;
      }
      await Promise.resolve(object.renewSlots([{ slot, holder }])).catch((err: unknown) => {
        log.error(`parallel request slot ${slot}: renewal failed:`, err instanceof Error ? err.message : String(err));
      });
    }
  })());
  function free(): void {
    if (freed) return;
    freed = true;
    release();
    ctx.waitUntil(Promise.resolve(object.freeSlot(slot, holder)).catch((err: unknown) => {
      // Not given back: it is free again once its renewals have stopped for SLOT_TTL_MS.
      log.error(`parallel request slot ${slot}: release failed:`, err instanceof Error ? err.message : String(err));
    }));
  }
  return { slot, free };
}
