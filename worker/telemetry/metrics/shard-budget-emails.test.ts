import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EntityView } from '../../limits/entity-view.ts';
import type { EmailGate } from '../alerts/gate.ts';
import type { BudgetEmailSettings } from '../email/budget-settings.ts';
import { emailSettings } from '../email/settings.ts';
import { defaultEmailEvents, type EmailEventSettings } from '../email/event-settings.ts';
import { type BudgetEmailOutbox, ShardBudgetEmails } from './shard-budget-emails.ts';

const HASH = 'a'.repeat(64);
const settings: BudgetEmailSettings = {
  email: emailSettings([['resend_email']], { RESEND_API_KEY: 're_unit_secret' })!,
  keyAlerts: true,
  maxSpendShare: 0.8,
  ttlMs: 86_400_000,
};
const keyView = (over: Partial<EntityView> = {}) => ({ kind: 'key', id: HASH, userId: 'bo', alias: 'bo-key', spend: 2, maxBudget: null, softBudget: 1, metadata: {}, ...over }) as EntityView;
const keyCheck = { kind: 'key' as const, id: HASH };
const allOn = async (): Promise<EmailEventSettings> => defaultEmailEvents();

/** The shard's outbox as ShardAlerts keeps it: gates by key, rows in order; `full` drops what is enqueued. */
function fakeOutbox() {
  const gates = new Map<string, number>();
  const rows: { to: string | string[]; subject: string }[] = [];
  const outbox = {
    full: false,
    gates,
    rows,
    emailGate: (key: string): EmailGate | undefined => (gates.has(key) && gates.get(key)! > Date.now() ? { until: gates.get(key)! } : undefined),
    saveEmailGate: (key: string, until: number) => void gates.set(key, until),
    enqueue(text: string): boolean {
      if (outbox.full) return false;
      rows.push(JSON.parse(text) as { to: string | string[]; subject: string });
      return true;
    },
  };
  return outbox satisfies BudgetEmailOutbox;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.parse('2026-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('the metrics shard\'s budget emails', () => {
  it('backs off a key whose user has no email for a minute, in memory, without closing the gate', async () => {
    const outbox = fakeOutbox();
    const findEmail = vi.fn(async (): Promise<string | undefined> => undefined);
    const emails = new ShardBudgetEmails({ outbox, emailEvents: allOn, findEmail });
    await emails.check(settings, keyCheck, keyView());
    await emails.check(settings, keyCheck, keyView());
    expect(findEmail).toHaveBeenCalledTimes(1);
    expect(outbox.gates.size).toBe(0);
    expect(outbox.rows).toEqual([]);

    findEmail.mockResolvedValue('bo@example.com');
    vi.advanceTimersByTime(61_000);
    await emails.check(settings, keyCheck, keyView());
    expect(findEmail).toHaveBeenCalledTimes(2);
    expect(outbox.rows.map((r) => [r.to, r.subject])).toEqual([['bo@example.com', 'LiteLLM: Soft Budget Crossed - Total Soft Budget: $1.0']]);
    expect([...outbox.gates.keys()]).toEqual([`email:soft_budget:key:${HASH}`]);
  });

  it('logs a failed lookup without the key, sends nothing, and asks again only after a minute', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const outbox = fakeOutbox();
    const findEmail = vi.fn(async (): Promise<string | undefined> => {
      throw new Error('Connection terminated unexpectedly');
    });
    const emails = new ShardBudgetEmails({ outbox, emailEvents: allOn, findEmail });
    await expect(emails.check(settings, keyCheck, keyView())).resolves.toBeUndefined();
    await emails.check(settings, keyCheck, keyView());
    expect(findEmail).toHaveBeenCalledTimes(1);
    expect(outbox.rows).toEqual([]);
    const line = errors.mock.calls.flat().join(' ');
    expect(line).toContain(`reading the user of key ${'a'.repeat(12)} failed: Connection terminated unexpectedly`);
    expect(line).not.toContain(HASH);
    vi.advanceTimersByTime(61_000);
    await emails.check(settings, keyCheck, keyView());
    expect(findEmail).toHaveBeenCalledTimes(2);
  });

  it('reads a user\'s email once for five minutes, and one check at a time per key', async () => {
    const outbox = fakeOutbox();
    const findEmail = vi.fn(async () => 'bo@example.com');
    const emails = new ShardBudgetEmails({ outbox, emailEvents: allOn, findEmail });
    await Promise.all([emails.check(settings, keyCheck, keyView()), emails.check(settings, keyCheck, keyView())]);
    expect(outbox.rows).toHaveLength(1);
    const other = { kind: 'key' as const, id: 'b'.repeat(64) };
    await emails.check(settings, other, keyView({ id: other.id }));
    expect(outbox.rows).toHaveLength(2);
    expect(findEmail).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5 * 60_000 + 1);
    await emails.check(settings, { kind: 'key', id: 'c'.repeat(64) }, keyView({ id: 'c'.repeat(64) }));
    expect(findEmail).toHaveBeenCalledTimes(2);
  });

  it('closes no gate for an email the full outbox dropped, so the next read tries again', async () => {
    const outbox = fakeOutbox();
    const emails = new ShardBudgetEmails({ outbox, emailEvents: allOn, findEmail: async () => 'bo@example.com' });
    outbox.full = true;
    await emails.check(settings, keyCheck, keyView());
    expect(outbox.gates.size).toBe(0);
    outbox.full = false;
    await emails.check(settings, keyCheck, keyView());
    expect(outbox.rows).toHaveLength(1);
    expect(outbox.gates.size).toBe(1);
  });

  it('sends a team one email to its valid addresses, at most 50, with no lookup', async () => {
    const outbox = fakeOutbox();
    const findEmail = vi.fn(async () => 'x@example.com');
    const emails = new ShardBudgetEmails({ outbox, emailEvents: allOn, findEmail });
    const list = ['Ops <ops@corp.example>', 'a@b.io, c@d.io', 'ops@corp.example', ...Array.from({ length: 60 }, (_, i) => `m${i}@corp.example`)];
    const team = { kind: 'team', id: 't1', userId: null, alias: 'eng', spend: 5, maxBudget: null, softBudget: 4, metadata: { soft_budget_alerting_emails: list } } as unknown as EntityView;
    await emails.check(settings, { kind: 'team', id: 't1' }, team);
    expect(outbox.rows).toHaveLength(1);
    expect(outbox.rows[0]!.to).toEqual(['ops@corp.example', ...Array.from({ length: 49 }, (_, i) => `m${i}@corp.example`)]);
    expect(findEmail).not.toHaveBeenCalled();
  });

  it('sends no email whose event /email/event_settings switched off, closing no gate, and sends it once switched on', async () => {
    const outbox = fakeOutbox();
    const findEmail = vi.fn(async () => 'bo@example.com');
    const events = { ...defaultEmailEvents(), 'Soft Budget Crossed': false };
    const emails = new ShardBudgetEmails({ outbox, findEmail, emailEvents: async () => events });
    // Soft budget crossed and 90% of the max budget spent: only the max budget email is on.
    await emails.check(settings, keyCheck, keyView({ spend: 9, softBudget: 1, maxBudget: 10 }));
    expect(outbox.rows.map((r) => r.subject)).toEqual(['LiteLLM: Max Budget Alert - 80% of Maximum Budget Reached']);
    expect([...outbox.gates.keys()]).toEqual([`email:max_budget_alert:key:${HASH}`]);

    const team = { kind: 'team', id: 't1', userId: null, alias: 'eng', spend: 5, maxBudget: null, softBudget: 4, metadata: { soft_budget_alerting_emails: ['ops@corp.example'] } } as unknown as EntityView;
    await emails.check(settings, { kind: 'team', id: 't1' }, team);
    expect(outbox.rows).toHaveLength(1);

    events['Soft Budget Crossed'] = true;
    await emails.check(settings, keyCheck, keyView({ spend: 9, softBudget: 1, maxBudget: 10 }));
    await emails.check(settings, { kind: 'team', id: 't1' }, team);
    expect(outbox.rows.map((r) => r.subject)).toEqual([
      'LiteLLM: Max Budget Alert - 80% of Maximum Budget Reached',
      'LiteLLM: Soft Budget Crossed - Total Soft Budget: $1.0',
      'LiteLLM: Soft Budget Crossed - Total Soft Budget: $4.0',
    ]);
  });

  it('reads the switches only when an email is due', async () => {
    const emailEvents = vi.fn(allOn);
    const emails = new ShardBudgetEmails({ outbox: fakeOutbox(), findEmail: async () => 'bo@example.com', emailEvents });
    await emails.check(settings, keyCheck, keyView({ spend: 0.5 }));
    expect(emailEvents).not.toHaveBeenCalled();
    await emails.check(settings, keyCheck, keyView());
    expect(emailEvents).toHaveBeenCalledTimes(1);
  });
});
