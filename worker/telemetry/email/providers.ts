/**
 * The send request of each email provider, as its API documents it: Resend's `POST /emails`
 * (https://resend.com/docs/api-reference/emails/send-email) and SendGrid's `POST /v3/mail/send`
 * (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send), both with the API key as a Bearer token.
 */
import type { EmailSettings } from './settings.ts';
import type { RenderedEmail } from './templates.ts';

export interface ProviderRequest {
  url: string;
  init: { method: 'POST'; headers: Record<string, string>; body: string };
}

/** The addresses `email` goes to. */
export const recipientsOf = (email: Pick<RenderedEmail, 'to'>): string[] => (Array.isArray(email.to) ? email.to : [email.to]);

/**
 * The request sending `email`, the same for each of its attempts. `idempotencyKey` (one per email) goes in Resend's
 * `Idempotency-Key` header: a retry of an attempt Resend did accept (one that timed out, or answered a 5xx) sends
 * no second email. SendGrid's mail/send takes no such key: there a retry after a lost answer can send twice.
 */
export function providerRequest(settings: EmailSettings, email: RenderedEmail, idempotencyKey: string): ProviderRequest {
  const headers = { authorization: `Bearer ${settings.apiKey}`, 'content-type': 'application/json' };
  if (settings.provider === 'resend') {
    const body = { from: settings.sender, to: recipientsOf(email), subject: email.subject, html: email.html };
    return { url: `${settings.apiBase}/emails`, init: { method: 'POST', headers: { ...headers, 'idempotency-key': idempotencyKey }, body: JSON.stringify(body) } };
  }
  const body = {
    from: { email: settings.sender },
    personalizations: [{ to: recipientsOf(email).map((address) => ({ email: address })), subject: email.subject }],
    content: [{ type: 'text/html', value: email.html }],
  };
  return { url: `${settings.apiBase}/v3/mail/send`, init: { method: 'POST', headers, body: JSON.stringify(body) } };
}

/**
 * The provider's reason for refusing a send, from its error body: Resend's `{"name", "message"}`, SendGrid's
 * `{"errors": [{"message"}]}`. Short, and only these fields: an echoed request never reaches a log.
 */
export function providerError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { name?: unknown; message?: unknown; errors?: { message?: unknown }[] };
    const parts = [parsed.name, parsed.message, ...(Array.isArray(parsed.errors) ? parsed.errors.map((e) => e?.message) : [])];
    return parts.filter((p): p is string => typeof p === 'string').join(': ').slice(0, 300);
  } catch {
    return '';
  }
}
