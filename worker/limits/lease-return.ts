import type { EntityKind } from './entity-kind.ts';
import type { EntityView } from './entity-view.ts';
import type { LeaseGrant, LeaseReturn } from './leases.ts';

export type Target = { kind: EntityKind; id: string };

/**
 * A lease held by this isolate (see LeaseGrant): what is left of it, what
 * requests under it have used, and how many are still running. It is
 * returned to its object once it is retired (expired or replaced): at once
 * but for its running requests' estimates, and the rest when they have settled.
 */
export interface LocalLease {
  target: Target;
  grant: LeaseGrant;
  view: EntityView;
  left: { requests: number; tokens: number; cost: number };
  used: { requests: number; tokens: number; cost: number };
  inFlight: number;
  retired: boolean;
  /** What a return made while requests still ran said was used (the final return sends the rest, after it). */
  returned?: { requests: number; tokens: number; cost: number; sent?: Promise<void> };
}

/**
 * What to send the object for a retired lease now, and marks it sent: all of it (or, after a first
 * part, the rest) once no request under it runs; while some do, one first part keeping their
 * estimates reserved (`pending`). Undefined when there is nothing to send.
 */
export function nextReturn(lease: LocalLease): LeaseReturn | undefined {
  if (!lease.retired || lease.inFlight < 0) return undefined;
  const { used, left, grant } = lease;
  if (lease.inFlight > 0) {
    if (lease.returned) return undefined;
    lease.returned = { ...used };
    // What the running requests hold: the grant less what is left and what the settled ones used.
    return { leaseId: grant.leaseId, ...used, pending: { cost: grant.cost - left.cost - used.cost, tokens: grant.tokens - left.tokens - used.tokens } };
  }
  lease.inFlight = -1; // returned once
  const sent = lease.returned ?? { requests: 0, tokens: 0, cost: 0 };
  return { leaseId: grant.leaseId, requests: used.requests - sent.requests, tokens: used.tokens - sent.tokens, cost: used.cost - sent.cost };
}
