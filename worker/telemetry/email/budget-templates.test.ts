import { describe, expect, it } from 'vitest';
import { dollars, maxBudgetEmail, softBudgetEmail, teamSoftBudgetEmail } from './budget-templates.ts';
import { emailSettings } from './settings.ts';

const settings = emailSettings([['resend_email']], { RESEND_API_KEY: 're_x', PROXY_BASE_URL: 'https://gw.example.com' })!;

describe('budget alert email templates', () => {
  it('renders the soft budget email with LiteLLM\'s subject, the soft budget, spend and max budget line, amounts as Python floats', () => {
    const email = softBudgetEmail('bo@example.com', { spend: 1.5, softBudget: 1, maxBudget: 10 }, settings);
    expect(email.to).toBe('bo@example.com');
    expect(email.subject).toBe('LiteLLM: Soft Budget Crossed - Total Soft Budget: $1.0');
    for (const fact of ['soft budget limit of $1.0', '<strong>Current Spend:</strong> $1.5', '<strong>Soft Budget:</strong> $1.0', '<strong>Maximum Budget:</strong> $10.0', 'href="https://gw.example.com"']) expect(email.html).toContain(fact);
    expect(softBudgetEmail('bo@example.com', { spend: 1.5, softBudget: 1, maxBudget: null }, settings).html).not.toContain('Maximum Budget');
  });

  it('prints amounts as LiteLLM\'s f-strings print Python floats, float noise dropped', () => {
    expect([10, 0.25, 0, 0.1 + 0.2, 1234.5].map(dollars)).toEqual(['$10.0', '$0.25', '$0.0', '$0.3', '$1234.5']);
  });

  it('goes to all of a team\'s addresses in one email, greeting the team by its alias, escaped, and "Team" without one', () => {
    const email = teamSoftBudgetEmail(['ops@example.com', 'fin@example.com'], '<img src=x onerror=alert(1)>', { spend: 5, softBudget: 4, maxBudget: null }, settings);
    expect(email.html).toContain('Hi &#60;img src=x onerror=alert(1)&#62; team member');
    expect(email.to).toEqual(['ops@example.com', 'fin@example.com']);
    expect(email.html).not.toContain('<img src=x');
    expect(teamSoftBudgetEmail(['ops@example.com'], null, { spend: 5, softBudget: 4, maxBudget: null }, settings).html).toContain('Hi Team team member');
  });

  it('renders the max budget alert with the share as a percentage and its threshold', () => {
    const email = maxBudgetEmail('bo@example.com', { spend: 8.5, maxBudget: 10 }, 0.8, settings);
    expect(email.subject).toBe('LiteLLM: Max Budget Alert - 80% of Maximum Budget Reached');
    for (const fact of ['80% of its maximum budget', '<strong>Alert Threshold:</strong> $8.00 (80%)', '<strong>Current Spend:</strong> $8.5', '<strong>Maximum Budget:</strong> $10.0']) expect(email.html).toContain(fact);
  });
});
