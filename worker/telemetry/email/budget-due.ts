/**
 * Which budget alert emails an entity's budget read calls for (LiteLLM's email `budget_alerts`): pure, over the
 * entity's spend and budgets and the dedupe state the metrics shard keeps per email kind and entity.
 *  - a key's soft budget crossed (`spend >= soft_budget`), to its user, with `alerting: ["email"]`;
 *  - a key's spend at EMAIL_BUDGET_ALERT_MAX_SPEND_ALERT_PERCENTAGE of its max budget while still under it, to its
 *    user, with `alerting: ["email"]`;
 *  - a team's soft budget crossed, to its `metadata.soft_budget_alerting_emails` (a list, or a comma-separated
 *    string), with or without `alerting`, and never without that list.
 * Each at most once per EMAIL_BUDGET_ALERT_TTL per entity: again after it while the condition still holds.
 */
import { emailDue, type EmailGate, softBudgetReached } from '../alerts/gate.ts';

export type BudgetEmailKind = 'soft_budget' | 'max_budget_alert' | 'team_soft_budget';

export interface BudgetRead {
  kind: 'key' | 'team' | 'org' | 'user' | 'global';
  id: string;
  spend: number;
  maxBudget: number | null;
  softBudget: number | null;
  metadata: Record<string, unknown>;
}

export interface DueEmail {
  kind: BudgetEmailKind;
  /** The dedupe state's key in the shard's alert state. */
  gate: string;
}

export const emailGateKey = (kind: BudgetEmailKind, entity: string, id: string) => `email:${kind}:${entity}:${id}`;

/** A team's soft budget email goes to at most this many of its addresses (the first ones): the list is set by team admins. */
export const MAX_TEAM_ALERT_EMAILS = 50;

/** One address and nothing else: a single `@` with text either side, no whitespace, commas or angle brackets (no display name, no second address), RFC 5321's 254 characters at most. */
const ONE_ADDRESS = /^[^@\s,<>]+@[^@\s,<>]+$/;

/**
 * `metadata.soft_budget_alerting_emails`, as LiteLLM reads it (a list, or a comma-separated string), each once; only
 * entries that are one plain address are kept, the first MAX_TEAM_ALERT_EMAILS of them, so a team admin's list
 * cannot smuggle extra recipients or headers into the provider's request.
 */
export function teamAlertEmails(metadata: Record<string, unknown>): string[] {
  const raw = metadata.soft_budget_alerting_emails;
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [];
  const addresses = list.filter((e): e is string => typeof e === 'string').map((e) => e.trim()).filter((e) => e.length <= 254 && ONE_ADDRESS.test(e));
  return [...new Set(addresses)].slice(0, MAX_TEAM_ALERT_EMAILS);
}

/** The emails due now for `read`; `gate` gives the dedupe state of a gate key. */
export function dueBudgetEmails(read: BudgetRead, keyAlerts: boolean, maxSpendShare: number, gate: (key: string) => EmailGate | undefined, now: number): DueEmail[] {
  const { kind, id, spend, maxBudget, softBudget } = read;
  const due: DueEmail[] = [];
  const push = (emailKind: BudgetEmailKind) => {
    const key = emailGateKey(emailKind, kind, id);
    if (emailDue(gate(key), now)) due.push({ kind: emailKind, gate: key });
  };
  const softCrossed = softBudgetReached(spend, softBudget);
  if (kind === 'key' && keyAlerts) {
    if (softCrossed) push('soft_budget');
    if (maxBudget !== null && spend > 0 && spend >= maxBudget * maxSpendShare && spend < maxBudget) push('max_budget_alert');
  }
  if (kind === 'team' && softCrossed && teamAlertEmails(read.metadata).length > 0) push('team_soft_budget');
  return due;
}
