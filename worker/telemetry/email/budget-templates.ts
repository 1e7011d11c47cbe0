/**
 * The budget alert emails of LiteLLM's email callbacks (its `SOFT_BUDGET_ALERT_EMAIL_TEMPLATE`,
 * `TEAM_SOFT_BUDGET_ALERT_EMAIL_TEMPLATE` and `MAX_BUDGET_ALERT_EMAIL_TEMPLATE`): the same facts and subjects
 * (`LiteLLM: {event_message}`, which EMAIL_SUBJECT_* does not change for these, as in LiteLLM), in Tollgate's page.
 * Every value is HTML-escaped: a team alias and an address come from API callers.
 */
import { escapeHtml } from '../../lib/html.ts';
import type { EmailSettings } from './settings.ts';
import { page, type RenderedEmail, rows } from './templates.ts';

export interface BudgetEmailFacts {
  spend: number;
  softBudget: number | null;
  maxBudget: number | null;
}

/**
 * An amount as LiteLLM's f-strings print a Python float: `$10.0`, `$0.25` (spend's float noise past the 6th
 * decimal dropped first).
 */
export function dollars(n: number): string {
  const rounded = Math.round(n * 1e6) / 1e6;
  return `$${Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded)}`;
}

const NOTE_SOFT = 'Note: your API requests will continue to work, but you should monitor your usage closely. If you reach your maximum budget, requests will be rejected.';

function dashboard(settings: EmailSettings): string {
  return `<p>You can view your usage and manage your budget in the <a href="${escapeHtml(settings.baseUrl)}">LiteLLM Dashboard</a>.</p>`;
}

/** LiteLLM's subject of a soft budget email: `LiteLLM: Soft Budget Crossed - Total Soft Budget: $X`. */
export const softBudgetSubject = (softBudget: number) => `LiteLLM: Soft Budget Crossed - Total Soft Budget: ${dollars(softBudget)}`;

function softBody(greeting: string, what: string, facts: BudgetEmailFacts, settings: EmailSettings): string {
  const soft = facts.softBudget === null ? 'N/A' : dollars(facts.softBudget);
  return `<p>Hi ${escapeHtml(greeting)},</p>
<p>${what} has crossed its <strong>soft budget limit of ${soft}</strong>.</p>
<div style="background:#fff7ed;border:1px solid #fed7aa;border-radius:6px;padding:14px 16px">
${rows([['Current Spend', dollars(facts.spend)], ['Soft Budget', soft], ...(facts.maxBudget === null ? [] : [['Maximum Budget', dollars(facts.maxBudget)] as [string, string]])])}
</div>
<p style="color:#dc2626;font-weight:500">${NOTE_SOFT}</p>
${dashboard(settings)}`;
}

/** A key's (LiteLLM: the key's user's) soft budget crossed, to that user's email. */
export function softBudgetEmail(recipient: string, facts: BudgetEmailFacts & { softBudget: number }, settings: EmailSettings): RenderedEmail {
  const body = softBody(recipient, 'Your LiteLLM API key', facts, settings);
  return { to: recipient, subject: softBudgetSubject(facts.softBudget), html: page('Soft Budget Crossed', body, settings) };
}

/**
 * A team's soft budget crossed: one email to all of its `metadata.soft_budget_alerting_emails` (as LiteLLM sends
 * it), greeting the team by alias ("Team" without one).
 */
export function teamSoftBudgetEmail(recipients: string[], teamAlias: string | null, facts: BudgetEmailFacts & { softBudget: number }, settings: EmailSettings): RenderedEmail {
  const body = softBody(`${teamAlias || 'Team'} team member`, 'Your LiteLLM team', facts, settings);
  return { to: recipients, subject: softBudgetSubject(facts.softBudget), html: page('Soft Budget Crossed', body, settings) };
}

/** A key's spend reached `share` (EMAIL_BUDGET_ALERT_MAX_SPEND_ALERT_PERCENTAGE) of its max budget, to its user's email. */
export function maxBudgetEmail(recipient: string, facts: { spend: number; maxBudget: number }, share: number, settings: EmailSettings): RenderedEmail {
  const percentage = Math.floor(share * 100);
  const body = `<p>Hi ${escapeHtml(recipient)},</p>
<p>Your LiteLLM API key has reached <strong>${percentage}% of its maximum budget</strong>.</p>
<div style="background:#fef2f2;border:1px solid #fecaca;border-radius:6px;padding:14px 16px">
${rows([['Current Spend', dollars(facts.spend)], ['Maximum Budget', dollars(facts.maxBudget)], ['Alert Threshold', `$${(facts.maxBudget * share).toFixed(2)} (${percentage}%)`]])}
</div>
<p style="color:#dc2626;font-weight:500">Warning: you are approaching your maximum budget limit. Once you reach your maximum budget of ${dollars(facts.maxBudget)}, all API requests will be rejected.</p>
${dashboard(settings)}`;
  return { to: recipient, subject: `LiteLLM: Max Budget Alert - ${percentage}% of Maximum Budget Reached`, html: page('Max Budget Alert', body, settings) };
}
