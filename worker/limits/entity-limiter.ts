import { DurableObject } from 'cloudflare:workers';
import { openDatabase } from '../db/client.ts';
import type { GatewayEnv } from '../env.ts';
import { gatewayState } from '../state.ts';
import { type Bucket, msUntil, refill } from './buckets.ts';
import type { EntityKind } from './client.ts';
import { now } from './clock.ts';
import { type EntityPolicy, loadPolicy, missingPolicy } from './policy.ts';
import { budgetExceeded, KIND_LABEL, rateLimited, type Refusal } from './refusals.ts';
import { budgetWindowStart, nextBudgetReset } from './windows.ts';

/** A reservation expires after this, so a request that crashed cannot hold budget forever (LiteLLM's timeout is 600 s). */
export const RESERVATION_TTL_MS = 15 * 60_000;
/** Counters are written to storage at most this often: the loss window on a crash (spend itself is also in Postgres). */
export const PERSIST_EVERY_MS = 100;
/** A policy older than this is re-read in the background, in case a change reached Postgres without reaching us. */
const POLICY_REFRESH_MS = 60_000;

interface Reservation { cost: number; tokens: number; model: string; expiresAt: number; requests?: number }

interface Counters {
  windowSpend: number;
  windowResetAt: number | null;
  requests?: Bucket;
  tokens?: Bucket;
  modelRequests: Record<string, Bucket>;
  modelTokens: Record<string, Bucket>;
  modelSpend: Record<string, { spend: number; resetAt: number | null }>;
  reservations: Record<string, Reservation>;
}

export interface AdmitRequest {
  kind: EntityKind;
  id: string;
  requestId: string;
  model: string;
  estCost: number;
  estTokens: number;
  /** A lease this isolate is done with: what it used of it. */
  returning?: LeaseReturn;
}

/**
 * A slice of an entity's limits handed to one isolate, spent there without
 * asking the object, for entities hotter than one object should serve
 * request by request. Its size is at most a tenth of what is left of every
 * limit, and it lives LEASE_MS: that bounds both the overshoot and how late a
 * block is seen (see README, "Limits").
 */
export interface LeaseGrant {
  leaseId: string;
  requests: number;
  tokens: number;
  cost: number;
  expiresAt: number;
}

export interface LeaseReturn {
  leaseId: string;
  requests: number;
  tokens: number;
  cost: number;
}

/** An entity is hot above this many admissions a second; only then does it hand out leases. */
export const HOT_RPS = 50;
export const LEASE_MS = 1_000;
/** Requests per lease of the proxy-wide cap (it has no request limit; only its budget share bounds a lease). */
const GLOBAL_LEASE_REQUESTS = 10_000;
/** A lease never takes more than this share of what is left of a limit. */
const LEASE_SHARE = 0.1;

/** What the gateway learns about an admitted entity. */
export interface EntityView {
  kind: EntityKind;
  id: string;
  exists: boolean;
  blocked: boolean;
  /** Epoch ms (keys). */
  expires: number | null;
  alias: string | null;
  models: string[];
  teamId: string | null;
  organizationId: string | null;
  userId: string | null;
  keyName: string | null;
  metadata: Record<string, unknown>;
  tags: string[];
  allowedCacheControls: string[];
  spend: number;
  maxBudget: number | null;
  /** Remaining requests/tokens this minute and the limits, when the entity has them. */
  remaining: { requests?: number; tokens?: number; limitRequests?: number; limitTokens?: number };
}

export type AdmitResult =
  | { ok: true; view: EntityView; lease?: LeaseGrant }
  | { ok: false; refusal: Refusal; view?: EntityView }
  | { ok: 'redirect'; token: string; until: number };

export interface Settlement {
  kind: EntityKind;
  id: string;
  requestId: string;
  model: string;
  cost: number;
  tokens: number;
}

/**
 * One limited entity (a key, team, organization, user or end user): its
 * policy snapshot and current-window counters, answering admission in one
 * step. Strictly consistent because every request for the entity passes
 * through this one object; counters live in memory and are persisted
 * coalesced (SQLite-backed storage), never with a write awaited per request.
 */
export class EntityLimiter extends DurableObject<GatewayEnv> {
  #policy: EntityPolicy | undefined;
  #policyAt = 0;
  #counters: Counters | undefined;
  #persistTimer: ReturnType<typeof setTimeout> | undefined;
  #reloading: Promise<void> | undefined;

  /** Admission: blocked or expired, budget (with a reservation), RPM/TPM buckets, parallel requests, per-model limits. */
  async admit(req: AdmitRequest): Promise<AdmitResult> {
    await this.#ensure(req.kind, req.id);
    const policy = this.#policy as EntityPolicy;
    const c = this.#counters as Counters;
    const t = now();
    if (t - this.#policyAt > POLICY_REFRESH_MS) this.ctx.waitUntil(this.#reload());
    if (policy.redirect && policy.redirect.until > t) return { ok: 'redirect', token: policy.redirect.token, until: policy.redirect.until };
    this.#roll(c, policy, t);
    if (req.returning) this.#takeBack(c, policy, req.returning);
    this.#countRate(t);
    const refusal = this.#check(policy, c, req, t);
    if (refusal) return { ok: false, refusal, view: this.#view() };
    this.#reserve(policy, c, req, t);
    const lease = this.#lease(policy, c, req, t);
    return lease ? { ok: true, view: this.#view(), lease } : { ok: true, view: this.#view() };
  }

  /** A lease returned on its own (it expired with nothing more to admit). */
  async returnLease(kind: EntityKind, id: string, returning: LeaseReturn): Promise<void> {
    await this.#ensure(kind, id);
    this.#takeBack(this.#counters as Counters, this.#policy as EntityPolicy, returning);
  }

  #second = 0;
  #inSecond = 0;
  #rate = 0;

  #countRate(t: number): void {
    const second = Math.floor(t / 1000);
    if (second !== this.#second) {
      this.#rate = second === this.#second + 1 ? this.#inSecond : 0;
      this.#second = second;
      this.#inSecond = 0;
    }
    this.#inSecond++;
  }

  /** Leases go only to hot entities whose limits are loose enough that a tenth of what is left covers a lease. */
  #lease(policy: EntityPolicy, c: Counters, req: AdmitRequest, t: number): LeaseGrant | undefined {
    const rate = Math.max(this.#rate, this.#inSecond);
    // The proxy-wide cap is one object for the whole deployment: it always leases, so it never sees every request.
    if (rate < HOT_RPS && policy.kind !== 'global') return undefined;
    if (policy.maxParallel !== null || Object.keys(policy.modelRpm).length || Object.keys(policy.modelTpm).length || Object.keys(policy.modelMaxBudget).length) return undefined;
    // Enough for this isolate's share of a second of traffic; the object sees at most a few calls a second per isolate.
    let requests = policy.kind === 'global' ? GLOBAL_LEASE_REQUESTS : Math.ceil((rate * LEASE_MS) / 1000 / 2);
    let tokens = requests * Math.max(1, req.estTokens);
    let cost = requests * req.estCost;
    if (policy.rpmLimit !== null) requests = Math.min(requests, Math.floor((c.requests?.level ?? 0) * LEASE_SHARE));
    if (policy.tpmLimit !== null) tokens = Math.min(tokens, Math.floor((c.tokens?.level ?? 0) * LEASE_SHARE));
    if (policy.maxBudget !== null) {
      const held = Object.values(c.reservations).reduce((sum, r) => sum + r.cost, 0);
      cost = Math.min(cost, (policy.maxBudget - c.windowSpend - held) * LEASE_SHARE);
    }
    if (requests < 2 || tokens < req.estTokens || cost < req.estCost) return undefined;
    const leaseId = `lease-${crypto.randomUUID()}`;
    if (policy.rpmLimit !== null && c.requests) c.requests.level -= requests;
    if (policy.tpmLimit !== null && c.tokens) c.tokens.level -= tokens;
    c.reservations[leaseId] = { cost, tokens, requests, model: req.model, expiresAt: t + LEASE_MS * 3 };
    this.#dirty();
    return { leaseId, requests, tokens, cost, expiresAt: t + LEASE_MS };
  }

  /** What an isolate used of a lease becomes spend; what it did not use goes back to the buckets. */
  #takeBack(c: Counters, policy: EntityPolicy, back: LeaseReturn): void {
    const held = c.reservations[back.leaseId];
    delete c.reservations[back.leaseId];
    c.windowSpend += Math.max(0, back.cost);
    if (held) {
      if (policy.tpmLimit !== null && c.tokens) c.tokens.level = Math.min(policy.tpmLimit, c.tokens.level + held.tokens - back.tokens);
      if (policy.rpmLimit !== null && c.requests) c.requests.level = Math.min(policy.rpmLimit, c.requests.level + (held.requests ?? 0) - back.requests);
    } else if (policy.tpmLimit !== null && c.tokens) {
      c.tokens.level -= back.tokens;
    }
    this.#dirty();
  }

  /** The entity as the admin API or `/v1/models` needs it, without admitting anything. */
  async describe(kind: EntityKind, id: string): Promise<AdmitResult> {
    await this.#ensure(kind, id);
    const policy = this.#policy as EntityPolicy;
    if (policy.redirect && policy.redirect.until > now()) return { ok: 'redirect', token: policy.redirect.token, until: policy.redirect.until };
    return { ok: true, view: this.#view() };
  }

  /** After the response: the actual cost and tokens replace the reservation. */
  async settle(s: Settlement): Promise<void> {
    await this.#ensure(s.kind, s.id);
    const c = this.#counters as Counters;
    const policy = this.#policy as EntityPolicy;
    const t = now();
    this.#roll(c, policy, t);
    const r = c.reservations[s.requestId];
    delete c.reservations[s.requestId];
    c.windowSpend += Math.max(0, s.cost);
    const ms = (c.modelSpend[s.model] ??= { spend: 0, resetAt: this.#modelWindowEnd(policy, s.model, t) });
    ms.spend += Math.max(0, s.cost);
    // Tokens were taken from the buckets at the estimate; put back (or take) the difference.
    const delta = (r?.tokens ?? 0) - Math.max(0, s.tokens);
    if (policy.tpmLimit && c.tokens) c.tokens.level = Math.min(policy.tpmLimit, c.tokens.level + delta);
    const modelTpm = policy.modelTpm[s.model];
    const mt = c.modelTokens[s.model];
    if (modelTpm && mt) mt.level = Math.min(modelTpm, mt.level + delta);
    this.#dirty();
  }

  /** Undoes an admission another entity refused: the request never ran. */
  async release(kind: EntityKind, id: string, requestId: string): Promise<void> {
    await this.#ensure(kind, id);
    const c = this.#counters as Counters;
    const policy = this.#policy as EntityPolicy;
    const r = c.reservations[requestId];
    if (!r) return;
    delete c.reservations[requestId];
    if (policy.rpmLimit && c.requests) c.requests.level = Math.min(policy.rpmLimit, c.requests.level + 1);
    if (policy.tpmLimit && c.tokens) c.tokens.level = Math.min(policy.tpmLimit, c.tokens.level + r.tokens);
    const mr = c.modelRequests[r.model];
    const modelRpm = policy.modelRpm[r.model];
    if (mr && modelRpm) mr.level = Math.min(modelRpm, mr.level + 1);
    const mt = c.modelTokens[r.model];
    const modelTpm = policy.modelTpm[r.model];
    if (mt && modelTpm) mt.level = Math.min(modelTpm, mt.level + r.tokens);
    this.#dirty();
  }

  /** Re-reads the policy from Postgres (the admin API calls this after each change). */
  async reload(kind?: EntityKind, id?: string): Promise<EntityView | undefined> {
    if (kind && id) await this.#ensure(kind, id);
    if (!this.#policy) return undefined;
    await this.#reload();
    return this.#view();
  }

  /**
   * Zeroes the current window's spend (LiteLLM's reset_spend). The budget
   * reset job passes the end of the window it closes: an object that rolled
   * into the next window by itself already did, and keeps what it has
   * counted since.
   */
  async resetSpend(closingWindowEnd?: number): Promise<void> {
    if (!this.#counters) await this.#restore();
    if (!this.#counters) return;
    if (closingWindowEnd !== undefined && this.#counters.windowResetAt !== null && this.#counters.windowResetAt > closingWindowEnd) return;
    this.#counters.windowSpend = 0;
    this.#counters.modelSpend = {};
    this.#dirty();
  }

  async #ensure(kind: EntityKind, id: string): Promise<void> {
    if (this.#policy && this.#counters) return;
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.#policy && this.#counters) return;
      const stored = await this.ctx.storage.get<{ policy: EntityPolicy; counters: Counters }>('state');
      this.#tz = (await gatewayState(this.env)).config.litellm_settings.timezone ?? 'UTC';
      this.#policy = await this.#read(kind, id).catch((err: unknown) => {
        // Postgres unreachable: a known entity keeps its last policy; an unknown one cannot be admitted.
        if (stored) return stored.policy;
        throw err;
      });
      this.#policyAt = now();
      this.#counters = stored?.counters ?? this.#fresh(this.#policy);
    });
  }

  async #restore(): Promise<void> {
    const stored = await this.ctx.storage.get<{ policy: EntityPolicy; counters: Counters }>('state');
    if (stored) {
      this.#policy ??= stored.policy;
      this.#counters ??= stored.counters;
    }
  }

  async #read(kind: EntityKind, id: string): Promise<EntityPolicy> {
    if (kind === 'global') return this.#globalPolicy(id);
    const database = openDatabase(this.env);
    try {
      const policy = await loadPolicy(database.pool, kind, id, now());
      return kind === 'end_user' ? await this.#endUserDefaults(policy) : policy;
    } finally {
      // Closed before answering: an object's socket must not outlive the call that opened it.
      await database.close();
    }
  }

  #reload(): Promise<void> {
    const policy = this.#policy;
    if (!policy) return Promise.resolve();
    this.#reloading ??= this.#read(policy.kind, policy.id).then((fresh) => {
      const old = this.#policy;
      this.#policy = fresh;
      this.#policyAt = now();
      const c = this.#counters;
      // A new budget period (or a reset through the admin API) starts a new window.
      if (c && (fresh.budgetDuration !== old?.budgetDuration || (fresh.budgetResetAt ?? 0) > (c.windowResetAt ?? 0))) {
        c.windowResetAt = fresh.budgetResetAt ?? this.#windowEnd(fresh, now());
        if (fresh.spend < c.windowSpend && fresh.budgetResetAt !== old?.budgetResetAt) c.windowSpend = fresh.spend;
      } else if (c && fresh.spend > c.windowSpend && (fresh.budgetResetAt ?? null) === c.windowResetAt) {
        // Postgres (written from the spend logs) knows of spend in this same window that this object
        // missed: a lease whose isolate died before returning it.
        c.windowSpend = fresh.spend;
      }
      this.#dirty();
    }).catch((err: unknown) => {
      console.error(`limiter ${policy.kind}:${policy.id}: policy reload failed:`, err instanceof Error ? err.message : String(err));
    }).finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  /**
   * The proxy-wide cap (`general_settings.max_budget` / `budget_duration`, or
   * LiteLLM's `litellm_settings` pair). Its spend so far is what the spend
   * logs hold for the window open now; from then on, isolates spend it
   * through leases (see HOT_RPS: the global object always leases).
   */
  async #globalPolicy(id: string): Promise<EntityPolicy> {
    const { config } = await gatewayState(this.env);
    const general = config.general_settings;
    const litellm = config.litellm_settings;
    const maxBudget = general.max_budget ?? litellm.max_budget ?? null;
    const budgetDuration = general.budget_duration ?? litellm.budget_duration ?? null;
    const t = now();
    const start = budgetDuration ? budgetWindowStart(budgetDuration, new Date(t), this.#timeZone()) : undefined;
    const end = budgetDuration ? nextBudgetReset(budgetDuration, new Date(t), this.#timeZone()) : undefined;
    const database = openDatabase(this.env);
    try {
      const { rows } = await database.pool.query<{ spend: number | string | null }>(
        'SELECT COALESCE(SUM(spend), 0) AS spend FROM "LiteLLM_SpendLogs" WHERE "startTime" >= $1', [start ?? new Date(0)]);
      return { ...missingPolicy('global', id), exists: true, maxBudget, budgetDuration, budgetResetAt: end?.getTime() ?? null, spend: Number(rows[0]?.spend ?? 0) };
    } finally {
      await database.close();
    }
  }

  /** An end user without a budget of its own gets `litellm_settings.max_end_user_budget`, as in LiteLLM. */
  async #endUserDefaults(policy: EntityPolicy): Promise<EntityPolicy> {
    if (policy.maxBudget !== null) return policy;
    const { config } = await gatewayState(this.env);
    const fallback = config.litellm_settings.max_end_user_budget;
    return fallback === undefined ? policy : { ...policy, maxBudget: fallback };
  }

  #fresh(policy: EntityPolicy): Counters {
    const t = now();
    const stillOpen = policy.budgetResetAt === null || policy.budgetResetAt > t;
    return {
      windowSpend: stillOpen ? policy.spend : 0,
      windowResetAt: stillOpen && policy.budgetResetAt !== null ? policy.budgetResetAt : this.#windowEnd(policy, t),
      modelRequests: {}, modelTokens: {}, modelSpend: {}, reservations: {},
    };
  }

  #windowEnd(policy: EntityPolicy, t: number): number | null {
    if (!policy.budgetDuration) return null;
    return nextBudgetReset(policy.budgetDuration, new Date(t), this.#timeZone())?.getTime() ?? null;
  }

  #modelWindowEnd(policy: EntityPolicy, model: string, t: number): number | null {
    const period = policy.modelMaxBudget[model]?.time_period;
    return period ? nextBudgetReset(period, new Date(t), this.#timeZone())?.getTime() ?? null : null;
  }

  #tz: string | undefined;
  #timeZone(): string {
    return this.#tz ?? 'UTC';
  }

  /** Closes budget windows that have ended and drops reservations that outlived any request. */
  #roll(c: Counters, policy: EntityPolicy, t: number): void {
    if (c.windowResetAt !== null && t >= c.windowResetAt) {
      c.windowSpend = 0;
      c.windowResetAt = this.#windowEnd(policy, t);
      this.#dirty();
    }
    // Expired reservations and ended model windows are swept at most once a second: this runs on every admission.
    if (t < this.#nextSweep) return;
    this.#nextSweep = t + 1_000;
    for (const [model, s] of Object.entries(c.modelSpend)) {
      if (s.resetAt !== null && t >= s.resetAt) c.modelSpend[model] = { spend: 0, resetAt: this.#modelWindowEnd(policy, model, t) };
    }
    for (const [id, r] of Object.entries(c.reservations)) {
      if (r.expiresAt <= t) delete c.reservations[id];
    }
  }

  #nextSweep = 0;

  #check(policy: EntityPolicy, c: Counters, req: AdmitRequest, t: number): Refusal | undefined {
    const label = policy.kind === 'key' ? policy.alias ?? policy.keyName ?? policy.id : policy.id;
    if (!policy.exists && policy.kind === 'key') {
      return { status: 401, type: 'token_not_found_in_db', param: 'key', message: 'Authentication Error, Invalid proxy server token passed. Unable to find token in cache or `LiteLLM_VerificationTokenTable`' };
    }
    if (policy.blocked) {
      const what = policy.kind === 'key' ? 'Key is blocked. Update via `/key/unblock` if you\'re admin.' : `${KIND_LABEL[policy.kind]}=${policy.id} is blocked.`;
      return { status: 403, type: 'auth_error', param: policy.kind, message: `Authentication Error - ${what}` };
    }
    if (policy.expires !== null && policy.expires < t) {
      return { status: 401, type: 'expired_key', param: 'key', message: `Authentication Error - Expired Key. Key Expiry time ${new Date(policy.expires).toISOString()} and current time ${new Date(t).toISOString()}` };
    }
    const reserved = Object.values(c.reservations);
    const requestsInFlight = reserved.filter((r) => r.requests === undefined).length;
    if (policy.maxBudget !== null) {
      const held = reserved.reduce((sum, r) => sum + r.cost, 0);
      // Admit while the budget has room for this request's estimate; with nothing in flight, admit while any budget is left.
      const fits = c.windowSpend + held + req.estCost <= policy.maxBudget || (reserved.length === 0 && c.windowSpend < policy.maxBudget);
      if (!fits) return budgetExceeded(policy.kind, label, c.windowSpend, policy.maxBudget, c.windowResetAt);
    }
    const modelBudget = policy.modelMaxBudget[req.model];
    if (modelBudget) {
      const spent = c.modelSpend[req.model]?.spend ?? 0;
      const held = reserved.filter((r) => r.model === req.model).reduce((sum, r) => sum + r.cost, 0);
      const anyInFlight = reserved.some((r) => r.model === req.model);
      if (!(spent + held + req.estCost <= modelBudget.budget_limit || (!anyInFlight && spent < modelBudget.budget_limit))) {
        return budgetExceeded(policy.kind, label, spent, modelBudget.budget_limit, c.modelSpend[req.model]?.resetAt ?? null, req.model);
      }
    }
    const descriptor = policy.kind === 'key' ? 'api_key' : policy.kind;
    if (policy.maxParallel !== null && requestsInFlight >= policy.maxParallel) {
      return rateLimited(descriptor, policy.id, 'max_parallel_requests', policy.maxParallel, 1000, t);
    }
    if (policy.rpmLimit !== null) {
      c.requests = refill(c.requests, policy.rpmLimit, t);
      if (c.requests.level < 1) return rateLimited(descriptor, policy.id, 'requests', policy.rpmLimit, msUntil(c.requests, policy.rpmLimit, 1), t);
    }
    if (policy.tpmLimit !== null) {
      c.tokens = refill(c.tokens, policy.tpmLimit, t);
      if (c.tokens.level <= 0) return rateLimited(descriptor, policy.id, 'tokens', policy.tpmLimit, msUntil(c.tokens, policy.tpmLimit, 1), t);
    }
    const modelRpm = policy.modelRpm[req.model];
    if (modelRpm) {
      const b = (c.modelRequests[req.model] = refill(c.modelRequests[req.model], modelRpm, t));
      if (b.level < 1) return rateLimited('model_per_key', `${policy.id}:${req.model}`, 'requests', modelRpm, msUntil(b, modelRpm, 1), t);
    }
    const modelTpm = policy.modelTpm[req.model];
    if (modelTpm) {
      const b = (c.modelTokens[req.model] = refill(c.modelTokens[req.model], modelTpm, t));
      if (b.level <= 0) return rateLimited('model_per_key', `${policy.id}:${req.model}`, 'tokens', modelTpm, msUntil(b, modelTpm, 1), t);
    }
    return undefined;
  }

  #reserve(policy: EntityPolicy, c: Counters, req: AdmitRequest, t: number): void {
    // Anything taken from a bucket is reserved too, so that release() can give it back when another entity refuses.
    const needsReservation = policy.maxBudget !== null || policy.maxParallel !== null || policy.tpmLimit !== null || policy.rpmLimit !== null
      || req.model in policy.modelMaxBudget || req.model in policy.modelTpm || req.model in policy.modelRpm;
    if (policy.rpmLimit !== null && c.requests) c.requests.level -= 1;
    if (policy.tpmLimit !== null && c.tokens) c.tokens.level -= req.estTokens;
    const mr = c.modelRequests[req.model];
    if (mr) mr.level -= 1;
    const mt = c.modelTokens[req.model];
    if (mt) mt.level -= req.estTokens;
    if (needsReservation) c.reservations[req.requestId] = { cost: req.estCost, tokens: req.estTokens, model: req.model, expiresAt: t + RESERVATION_TTL_MS };
    this.#dirty();
  }

  #view(): EntityView {
    const p = this.#policy as EntityPolicy;
    const c = this.#counters as Counters;
    const remaining: EntityView['remaining'] = {};
    if (p.rpmLimit !== null) {
      remaining.limitRequests = p.rpmLimit;
      remaining.requests = Math.max(0, Math.floor(c.requests?.level ?? p.rpmLimit));
    }
    if (p.tpmLimit !== null) {
      remaining.limitTokens = p.tpmLimit;
      remaining.tokens = Math.max(0, Math.floor(c.tokens?.level ?? p.tpmLimit));
    }
    return {
      kind: p.kind, id: p.id, exists: p.exists, blocked: p.blocked, expires: p.expires, alias: p.alias, models: p.models, teamId: p.teamId,
      organizationId: p.organizationId, userId: p.userId, keyName: p.keyName, metadata: p.metadata, tags: p.tags, allowedCacheControls: p.allowedCacheControls ?? [],
      spend: c.windowSpend, maxBudget: p.maxBudget, remaining,
    };
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
