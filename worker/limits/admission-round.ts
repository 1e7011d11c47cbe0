import type { GatewayEnv } from '../env.ts';
import type { AdmissionInput } from './admission-answer.ts';
import { bounded } from './bounded.ts';
import { now } from './clock.ts';
import type { AdmitRequest, AdmitResult, Settlement } from './entity-limiter.ts';
import { settleLease } from './lease-admission.ts';
import { endLease, fromLease, isHot, isolateId, keepLease, lastLeaseId, limiter, type LocalLease, maybeReturn, refills, type Target, unuse } from './local-leases.ts';

type RoundInput = Pick<AdmissionInput, 'requestId' | 'model' | 'estCost' | 'estTokens' | 'free' | 'waitUntil'>;

/**
 * One request's admission by several entities: each admits from a lease this
 * isolate holds, else its object is asked (in parallel), keeping the lease it
 * may grant. What each answered is in `results`; `settle` and `undo` go to
 * every entity that admitted. admission.ts runs the key's rounds with it,
 * budget-hold.ts the router's budgets.
 */
export class AdmissionRound {
  readonly results = new Map<string, { target: Target; result: AdmitResult }>();
  readonly leased = new Map<string, LocalLease>();

  readonly #env: GatewayEnv;
  readonly #input: RoundInput;

  constructor(env: GatewayEnv, input: RoundInput) {
    this.#env = env;
    this.#input = input;
  }

  /** Asks the entities not asked yet. */
  async ask(targets: Target[]): Promise<void> {
    const fresh = targets.filter((t) => !this.results.has(`${t.kind}:${t.id}`));
    // A hot entity's lease admits here, without a call.
    let remote = fresh.filter((t) => !this.#takeLease(t));
    // A hot entity whose lease ran out while this isolate already asks its object (and will get the next
    // lease): wait for that answer rather than every request in flight calling the object at once.
    const refilling = remote.filter((t) => refills.has(`${t.kind}:${t.id}`));
    if (refilling.length) {
      await Promise.all(refilling.map((t) => refills.get(`${t.kind}:${t.id}`)));
      remote = remote.filter((t) => !this.#takeLease(t));
    }
    // Every call lands before a failure is thrown: an admission answered after it would be held and never undone.
    const settled = await Promise.allSettled(remote.map((t) => {
      const name = `${t.kind}:${t.id}`;
      const call = bounded(limiter(this.#env, t.kind, t.id).admit(this.#request(t)), t).then((answer) => this.#answered(t, answer as AdmitResult));
      if (isHot(name) && !refills.has(name)) {
        refills.set(name, call.catch(() => undefined).then(() => void refills.delete(name)));
      }
      return call;
    }));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Forgets an entity asked under a stale route: its admission is undone. */
  drop(name: string): void {
    const entry = this.results.get(name);
    const lease = this.leased.get(name);
    if (lease) unuse(lease, this.#input);
    else if (entry?.result.ok === true) void limiter(this.#env, entry.target.kind, entry.target.id).release(entry.target.kind, entry.target.id, this.#input.requestId);
    this.leased.delete(name);
    this.results.delete(name);
  }

  /** After the response: the actual cost and tokens into every entity that admitted. */
  async settle(cost: number, tokens: number): Promise<void> {
    const admitted = [...this.results.entries()].filter(([name, r]) => r.result.ok === true && !this.leased.has(name)).map(([, r]) => r.target);
    await Promise.all([
      ...[...this.leased.values()].map((lease) => settleLease(this.#env, lease, this.#input, cost, tokens)),
      ...admitted.map((t) => limiter(this.#env, t.kind, t.id).settle({ ...t, requestId: this.#input.requestId, model: this.#input.model, cost, tokens } satisfies Settlement)),
    ]);
  }

  /** The request will not run: every admission is undone. */
  async undo(): Promise<void> {
    const calls: Promise<void>[] = [];
    for (const [name, { target, result }] of this.results) {
      const lease = this.leased.get(name);
      if (lease) {
        unuse(lease, this.#input);
        calls.push(maybeReturn(this.#env, lease));
      } else if (result.ok === true) {
        calls.push(limiter(this.#env, target.kind, target.id).release(target.kind, target.id, this.#input.requestId));
      }
    }
    this.leased.clear();
    await Promise.all(calls);
  }

  #request(t: Target): AdmitRequest {
    const input = this.#input;
    return { ...t, requestId: input.requestId, model: input.model, estCost: input.estCost, estTokens: input.estTokens, ...(input.free ? { free: true } : {}), holder: isolateId(), replacing: lastLeaseId(`${t.kind}:${t.id}`) };
  }

  #answered(t: Target, answer: AdmitResult): void {
    this.results.set(`${t.kind}:${t.id}`, { target: t, result: answer });
    if (answer.ok === true && answer.lease) {
      const lease = keepLease(t, answer.lease, answer.view);
      // Returned at its end even if no other request comes to notice it expired.
      this.#input.waitUntil(new Promise((r) => setTimeout(r, Math.max(0, answer.lease!.expiresAt - now()))).then(() => endLease(this.#env, lease)));
    }
  }

  #takeLease(t: Target): boolean {
    const name = `${t.kind}:${t.id}`;
    const lease = fromLease(name, this.#input.estCost, this.#input.estTokens);
    if (!lease) return false;
    this.leased.set(name, lease);
    this.results.set(name, { target: t, result: { ok: true, view: lease.view } });
    return true;
  }
}
