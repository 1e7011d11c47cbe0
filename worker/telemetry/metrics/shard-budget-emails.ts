import { loggedKey } from '../../auth/jwt-subject.ts';
import type { EntityView } from '../../limits/entity-view.ts';
import type { EmailGate } from '../alerts/gate.ts';
import type { BudgetCheck } from '../alerts/types.ts';
import { type BudgetEmailKind, type DueEmail, dueBudgetEmails, teamAlertEmails } from '../email/budget-due.ts';
import type { BudgetEmailSettings } from '../email/budget-settings.ts';
import { type EmailEventSettings, EVENT_OF } from '../email/event-settings.ts';
import { maxBudgetEmail, softBudgetEmail, teamSoftBudgetEmail } from '../email/budget-templates.ts';
import { outboxEmail } from '../email/outbox-email.ts';
import type { RenderedEmail } from '../email/templates.ts';
import { log } from '../log.ts';
import { writeCapped } from './capped-state.ts';

/** A user's email, once read, is used this long before it is read again. */
const FOUND_TTL_MS = 5 * 60_000;
/** A user without an email (or whose lookup failed) is asked again after this, not on every budget read. */
const NOT_FOUND_TTL_MS = 60_000;
const MAX_CACHED_USERS = 1_000;

/** Where the shard keeps budget emails and their gates (shard-alerts.ts). */
export interface BudgetEmailOutbox {
  emailGate(key: string): EmailGate | undefined;
  saveEmailGate(key: string, until: number): void;
  /** False when the outbox was full and the email was dropped. */
  enqueue(text: string, kind: 'email'): boolean;
}

export interface BudgetEmailDeps {
  outbox: BudgetEmailOutbox;
  /** The user's `user_email` (email/user-email.ts in the shard): bounded in time, it rejects rather than hang. */
  findEmail: (userId: string) => Promise<string | undefined>;
  /** The email event switches, `/email/event_settings` (email/event-settings-cache.ts in the shard): read only when an email is due. */
  emailEvents: () => Promise<EmailEventSettings>;
}

/**
 * The budget alert emails of one metrics shard (LiteLLM's email callbacks' budget alerts, email/budget-due.ts):
 * after a budget read, the emails due are rendered and put in the shard's outbox, which sends them with retries
 * (shard-alerts.ts); a gate is closed (persisted, so a restart repeats none) only for an email the outbox took.
 * A key's recipient is its user's `user_email`, read from Postgres only when an email is due, bounded in time and
 * remembered a while (a miss or failure for a minute, in memory only); a team's is its own list, in one email.
 * An email whose event is switched off (`Soft Budget Crossed`, `Max Budget Alert`) is not sent and closes no gate.
 */
export class ShardBudgetEmails {
  readonly #outbox: BudgetEmailOutbox;
  readonly #findEmail: (userId: string) => Promise<string | undefined>;
  readonly #emailEvents: () => Promise<EmailEventSettings>;
  #recipients = new Map<string, { email: string | undefined; until: number }>();
  /** Entities whose switches or recipient are being read: one check at a time per entity, so none emails twice. */
  #reading = new Set<string>();

  constructor(deps: BudgetEmailDeps) {
    this.#outbox = deps.outbox;
    this.#findEmail = deps.findEmail;
    this.#emailEvents = deps.emailEvents;
  }

  /** Queues the emails `view`'s spend calls for. A failed lookup is logged; only the outbox's storage can reject. */
  async check(settings: BudgetEmailSettings, check: BudgetCheck, view: EntityView): Promise<void> {
    if (check.kind !== 'key' && check.kind !== 'team') return;
    const entity = `${check.kind}:${check.id}`;
    if (this.#reading.has(entity)) return;
    const read = { kind: check.kind, id: check.id, spend: view.spend, maxBudget: view.maxBudget, softBudget: view.softBudget ?? null, metadata: view.metadata };
    const due = dueBudgetEmails(read, settings.keyAlerts, settings.maxSpendShare, (key) => this.#outbox.emailGate(key), Date.now());
    if (!due.length) return;
    let to: string | string[] | undefined;
    let switchedOn: DueEmail[] = [];
    this.#reading.add(entity);
    try {
      const events = await this.#emailEvents();
      switchedOn = due.filter(({ kind }) => events[EVENT_OF[kind]]);
      if (!switchedOn.length) return;
      to = check.kind === 'team' ? teamAlertEmails(view.metadata) : await this.#keyRecipient(check.id, view.userId);
    } finally {
      this.#reading.delete(entity);
    }
    if (!to) return;
    const facts = { spend: view.spend, softBudget: view.softBudget ?? null, maxBudget: view.maxBudget };
    for (const { kind, gate } of switchedOn) {
      if (this.#outbox.enqueue(outboxEmail(render(kind, to, view.alias, facts, settings)), 'email')) this.#outbox.saveEmailGate(gate, Date.now() + settings.ttlMs);
    }
  }

  async #keyRecipient(hash: string, userId: string | null): Promise<string | undefined> {
    if (!userId) return undefined;
    const now = Date.now();
    const known = this.#recipients.get(userId);
    if (known && now < known.until) return known.email;
    let email: string | undefined;
    try {
      email = await this.#findEmail(userId);
    } catch (err) {
      log.error(`budget email: reading the user of key ${loggedKey(hash).slice(0, 12)} failed:`, err instanceof Error ? err.message : String(err));
    }
    writeCapped(this.#recipients, userId, { email, until: Date.now() + (email ? FOUND_TTL_MS : NOT_FOUND_TTL_MS) }, MAX_CACHED_USERS);
    return email;
  }
}

function render(kind: BudgetEmailKind, to: string | string[], alias: string | null, facts: { spend: number; softBudget: number | null; maxBudget: number | null }, settings: BudgetEmailSettings): RenderedEmail {
  if (kind === 'team_soft_budget') return teamSoftBudgetEmail(to as string[], alias, { ...facts, softBudget: facts.softBudget as number }, settings.email);
  const recipient = to as string;
  if (kind === 'max_budget_alert') return maxBudgetEmail(recipient, { spend: facts.spend, maxBudget: facts.maxBudget as number }, settings.maxSpendShare, settings.email);
  return softBudgetEmail(recipient, { ...facts, softBudget: facts.softBudget as number }, settings.email);
}
