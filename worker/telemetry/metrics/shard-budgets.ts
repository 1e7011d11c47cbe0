import type { GatewayEnv } from '../../env.ts';
import { limiterName } from '../../limits/client.ts';
import type { EntityLimiter, EntityView } from '../../limits/entity-limiter.ts';
import { budgetCrossings, softBudgetCrossing } from '../alerts/gate.ts';
import { budgetText, budgetWebhookEvent, softBudgetText, softBudgetWebhookEvent } from '../alerts/messages.ts';
import { alertEnabled, alertSettings, webhookEnabled } from '../alerts/settings.ts';
import { type BudgetCheck, budgetEntityKey } from '../alerts/types.ts';
import { PROVIDER_PREFIX } from '../../limits/router-budgets.ts';
import { bounded, keyHashLabel } from './labels.ts';
import { loggedKey } from '../../auth/jwt-identity.ts';
import { M } from './registry.ts';
import type { ShardAlerts } from './shard-alerts.ts';
import { ShardBudgetEmails } from './shard-budget-emails.ts';
import { budgetEmailSettings, type BudgetEmailSettings } from '../email/budget-settings.ts';
import { userEmail } from '../email/user-email.ts';
import { cachedEmailEvents } from '../email/event-settings-cache.ts';
import { storedEmailEvents } from '../email/stored-events.ts';
import type { ShardSeries } from './shard-series.ts';
import { log } from '../log.ts';

/** An entity's budget is read from its limiter at most this often per shard (a burst is coalesced into one more read after it). */
const BUDGET_SPACING_MS = 250;
/** A team (or user, org) found without a budget (a max budget, or a soft budget something alerts on) is asked again after this, in case one was set. */
const NO_BUDGET_RECHECK_MS = 60_000;
const LIMITER_TIMEOUT_MS = 5_000;
const MAX_TRACKED_ENTITIES = 50_000;

interface BudgetTrack {
  check: BudgetCheck;
  running: boolean;
  again: boolean;
  lastAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the last read found a max budget, or a soft budget something alerts on (undefined before the first read). */
  budgeted: boolean | undefined;
}

/** Where budget alerts go: Slack `budget_alerts`, the webhook, the budget emails (undefined: no email callback). */
interface BudgetSinks {
  slack: boolean;
  webhook: boolean;
  emails: BudgetEmailSettings | undefined;
}

/** Whether a soft budget of `kind` would alert anywhere: Slack, the webhook, or an email (a key's needs `alerting: ["email"]`). */
function softAlerting(kind: BudgetCheck['kind'], { slack, webhook, emails }: BudgetSinks): boolean {
  if (kind !== 'key' && kind !== 'team') return false;
  return slack || webhook || (!!emails && (kind === 'team' || emails.keyAlerts));
}

/**
 * The budget checks of one metrics shard: the entity's limiter is asked for
 * its spend, which feeds the budget gauges, the 80% / 100% alerts and a key's
 * or team's soft budget alert, once each per budget window, and the budget
 * alert emails (shard-budget-emails.ts).
 */
export class ShardBudgets {
  readonly #env: GatewayEnv;
  readonly #series: ShardSeries;
  readonly #alerts: ShardAlerts;
  readonly #emails: ShardBudgetEmails;
  #budgets = new Map<string, BudgetTrack>();

  constructor(env: GatewayEnv, series: ShardSeries, alerts: ShardAlerts) {
    this.#env = env;
    this.#series = series;
    this.#alerts = alerts;
    this.#emails = new ShardBudgetEmails({ outbox: alerts, findEmail: (userId) => userEmail(env, userId), emailEvents: cachedEmailEvents(() => storedEmailEvents(env)) });
  }

  /** Where budget alerts go now: worked out once per budget read and passed down. */
  #sinks(): BudgetSinks {
    const settings = alertSettings(this.#env);
    return { slack: alertEnabled(settings, 'budget_alerts'), webhook: webhookEnabled(settings), emails: budgetEmailSettings(this.#env as Record<string, unknown>) };
  }

  /** Reads the entity's budget now (returned), or once after the read in flight or the spacing; null when nothing to do. */
  queue(check: BudgetCheck): Promise<void> | undefined {
    if (!check || typeof check.id !== 'string' || !['key', 'team', 'org', 'user', 'global'].includes(check.kind)) return undefined;
    if (check.kind === 'key' && check.maxBudget === null) {
      // A key without a max budget: LiteLLM reports its remaining budget as +Inf. Read only for a soft budget that alerts somewhere.
      this.#keyGauges(check.id, check.alias ?? null, null, 0);
      if ((check.softBudget ?? null) === null || !softAlerting('key', this.#sinks())) return undefined;
    }
    const key = budgetEntityKey(check.kind, check.id);
    let track = this.#budgets.get(key);
    if (!track) {
      if (this.#budgets.size >= MAX_TRACKED_ENTITIES) {
        const oldest = this.#budgets.keys().next().value as string;
        this.#budgets.delete(oldest);
      }
      track = { check, running: false, again: false, lastAt: 0, timer: undefined, budgeted: undefined };
      this.#budgets.set(key, track);
    }
    track.check = check;
    const now = Date.now();
    if (check.kind !== 'key' && track.budgeted === false && now - track.lastAt < NO_BUDGET_RECHECK_MS) return undefined;
    if (track.running || track.timer) {
      track.again = true;
      return undefined;
    }
    const wait = track.lastAt + BUDGET_SPACING_MS - now;
    if (wait > 0) {
      const t = track;
      t.timer = setTimeout(() => {
        t.timer = undefined;
        void this.#read(t);
      }, wait);
      return undefined;
    }
    return this.#read(track);
  }

  async #read(track: BudgetTrack): Promise<void> {
    track.running = true;
    track.again = false;
    const { kind, id } = track.check;
    try {
      const view = await this.#describe(kind, id);
      if (view?.exists) {
        const sinks = this.#sinks();
        track.budgeted = view.maxBudget !== null || ((view.softBudget ?? null) !== null && softAlerting(kind, sinks));
        this.#apply(track.check, view, sinks);
      }
    } catch (err) {
      log.error(`metrics shard: reading the budget of ${kind} ${kind === 'key' ? loggedKey(id).slice(0, 12) : id} failed:`, err instanceof Error ? err.message : String(err));
    } finally {
      track.running = false;
      track.lastAt = Date.now();
      if (track.again) void this.queue(track.check);
    }
  }

  async #describe(kind: BudgetCheck['kind'], id: string): Promise<EntityView | undefined> {
    const ns = this.#env.LIMITER;
    if (!ns) return undefined;
    const stub = ns.get(ns.idFromName(limiterName(kind, id))) as unknown as Pick<EntityLimiter, 'describe'>;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const answer = await Promise.race([
        stub.describe(kind, id),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('limiter timeout')), LIMITER_TIMEOUT_MS))),
      ]);
      return answer.ok === true ? answer.view : undefined;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  #keyGauges(hash: string, alias: string | null, maxBudget: number | null, spend: number): void {
    const labels = { hashed_api_key: keyHashLabel(hash), api_key_alias: bounded(alias) };
    this.#series.setGauge(M.remainingKeyBudget, labels, maxBudget === null ? Infinity : maxBudget - spend);
    if (maxBudget !== null) this.#series.setGauge(M.keyMaxBudget, labels, maxBudget);
    else this.#series.dropGauge(M.keyMaxBudget, labels);
  }

  #apply(check: BudgetCheck, view: EntityView, { slack, webhook, emails }: BudgetSinks): void {
    const { spend, maxBudget } = view;
    if (check.kind === 'key') this.#keyGauges(check.id, view.alias, maxBudget, spend);
    if (check.kind === 'team') {
      const labels = { team: bounded(check.id), team_alias: bounded(view.alias) };
      this.#series.setGauge(M.remainingTeamBudget, labels, maxBudget === null ? Infinity : maxBudget - spend);
      if (maxBudget !== null) this.#series.setGauge(M.teamMaxBudget, labels, maxBudget);
      else this.#series.dropGauge(M.teamMaxBudget, labels);
    }
    if (check.kind === 'global' && check.id.startsWith(PROVIDER_PREFIX)) {
      // A provider's budget has a gauge, as in LiteLLM, and no budget alerts.
      if (maxBudget !== null) this.#series.setGauge(M.remainingProviderBudget, { api_provider: bounded(check.id.slice(PROVIDER_PREFIX.length)) }, maxBudget - spend);
      return;
    }
    if ((slack || webhook) && maxBudget !== null) {
      const key = budgetEntityKey(check.kind, check.id);
      const crossed = (this.#alerts.get(key) as number[] | undefined) ?? [];
      const { announce, next } = budgetCrossings(crossed, spend, maxBudget);
      if (next.length !== crossed.length || next.some((t, i) => t !== crossed[i])) this.#alerts.save(key, next);
      for (const threshold of announce) {
        if (slack) this.#alerts.enqueue(budgetText(check.kind, check.id, view.alias, spend, maxBudget, threshold));
        if (webhook) this.#alerts.enqueue(budgetWebhookEvent(check.kind, check.id, view, spend, maxBudget, threshold), 'webhook');
      }
    }
    if ((slack || webhook) && (check.kind === 'key' || check.kind === 'team')) this.#softBudget(check, view, slack, webhook);
    // Not awaited: a recipient's lookup (up to 5 s) holds up neither this shard's ingest nor the next reads.
    if (emails) this.#emails.check(emails, check, view).catch((err) => log.error('metrics shard: queueing a budget email failed:', err instanceof Error ? err.message : String(err)));
  }

  /** LiteLLM's soft budget alert (`soft_budget_crossed`) of a key or team: once per budget window. */
  #softBudget(check: BudgetCheck, view: EntityView, slack: boolean, webhook: boolean): void {
    const softBudget = view.softBudget ?? null;
    const key = `soft_${budgetEntityKey(check.kind, check.id)}`;
    const crossed = this.#alerts.get(key) === true;
    const { announce, next } = softBudgetCrossing(crossed, view.spend, softBudget);
    if (next !== crossed) this.#alerts.save(key, next);
    if (!announce || softBudget === null) return;
    if (slack) this.#alerts.enqueue(softBudgetText(check.kind, check.id, view.alias, view.spend, softBudget, view.maxBudget));
    if (webhook) this.#alerts.enqueue(softBudgetWebhookEvent(check.kind, check.id, view, view.spend, softBudget, view.maxBudget), 'webhook');
  }
}
