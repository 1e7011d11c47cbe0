import type { GatewayEnv } from '../env.ts';
import { limiterName, type EntityKind } from './client.ts';
import { now } from './clock.ts';
import type { EntityLimiter, EntityView, LeaseGrant } from './entity-limiter.ts';
import { type LocalLease, nextReturn, type Target } from './lease-return.ts';
import { inc } from '../telemetry/metrics/buffer.ts';
import { M } from '../telemetry/metrics/registry.ts';

/**
 * The isolate's side of admission: the limiter stub every call goes through
 * (counted), and the leases hot entities granted this isolate (leases.ts has
 * the object's side): what is left of each, which entities are hot, and the
 * request already asking a hot entity's object for its next lease.
 */
export type LimiterStub = Pick<EntityLimiter, 'admit' | 'settle' | 'addSpend' | 'release' | 'describe' | 'returnLease'>;

/** One stub per call: every Durable Object call of admission goes through here, and is counted. */
export function limiter(env: GatewayEnv, kind: EntityKind, id: string): LimiterStub {
  const ns = env.LIMITER;
  if (!ns) throw new Error('LIMITER Durable Object binding is missing');
  inc(M.limiterCalls, {});
  return ns.get(ns.idFromName(limiterName(kind, id))) as unknown as LimiterStub;
}

export type { LocalLease, Target };

const leases = new Map<string, LocalLease>();
/** Entities that granted this isolate a lease lately: until when their next lease is worth waiting for, and the last one's id. */
const hot = new Map<string, { until: number; leaseId: string }>();

/** The id of the entity's last lease here, which a request asking for the next one names as replaced. */
export function lastLeaseId(name: string): string | undefined {
  return hot.get(name)?.leaseId;
}
/** A hot entity's object being asked by a request of this isolate: settles once its answer (and lease) is in. */
export const refills = new Map<string, Promise<void>>();
const HOT_MAX = 10_000;

export function isHot(name: string): boolean {
  const until = hot.get(name)?.until;
  if (until === undefined) return false;
  if (until > now()) return true;
  hot.delete(name);
  return false;
}
let isolate: string | undefined;
/** This isolate's random id, the holder of its leases (made on first use: not allowed at load). */
export function isolateId(): string {
  return (isolate ??= crypto.randomUUID());
}

/** How long after its last lease ends an entity still counts as hot here. */
const LEASE_HOT_MS = 2_000;
/** A lease this close to its end is not used for a new request: its object may already count it as spent. */
const LEASE_MARGIN_MS = 100;

export function fromLease(name: string, estCost: number, estTokens: number): LocalLease | undefined {
  const lease = leases.get(name);
  if (!lease) return undefined;
  if (lease.grant.expiresAt - now() < LEASE_MARGIN_MS) {
    leases.delete(name);
    lease.retired = true;
    return undefined;
  }
  if (lease.left.requests < 1 || lease.left.tokens < estTokens || lease.left.cost < estCost) return undefined;
  lease.left.requests -= 1;
  lease.left.tokens -= estTokens;
  lease.left.cost -= estCost;
  lease.used.requests += 1;
  lease.inFlight += 1;
  return lease;
}

export function keepLease(target: Target, grant: LeaseGrant, view: EntityView): LocalLease {
  const name = `${target.kind}:${target.id}`;
  const old = leases.get(name);
  if (old) old.retired = true;
  const lease: LocalLease = {
    target, grant, view, inFlight: 0, retired: false,
    left: { requests: grant.requests, tokens: grant.tokens, cost: grant.cost },
    used: { requests: 0, tokens: 0, cost: 0 },
  };
  leases.set(name, lease);
  if (hot.size >= HOT_MAX && !hot.has(name)) hot.delete(hot.keys().next().value as string);
  hot.set(name, { until: grant.expiresAt + LEASE_HOT_MS, leaseId: grant.leaseId });
  return lease;
}

/** A lease at its end: no longer used here, and handed back once its last request has settled. */
export function endLease(env: GatewayEnv, lease: LocalLease): Promise<void> {
  const name = `${lease.target.kind}:${lease.target.id}`;
  if (leases.get(name) === lease) leases.delete(name);
  lease.retired = true;
  return maybeReturn(env, lease);
}

/** Hands a retired lease back, in one part or two (lease-return.ts); the second only after the first has arrived. */
export async function maybeReturn(env: GatewayEnv, lease: LocalLease): Promise<void> {
  const first = lease.returned;
  const back = nextReturn(lease);
  if (!back) return;
  const { kind, id } = lease.target;
  if (back.pending) {
    const sent = limiter(env, kind, id).returnLease(kind, id, back);
    (lease.returned as NonNullable<LocalLease['returned']>).sent = sent.catch(() => undefined);
    return sent;
  }
  if (first?.sent) await first.sent;
  await limiter(env, kind, id).returnLease(kind, id, back);
}

/** A request admitted under a lease that will not run: its share goes back into the lease. */
export function unuse(lease: LocalLease, input: { estCost: number; estTokens: number }): void {
  lease.left.requests += 1;
  lease.left.tokens += input.estTokens;
  lease.left.cost += input.estCost;
  lease.used.requests -= 1;
  lease.inFlight -= 1;
}
