import { describe, expect, it } from 'vitest';
import { providerError, providerRequest, sendEmailOnce } from './providers.ts';
import { invitationLink } from './templates.ts';
import { DEFAULT_SENDER, emailSettings, emailSetup } from './settings.ts';

const email = { to: 'ann@example.com', subject: 'LiteLLM: API Key Created', html: '<p>hi</p>' };

describe('email provider requests', () => {
  it('posts Resend\'s /emails body with the key as a Bearer token and the email\'s Idempotency-Key, from RESEND_FROM_EMAIL', () => {
    const settings = emailSettings([['resend_email']], { RESEND_API_KEY: 're_123', RESEND_FROM_EMAIL: 'ai@corp.example' });
    const req = providerRequest(settings!, email, 'idem-1');
    expect(req.url).toBe('https://api.resend.com/emails');
    expect(req.init.headers.authorization).toBe('Bearer re_123');
    expect(req.init.headers['idempotency-key']).toBe('idem-1');
    expect(JSON.parse(req.init.body)).toEqual({ from: 'ai@corp.example', to: ['ann@example.com'], subject: email.subject, html: '<p>hi</p>' });
  });

  it('posts SendGrid\'s /v3/mail/send body (personalizations, text/html content), at SENDGRID_API_BASE when set', () => {
    const settings = emailSettings([undefined, ['sendgrid_email']], { SENDGRID_API_KEY: 'SG.abc', SENDGRID_API_BASE: 'https://api.eu.sendgrid.com/', EMAIL_SENDER: 'ai@corp.example' });
    const req = providerRequest(settings!, email, 'idem-1');
    expect(req.url).toBe('https://api.eu.sendgrid.com/v3/mail/send');
    expect(req.init.headers).toEqual({ authorization: 'Bearer SG.abc', 'content-type': 'application/json' });
    expect(JSON.parse(req.init.body)).toEqual({
      from: { email: 'ai@corp.example' },
      personalizations: [{ to: [{ email: 'ann@example.com' }], subject: email.subject }],
      content: [{ type: 'text/html', value: '<p>hi</p>' }],
    });
  });

  it('is off without an email callback or without its API key, and sends from LiteLLM\'s default sender when none is set', () => {
    expect(emailSettings([['langfuse']], { RESEND_API_KEY: 're_1' })).toBeUndefined();
    expect(emailSettings([['sendgrid_email']], { RESEND_API_KEY: 're_1' })).toBeUndefined();
    expect(emailSettings([['resend_email']], { RESEND_API_KEY: 're_1' })?.sender).toBe(DEFAULT_SENDER);
  });

  it('with both callbacks named, sends through the first whose API key is set', () => {
    const both = [['resend_email', 'sendgrid_email']];
    expect(emailSettings(both, { SENDGRID_API_KEY: 'SG.1' })?.provider).toBe('sendgrid');
    expect(emailSettings(both, { SENDGRID_API_KEY: 'SG.1', RESEND_API_KEY: 're_1' })?.provider).toBe('resend');
  });

  it('says why no email goes: a named callback without its API key, or send_invite_email without an email callback', () => {
    expect(emailSetup([['resend_email'], ['sendgrid_email']], {}, 'virtual_key_rotated', false).warning)
      .toBe('email "LiteLLM: API Key Rotated" not sent: resend_email needs RESEND_API_KEY, sendgrid_email needs SENDGRID_API_KEY (a secret of the gateway and admin Workers), which is not set');
    expect(emailSetup([['langfuse']], {}, 'virtual_key_created', true).warning)
      .toBe('email "LiteLLM: API Key Created" not sent: send_invite_email is true but litellm_settings.callbacks names no email callback (resend_email or sendgrid_email)');
    // A rotation emails only when a callback is on: without one nothing is asked for, nothing warned.
    expect(emailSetup([['langfuse']], {}, 'virtual_key_rotated', false)).toEqual({});
    expect(emailSetup([['resend_email']], { RESEND_API_KEY: 're_1' }, 'virtual_key_created', true).warning).toBeUndefined();
  });

  it('names the email a warning is about by the subject EMAIL_SUBJECT_* sets', () => {
    const env = { EMAIL_SUBJECT_INVITATION: 'Join {event_message} at Corp', EMAIL_SUBJECT_KEY_CREATED: 'Your Corp key' };
    expect(emailSetup([['sendgrid_email']], env, 'new_user_invitation', true).warning).toMatch(/^email "Join Welcome to LiteLLM Proxy at Corp" not sent: sendgrid_email needs SENDGRID_API_KEY/);
    expect(emailSetup([], env, 'virtual_key_created', true).warning).toMatch(/^email "Your Corp key" not sent: send_invite_email is true/);
  });

  it('links an invitation to EMAIL_INVITATION_BASE_URL, else LiteLLM\'s {PROXY_BASE_URL}/ui, and keeps PROXY_BASE_URL for the SDK', () => {
    const env = { RESEND_API_KEY: 're_1', PROXY_BASE_URL: 'https://gw.example.com/' };
    expect(invitationLink(emailSettings([['resend_email']], env)!, 'a b')).toBe('https://gw.example.com/ui?invitation_id=a%20b');
    const own = emailSettings([['resend_email']], { ...env, EMAIL_INVITATION_BASE_URL: 'https://admin.corp.example/ui?tab=join' })!;
    expect(invitationLink(own, 'id1')).toBe('https://admin.corp.example/ui?tab=join&invitation_id=id1');
    expect(own.baseUrl).toBe('https://gw.example.com');
  });

  it('reads a refusal\'s reason from the providers\' error bodies only', () => {
    expect(providerError('{"statusCode":403,"name":"validation_error","message":"The corp.example domain is not verified."}')).toBe('validation_error: The corp.example domain is not verified.');
    expect(providerError('{"errors":[{"message":"The from address does not match a verified Sender Identity.","field":"from"}]}')).toBe('The from address does not match a verified Sender Identity.');
    expect(providerError('<html>bad gateway</html>')).toBe('');
  });

  it('sends once and says whether to try again: a 429 or 5xx with its retry-after (capped only when asked), any other refusal never', async () => {
    const settings = emailSettings([['resend_email']], { RESEND_API_KEY: 're_123' })!;
    const answering = (res: Response) => (async () => res) as unknown as typeof fetch;
    const limited = () => new Response('', { status: 429, headers: { 'retry-after': '600' } });
    expect(await sendEmailOnce(settings, email, 'idem-1', { fetch: answering(limited()) })).toEqual({ ok: false, permanent: false, detail: 'HTTP 429', retryAfterMs: 600_000 });
    expect(await sendEmailOnce(settings, email, 'idem-1', { fetch: answering(limited()), maxRetryAfterMs: 300_000 })).toMatchObject({ retryAfterMs: 300_000 });
    expect(await sendEmailOnce(settings, email, 'idem-1', { fetch: answering(new Response('', { status: 502 })) })).toEqual({ ok: false, permanent: false, detail: 'HTTP 502' });
    const refused = Response.json({ name: 'validation_error', message: 'ann@example.com, re_123, sk-new' }, { status: 422 });
    expect(await sendEmailOnce(settings, email, 'idem-1', { fetch: answering(refused), secrets: ['sk-new'] }))
      .toEqual({ ok: false, permanent: true, detail: 'HTTP 422 validation_error: [redacted], [redacted], [redacted]' });
    expect(await sendEmailOnce(settings, email, 'idem-1', { fetch: answering(Response.json({ id: 'e1' })) })).toEqual({ ok: true });
  });
});
