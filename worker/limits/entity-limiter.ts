import { DurableObject } from 'cloudflare:workers';
import type { GatewayEnv } from '../env.ts';
import { gatewayState } from '../state.ts';
import type { EntityKind } from './client.ts';
import { now } from './clock.ts';
import {
  type AdmitRequest, adoptPolicy, closeBudgetWindow, type Counters, freshCounters, LATER_WORK_BILLED_FOR_MS, releaseReservation, reserve, type Settlement,
  settleReservation, sweepExpired,
} from './counters.ts';
import { adoptLimitWindows } from './budget-limits.ts';
import { checkAdmission } from './entity-check.ts';
import { type AdmitResult, entityView, type EntityView } from './entity-view.ts';
import { AdmissionRate, grantLease, type LeaseGrant, type LeaseReturn, takeBackLease } from './leases.ts';
import type { EntityPolicy } from './policy.ts';
import { readPolicy } from './read-policy.ts';
import { withConfigEnv } from '../config/config-env.ts';
import { log } from '../telemetry/log.ts';
import { loggedKey } from '../auth/jwt-identity.ts';

export { RESERVATION_TTL_MS } from './counters.ts';
export type { AdmitRequest, Settlement } from './counters.ts';
export type { AdmitResult, EntityView } from './entity-view.ts';
export { HOT_RPS, LEASE_MS } from './leases.ts';
export type { LeaseGrant, LeaseReturn } from './leases.ts';

/** Counters are written to storage at most this often: the loss window on a crash (spend itself is also in Postgres). */
export const PERSIST_EVERY_MS = 100;
/** A policy older than this is re-read in the background, in case a change reached Postgres without reaching us. */
const POLICY_REFRESH_MS = 60_000;
const REFUSAL_REFRESH_MS = 5_000;
const OWNER_KINDS: ReadonlySet<EntityKind> = new Set(['team', 'user', 'org']);

/** How long an id of spend added outside an admission is remembered: a day past the time such work is billed for. */
const OUTSIDE_MEMORY_MS = LATER_WORK_BILLED_FOR_MS + 86_400_000;
/** Keys `outside-expiry:<until, padded>:<id>` → the id's key: the ids in the order they expire. */
const OUTSIDE_EXPIRY = 'outside-expiry:';

/**
 * One limited entity (a key, team, organization, user or end user): its
 * policy snapshot and current-window counters, answering admission in one
 * step. Strictly consistent because every request for the entity passes
 * through this one object; counters live in memory and are persisted
 * coalesced (SQLite-backed storage), never with a write awaited per request.
 * The arithmetic is in counters.ts, entity-check.ts and leases.ts.
 */

export class EntityLimiter extends DurableObject<GatewayEnv> {
  #policy: EntityPolicy | undefined;
  #policyAt = 0;
  #counters: Counters | undefined;
  #persistTimer: ReturnType<typeof setTimeout> | undefined;
  #reloading: Promise<void> | undefined;
  #rate = new AdmissionRate();
  #nextSweep = 0;
  #tz: string | undefined;
  /** `general_settings.disable_reset_budget`: budget windows never close, spend only grows (counters.ts). */
  #keepSpend = false;

  constructor(ctx: DurableObjectState, env: GatewayEnv) {
    // config.yaml's environment_variables, as the Workers' handlers see them (config-env.ts).
    super(ctx, withConfigEnv(env));
  }

  /** Admission: blocked or expired, budget (with a reservation), RPM/TPM buckets, parallel requests, per-model limits. */
  async admit(req: AdmitRequest): Promise<AdmitResult> {
    await this.#ensure(req.kind, req.id);
    await this.#refreshIfDue();
    const policy = this.#policy as EntityPolicy;
    const c = this.#counters as Counters;
    const t = now();
    if (policy.redirect && policy.redirect.until > t) return { ok: 'redirect', token: policy.redirect.token, until: policy.redirect.until };
    this.#roll(c, policy, t);
    if (req.returning) this.#takeBack(c, policy, req.returning);
    this.#rate.count(t);
    const refusal = checkAdmission(policy, c, req, t);
    if (refusal) return { ok: false, refusal, view: this.#view() };
    reserve(policy, c, req, t);
    this.#dirty();
    const lease = this.#lease(policy, c, req, t);
    return lease ? { ok: true, view: this.#view(), lease } : { ok: true, view: this.#view() };
  }

  /** A lease returned on its own (it expired with nothing more to admit). */
  async returnLease(kind: EntityKind, id: string, returning: LeaseReturn): Promise<void> {
    await this.#ensure(kind, id);
    this.#takeBack(this.#counters as Counters, this.#policy as EntityPolicy, returning);
  }

  #lease(policy: EntityPolicy, c: Counters, req: AdmitRequest, t: number): LeaseGrant | undefined {
    const grant = grantLease(policy, c, req, t, this.#rate.current());
    if (grant) this.#dirty();
    return grant;
  }

  #takeBack(c: Counters, policy: EntityPolicy, back: LeaseReturn): void {
    const t = now();
    takeBackLease(c, policy, back, t);
    this.#rate.count(t, Math.max(0, back.requests));
    this.#dirty();
  }

  /** The entity as the admin API or `/v1/models` needs it, without admitting anything. */
  async describe(kind: EntityKind, id: string): Promise<AdmitResult> {
    await this.#ensure(kind, id);
    await this.#refreshIfDue();
    const policy = this.#policy as EntityPolicy;
    if (policy.redirect && policy.redirect.until > now()) return { ok: 'redirect', token: policy.redirect.token, until: policy.redirect.until };
    // The window open now: a budget whose window ended shows its new spend.
    this.#roll(this.#counters as Counters, policy, now());
    return { ok: true, view: this.#view() };
  }

  /** Each `budget_limits` window's spend so far, by duration, rounded as LiteLLM's `budget_limits_usage` (/key/info). */
  async budgetLimitsUsage(kind: EntityKind, id: string): Promise<Record<string, { current_spend: number }>> {
    await this.#ensure(kind, id);
    const c = this.#counters as Counters;
    this.#roll(c, this.#policy as EntityPolicy, now());
    return Object.fromEntries(Object.entries(c.limitWindows ?? {}).map(([duration, w]) => [duration, { current_spend: Math.round(w.spend * 1e4) / 1e4 }]));
  }

  /** After the response: the actual cost and tokens replace the reservation. */
  async settle(s: Settlement): Promise<void> {
    await this.#ensure(s.kind, s.id);
    const c = this.#counters as Counters;
    const policy = this.#policy as EntityPolicy;
    const t = now();
    this.#roll(c, policy, t);
    settleReservation(c, policy, s, t, this.#timeZone());
    this.#dirty();
  }

  /**
   * Spend of work that ran without an admission (a finished batch or background response), counted once per `requestId`
   * however often it comes: each id is kept in storage of its own for OUTSIDE_MEMORY_MS (a busy
   * entity sees thousands a month, more than the counters' one value should hold).
   */
  async addSpend(s: Omit<Settlement, 'tokens'>): Promise<void> {
    await this.#ensure(s.kind, s.id);
    const seen = `outside:${s.requestId}`;
    if (await this.ctx.storage.get(seen) !== undefined) return;
    const c = this.#counters as Counters;
    const policy = this.#policy as EntityPolicy;
    const t = now();
    this.#roll(c, policy, t);
    settleReservation(c, policy, { ...s, tokens: 0 }, t, this.#timeZone());
    // The id and the spend it added are stored together: neither is kept without the other.
    const until = t + OUTSIDE_MEMORY_MS;
    await this.ctx.storage.put({ [seen]: until, [`${OUTSIDE_EXPIRY}${String(until).padStart(15, '0')}:${s.requestId}`]: seen, state: { policy, counters: c } });
    // Ids past their time go, oldest first, a bounded number at a time (the expiry index is in time order; a delete takes 128 keys).
    const expired = await this.ctx.storage.list<string>({ prefix: OUTSIDE_EXPIRY, end: `${OUTSIDE_EXPIRY}${String(t).padStart(15, '0')}`, limit: 60 });
    if (expired.size) await this.ctx.storage.delete([...expired.keys(), ...expired.values()]);
  }

  /** Undoes an admission another entity refused: the request never ran. */
  async release(kind: EntityKind, id: string, requestId: string): Promise<void> {
    await this.#ensure(kind, id);
    if (releaseReservation(this.#counters as Counters, this.#policy as EntityPolicy, requestId)) this.#dirty();
  }

  /** Re-reads the policy from Postgres (the admin API calls this after each change). */
  async reload(kind?: EntityKind, id?: string): Promise<EntityView | undefined> {
    if (kind && id) await this.#ensure(kind, id);
    if (!this.#policy) return undefined;
    // A read already running may have begun before the change it is told of: a fresh one follows it.
    if (this.#reloading) await this.#reloading;
    await this.#reload();
    return this.#view();
  }

  /**
   * Zeroes the current window's spend (LiteLLM's reset_spend). The budget
   * reset job passes the end of the window it closes: an object that rolled
   * into the next window by itself already did, and keeps what it has
   * counted since.
   */
  async resetSpend(closingWindowEnd?: number, to?: number): Promise<void> {
    if (!this.#counters) await this.#restore();
    if (!this.#counters) return;
    if (closingWindowEnd !== undefined && this.#counters.windowResetAt !== null && this.#counters.windowResetAt > closingWindowEnd) return;
    // `/key/{key}/reset_spend` sets the spend to a value (`to`); the budget reset job zeroes it with the per-model spend.
    this.#counters.windowSpend = to ?? 0;
    if (to === undefined) this.#counters.modelSpend = {};
    // A reset to 0 through the admin API (not the budget reset job's) starts every budget_limits window again, as LiteLLM's reset_spend does.
    if (closingWindowEnd === undefined && !to) {
      for (const w of Object.values(this.#counters.limitWindows ?? {})) Object.assign(w, { spend: 0, reset: true });
    }
    this.#dirty();
  }

  async #ensure(kind: EntityKind, id: string): Promise<void> {
    // The config is read once per instance, a restored one (resetSpend) included.
    if (this.#policy && this.#counters && this.#tz !== undefined) return;
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.#tz === undefined) {
        const { config } = await gatewayState(this.env);
        this.#keepSpend = config.general_settings.disable_reset_budget === true;
        this.#tz = config.litellm_settings.timezone ?? 'UTC';
      }
      if (this.#policy && this.#counters) return;
      const stored = await this.ctx.storage.get<{ policy: EntityPolicy; counters: Counters }>('state');
      this.#policy = await readPolicy(this.env, kind, id, this.#timeZone()).catch((err: unknown) => {
        // Postgres unreachable: a known entity keeps its last policy; an unknown one cannot be admitted.
        if (stored) return stored.policy;
        throw err;
      });
      this.#policyAt = now();
      this.#counters = stored?.counters ?? freshCounters(this.#policy, this.#timeZone(), this.#keepSpend);
      // Counters stored before the policy had (or changed) its budget_limits windows take them up now.
      if (stored && (this.#policy.budgetLimits?.length || this.#counters.limitWindows)) adoptLimitWindows(this.#counters, this.#policy);
    });
  }

  async #restore(): Promise<void> {
    const stored = await this.ctx.storage.get<{ policy: EntityPolicy; counters: Counters }>('state');
    if (stored) {
      this.#policy ??= stored.policy;
      this.#counters ??= stored.counters;
    }
  }

  /**
   * The policy read again once it is a minute old, in the background; a refusal (a JWT's team or user that did
   * not exist) read again before answering once it is 5 s old, so one created since is taken up at once; a team,
   * user or organization that did not exist, in the background once 5 s old (a JWT may name one before it is made).
   */
  async #refreshIfDue(): Promise<void> {
    const policy = this.#policy;
    const age = now() - this.#policyAt;
    if (policy?.refusal && age > REFUSAL_REFRESH_MS) await this.#reload();
    else if (age > POLICY_REFRESH_MS || (policy && !policy.exists && OWNER_KINDS.has(policy.kind) && age > REFUSAL_REFRESH_MS)) this.ctx.waitUntil(this.#reload());
  }

  #reload(): Promise<void> {
    const policy = this.#policy;
    if (!policy) return Promise.resolve();
    this.#reloading ??= readPolicy(this.env, policy.kind, policy.id, this.#timeZone()).then((fresh) => {
      const old = this.#policy;
      this.#policy = fresh;
      this.#policyAt = now();
      const c = this.#counters;
      if (c) adoptPolicy(c, old, fresh, this.#timeZone());
      this.#dirty();
    }).catch((err: unknown) => {
      log.error(`limiter ${policy.kind}:${loggedKey(policy.id)}: policy reload failed:`, err instanceof Error ? err.message : String(err));
    }).finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  #timeZone(): string {
    return this.#tz ?? 'UTC';
  }

  /** Closes budget windows that have ended and drops reservations that outlived any request. */
  #roll(c: Counters, policy: EntityPolicy, t: number): void {
    if (closeBudgetWindow(c, policy, t, this.#timeZone(), this.#keepSpend)) this.#dirty();
    // Expired reservations and ended model windows are swept at most once a second: this runs on every admission.
    if (t < this.#nextSweep) return;
    this.#nextSweep = t + 1_000;
    sweepExpired(c, policy, t, this.#timeZone());
  }

  #view(): EntityView {
    return entityView(this.#policy as EntityPolicy, this.#counters as Counters);
  }

  #dirty(): void {
    if (this.#persistTimer) return;
    this.#persistTimer = setTimeout(() => {
      this.#persistTimer = undefined;
      if (this.#policy && this.#counters) {
        void this.ctx.storage.put('state', { policy: this.#policy, counters: this.#counters }, { allowUnconfirmed: true });
      }
    }, PERSIST_EVERY_MS);
  }
}
