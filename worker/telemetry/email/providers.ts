/**
 * The send request of each email provider, as its API documents it: Resend's `POST /emails`
 * (https://resend.com/docs/api-reference/emails/send-email) and SendGrid's `POST /v3/mail/send`
 * (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send), both with the API key as a Bearer token.
 */
import { type PostResult, retryable, retryAfterMs } from '../alerts/slack.ts';
import type { EmailSettings } from './settings.ts';
import type { RenderedEmail } from './templates.ts';

/** One attempt's longest wait for the provider's answer. */
export const ATTEMPT_TIMEOUT_MS = 10_000;

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

export interface SendOptions {
  /** The fetch it goes through (a test's stub). */
  fetch?: typeof fetch;
  now?: () => number;
  /** This attempt's timeout: ATTEMPT_TIMEOUT_MS, or less to end within a caller's deadline. */
  timeoutMs?: number;
  /** A `retry-after` is honoured up to this (none: as asked). */
  maxRetryAfterMs?: number;
  /** More text kept out of the failure's detail than the API key and the recipients (a new key in the body). */
  secrets?: readonly string[];
}

/**
 * Sends `email` once and says whether to try again: a 429 (after its `retry-after`), a 5xx, a network error or
 * timeout are passing; any other refusal is not. The failure's detail is the status and the provider's reason (or
 * the network error), with the API key, the recipients and `secrets` taken out: it may be logged as it is.
 */
export async function sendEmailOnce(settings: EmailSettings, email: RenderedEmail, idempotencyKey: string, options: SendOptions = {}): Promise<PostResult> {
  const { fetch: send = fetch, now = Date.now, timeoutMs = ATTEMPT_TIMEOUT_MS, maxRetryAfterMs, secrets = [] } = options;
  const { url, init } = providerRequest(settings, email, idempotencyKey);
  const redact = (text: string) => [settings.apiKey, ...recipientsOf(email), ...secrets].reduce((out, secret) => (secret ? out.replaceAll(secret, '[redacted]') : out), text);
  try {
    const res = await send(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    if (res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: true };
    }
    // Redacted before providerError shortens it, so no cut-off piece of a secret is left to slip through.
    const detail = `HTTP ${res.status} ${providerError(redact(await res.text().catch(() => '')))}`.trim();
    const retryAfter = retryAfterMs(res.headers.get('retry-after'), now(), maxRetryAfterMs);
    return { ok: false, permanent: !retryable(res.status), detail, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) };
  } catch (err) {
    return { ok: false, permanent: false, detail: redact(err instanceof Error ? `${err.name}: ${err.message}` : String(err)) };
  }
}
