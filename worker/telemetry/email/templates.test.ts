import { describe, expect, it } from 'vitest';
import { emailSettings, type EmailSettings } from './settings.ts';
import { escapeHtml } from '../../lib/html.ts';
import { HIDDEN_KEY, invitationEmail, keyEmail, type KeyEmailFacts } from './templates.ts';

const settings = (env: Record<string, string> = {}): EmailSettings => {
  const s = emailSettings([['resend_email']], { RESEND_API_KEY: 're_test', PROXY_BASE_URL: 'https://gw.example.com/', ...env });
  if (!s) throw new Error('expected settings');
  return s;
};
const facts: KeyEmailFacts = {
  recipient: 'ann@example.com', key: 'sk-plain-0123456789abcd', keyName: 'sk-...abcd', keyAlias: 'ann-laptop', maxBudget: 25, models: ['gpt-4o', 'claude'],
};

describe('email templates', () => {
  it('carries LiteLLM\'s subject and the key\'s facts: recipient, key, alias, budget, models, base URL, support, logo', () => {
    const email = keyEmail('virtual_key_created', facts, settings({ EMAIL_SUPPORT_CONTACT: 'help@corp.example', EMAIL_LOGO_URL: 'https://corp.example/logo.png' }));
    expect(email.to).toBe('ann@example.com');
    expect(email.subject).toBe('LiteLLM: API Key Created');
    for (const fact of ['Hi ann@example.com', 'sk-plain-0123456789abcd', 'ann-laptop', 'sk-...abcd', '$25', 'gpt-4o, claude', 'base_url="https://gw.example.com"', 'help@corp.example', 'src="https://corp.example/logo.png"']) {
      expect(email.html).toContain(fact);
    }
  });

  it('says "No budget" without one, leaves out the support line and logo unset, and hides the key when EMAIL_INCLUDE_API_KEY is false', () => {
    const email = keyEmail('virtual_key_rotated', { ...facts, maxBudget: null }, settings({ EMAIL_INCLUDE_API_KEY: 'false' }));
    expect(email.subject).toBe('LiteLLM: API Key Rotated');
    expect(email.html).toContain('No budget');
    expect(email.html).toContain(escapeHtml(HIDDEN_KEY));
    expect(email.html).not.toContain(facts.key);
    expect(email.html).not.toContain('<img');
    expect(email.html).not.toContain('contact us');
  });

  it('escapes every value a caller supplies, so an alias or email cannot inject markup', () => {
    const evil = '<script>alert(1)</script>"onload="x';
    const email = keyEmail('virtual_key_created', { ...facts, recipient: `a${evil}@x.com`, keyAlias: evil, models: [evil] }, settings());
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('"onload="');
    expect(email.html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;&#34;onload=&#34;x');
    const invite = invitationEmail({ recipient: evil, link: 'https://gw.example.com/ui?invitation_id=1"><b>' }, settings());
    expect(invite.html).not.toContain('<script>');
    expect(invite.html).toContain('href="https://gw.example.com/ui?invitation_id=1&#34;&#62;&#60;b&#62;"');
  });

  it('fills {event_message} into an EMAIL_SUBJECT_* template, and links the invitation', () => {
    const invite = invitationEmail({ recipient: 'bo@example.com', link: 'https://gw.example.com/ui?invitation_id=abc' }, settings({ EMAIL_SUBJECT_INVITATION: 'Acme AI: {event_message}' }));
    expect(invite.subject).toBe('Acme AI: Welcome to LiteLLM Proxy');
    expect(invite.html).toContain('href="https://gw.example.com/ui?invitation_id=abc"');
    expect(invite.html).toContain('Hi bo@example.com');
  });
});
