/**
 * What keys' and teams' own destinations (logger-owners.ts) may cost a batch of the callback consumer. A tenant
 * chooses its LangSmith base URL, so it can name a server that never answers: each request to it holds one of the
 * owners' shared connections for the full POST_TIMEOUT_MS. Two limits keep that from stalling other tenants: a
 * destination that gave no answer is not tried again by this isolate for UNANSWERED_MS (its payloads go straight
 * to a retry, as a refused GCS token exchange is remembered), and owners' requests not started within
 * OWNER_BUDGET_MS of the batch's start are retried rather than waited on.
 */
import { BoundedTtlMap } from '../../../worker/lib/bounded-map.ts';
import { requestPool } from './loggers/pool.ts';
import type { LoggerTarget, PostResult } from './loggers/types.ts';

/**
 * Requests keys' and teams' own destinations may have in flight at once in a batch (loggers' and Arize spans'
 * together), and what one owner may hold: the config's loggers and exporters keep the rest of a Worker's 6
 * connections, so no tenant's slow destination delays them, and one tenant holds at most one connection.
 */
export const OWNER_REQUESTS = 2;
export const PER_OWNER_REQUESTS = 1;

/** How long this isolate sends nothing to an owner's destination that timed out or was unreachable. */
export const UNANSWERED_MS = 30_000;

/** How long a batch waits for owners' requests to start: later ones are retried (with the consumer's backoff). */
export const OWNER_BUDGET_MS = 15_000;

/** Destinations remembered as unanswered at most: tenants choose these origins, so the memory is bounded (the oldest goes first). */
const UNANSWERED_MAX = 1_000;

/** Per logger and destination origin: remembered for UNANSWERED_MS, while it is not tried again. */
const unanswered = new BoundedTtlMap<true>(UNANSWERED_MAX);

/** A request an owner's runner never sent: the owners' budget was spent while it waited. */
type Unsent = { ok: false; retry: true; reason: string };

/** Runs one request of a logger's payloads: a pool, or an owner's runner (ownerRunner). */
export type Run = (task: () => Promise<PostResult>) => Promise<PostResult>;
type Pool = ReturnType<typeof requestPool>;

/**
 * An owner's request runner: its own place, then one of the owners' shared ones, unless the batch's owner budget
 * is spent while it waits: then it is answered at once as one to retry, and never sent (a request already sent
 * runs to its answer or timeout, so nothing delivered is retried).
 */
export function ownerRunner<R extends { ok: boolean } = PostResult>(own: Pool, shared: Pool, deadline: number): (task: () => Promise<R>) => Promise<R | Unsent> {
  return (task) => new Promise<R | Unsent>((resolve, reject) => {
    let spent = false;
    const timer = setTimeout(() => {
      spent = true;
      resolve({ ok: false, retry: true, reason: `not sent: keys' and teams' own destinations spent this batch's ${OWNER_BUDGET_MS / 1000} s` });
    }, Math.max(0, deadline - Date.now()));
    void own(() => shared(async () => {
      if (spent) return;
      clearTimeout(timer);
      try {
        resolve(await task());
      } catch (err) {
        reject(err);
      }
    }));
  });
}

/**
 * An owner's target that skips a destination remembered as unanswered (`name` and `target.where`, its origin),
 * and remembers one that gives no answer now. Costs a Map lookup a request.
 */
export function rememberingTarget(name: string, target: LoggerTarget): LoggerTarget {
  const place = `${name}\n${target.where}`;
  return {
    where: target.where,
    async post(segments) {
      if (unanswered.get(place)) return { ok: false, retry: true, reason: `not sent: no answer from it within the last ${UNANSWERED_MS / 1000} s` };
      const result = await target.post(segments);
      if (!result.ok && result.unanswered) unanswered.set(place, true, UNANSWERED_MS);
      return result;
    },
  };
}

/** One batch's owners' connections: every owner's requests (a logger's payloads or Arize spans) run through these. */
export interface OwnerPools {
  /** The runner for `owner`'s requests (`key:<hash>` or `team:<id>`): its own place, then a shared one (ownerRunner). */
  runFor<R extends { ok: boolean } = PostResult>(owner: string): (task: () => Promise<R>) => Promise<R | Unsent>;
}

/**
 * The owners' pools for one batch of the callback consumer, made once and handed to both the loggers' dispatcher
 * and the span exporter, so all tenants together hold at most OWNER_REQUESTS connections, an owner at most
 * PER_OWNER_REQUESTS, and all share one OWNER_BUDGET_MS from now (`budgetMs`, for tests).
 */
export function ownerPools(budgetMs = OWNER_BUDGET_MS): OwnerPools {
  const shared = requestPool(OWNER_REQUESTS);
  const perOwner = new Map<string, Pool>();
  const deadline = Date.now() + budgetMs;
  return {
    runFor<R extends { ok: boolean } = PostResult>(owner: string) {
      let own = perOwner.get(owner);
      if (!own) perOwner.set(owner, (own = requestPool(PER_OWNER_REQUESTS)));
      return ownerRunner<R>(own, shared, deadline);
    },
  };
}
