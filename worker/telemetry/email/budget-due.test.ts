import { describe, expect, it } from 'vitest';
import { softBudgetCrossing, softBudgetReached } from '../alerts/gate.ts';
import { softBudgetText, softBudgetWebhookEvent } from '../alerts/messages.ts';
import { type BudgetRead, dueBudgetEmails, emailGateKey, MAX_TEAM_ALERT_EMAILS, teamAlertEmails } from './budget-due.ts';

const key = (over: Partial<BudgetRead>): BudgetRead => ({ kind: 'key', id: 'h'.repeat(64), spend: 0, maxBudget: null, softBudget: null, metadata: {}, ...over });
const none = () => undefined;

describe('budget alert emails due (LiteLLM email budget_alerts)', () => {
  it('emails a key\'s soft budget once spend reaches it, only with alerting: ["email"]', () => {
    expect(dueBudgetEmails(key({ spend: 0.9, softBudget: 1 }), true, 0.8, none, 0)).toEqual([]);
    expect(dueBudgetEmails(key({ spend: 1, softBudget: 1 }), true, 0.8, none, 0)).toEqual([{ kind: 'soft_budget', gate: emailGateKey('soft_budget', 'key', 'h'.repeat(64)) }]);
    expect(dueBudgetEmails(key({ spend: 1, softBudget: 1 }), false, 0.8, none, 0)).toEqual([]);
  });

  it('emails a key\'s max budget alert from the share up to, not at, the max budget', () => {
    const kinds = (spend: number) => dueBudgetEmails(key({ spend, maxBudget: 10 }), true, 0.8, none, 0).map((d) => d.kind);
    expect(kinds(7.9)).toEqual([]);
    expect(kinds(8)).toEqual(['max_budget_alert']);
    expect(kinds(9.99)).toEqual(['max_budget_alert']);
    expect(kinds(10)).toEqual([]);
    expect(dueBudgetEmails(key({ spend: 5, maxBudget: 10 }), true, 0.5, none, 0).map((d) => d.kind)).toEqual(['max_budget_alert']);
  });

  it('sends each kind at most once per TTL per entity, and again after it while the condition holds', () => {
    const gates = new Map<string, { until: number }>();
    const read = key({ spend: 9, softBudget: 1, maxBudget: 10 });
    const first = dueBudgetEmails(read, true, 0.8, (k) => gates.get(k), 1_000);
    expect(first.map((d) => d.kind)).toEqual(['soft_budget', 'max_budget_alert']);
    for (const d of first) gates.set(d.gate, { until: 1_000 + 86_400_000 });
    expect(dueBudgetEmails(read, true, 0.8, (k) => gates.get(k), 86_400_000)).toEqual([]);
    expect(dueBudgetEmails(read, true, 0.8, (k) => gates.get(k), 86_401_000)).toHaveLength(2);
    // Another key has its own state.
    expect(dueBudgetEmails({ ...read, id: 'other' }, true, 0.8, (k) => gates.get(k), 2_000)).toHaveLength(2);
  });

  it('emails a team\'s soft budget to its soft_budget_alerting_emails only, with or without alerting: ["email"]', () => {
    const team = (metadata: Record<string, unknown>): BudgetRead => ({ kind: 'team', id: 't1', spend: 5, maxBudget: null, softBudget: 4, metadata });
    expect(dueBudgetEmails(team({}), true, 0.8, none, 0)).toEqual([]);
    expect(dueBudgetEmails(team({ soft_budget_alerting_emails: [] }), true, 0.8, none, 0)).toEqual([]);
    expect(dueBudgetEmails(team({ soft_budget_alerting_emails: ['a@x.io'] }), false, 0.8, none, 0)).toEqual([{ kind: 'team_soft_budget', gate: 'email:team_soft_budget:team:t1' }]);
    // Users and organizations get none (LiteLLM checks keys and teams).
    expect(dueBudgetEmails({ ...team({ soft_budget_alerting_emails: ['a@x.io'] }), kind: 'user' }, true, 0.8, none, 0)).toEqual([]);
  });

  it('counts spend a float sum leaves a hair under the soft budget as reaching it, for the emails and the Slack alert alike', () => {
    // Four requests' costs summed as the limiter does: 0.9999999999999999, not 1.
    const spend = [0.7, 0.1, 0.1, 0.1].reduce((a, b) => a + b, 0);
    const soft = 1;
    expect(spend < soft).toBe(true);
    expect(softBudgetReached(spend, soft)).toBe(true);
    expect(dueBudgetEmails(key({ spend, softBudget: soft }), true, 0.8, none, 0).map((d) => d.kind)).toEqual(['soft_budget']);
    expect(softBudgetCrossing(false, spend, soft).announce).toBe(true);
    expect(softBudgetReached(soft * 0.99, soft)).toBe(false);
  });

  it('reads the team\'s list as LiteLLM does: a list or a comma-separated string, blanks and repeats dropped', () => {
    expect(teamAlertEmails({ soft_budget_alerting_emails: ['a@x.io', ' ', 'b@x.io', 'a@x.io', 7] })).toEqual(['a@x.io', 'b@x.io']);
    expect(teamAlertEmails({ soft_budget_alerting_emails: 'a@x.io, b@x.io,,' })).toEqual(['a@x.io', 'b@x.io']);
    expect(teamAlertEmails({ soft_budget_alerting_emails: { a: 1 } })).toEqual([]);
  });

  it('keeps only entries that are one plain address, and the first 50 of them: the list is a team admin\'s', () => {
    const bad = ['Ops <ops@x.io>', 'a@x.io b@x.io', 'a@x.io,b@x.io', 'no-at', 'two@@x.io', 'a@b@x.io', '@x.io', 'a@', 'tab\t@x.io', `${'l'.repeat(250)}@x.io`];
    expect(teamAlertEmails({ soft_budget_alerting_emails: [...bad, 'ok@x.io'] })).toEqual(['ok@x.io']);
    const many = Array.from({ length: 60 }, (_, i) => `m${i}@x.io`);
    expect(teamAlertEmails({ soft_budget_alerting_emails: many })).toEqual(many.slice(0, MAX_TEAM_ALERT_EMAILS));
    expect(MAX_TEAM_ALERT_EMAILS).toBe(50);
  });
});

describe('soft budget alert (Slack, webhook)', () => {
  it('is announced once when spend reaches the soft budget, and again only after spend fell back (a new window)', () => {
    let crossed = false;
    const announced: number[] = [];
    for (const spend of [0.5, 0.99, 1, 1.5, 2, 0, 0.2, 1.1]) {
      const r = softBudgetCrossing(crossed, spend, 1);
      if (r.announce) announced.push(spend);
      crossed = r.next;
    }
    expect(announced).toEqual([1, 1.1]);
    expect(softBudgetCrossing(false, 5, null).announce).toBe(false);
  });

  it('says Soft Budget Crossed with the soft budget, spend and max budget, and a key only by alias and hash prefix', () => {
    const hash = 'c'.repeat(64);
    const text = softBudgetText('key', hash, 'my-key', 1.25, 1, 5);
    expect(text).toBe(['*Soft Budget Crossed*', `Key: \`my-key (key hash ${'c'.repeat(12)}...)\``, 'Total Soft Budget: `1`', 'Current Spend: `1.25`', 'Total Budget: `5`'].join('\n'));
    expect(softBudgetText('team', 't1', null, 2, 1, null)).not.toContain('Total Budget');
    const event = JSON.parse(softBudgetWebhookEvent('team', 't1', { alias: 'eng', userId: null, teamId: null, organizationId: null }, 2, 1, null));
    expect(event).toMatchObject({ event: 'soft_budget_crossed', event_group: 'team', team_id: 't1', team_alias: 'eng', spend: 2, soft_budget: 1, max_budget: null });
  });
});
