import { describe, expect, it } from 'vitest';
import { outboxEmail, outboxEmailSubject, sendOutboxEmail } from './outbox-email.ts';
import { emailSettings } from './settings.ts';

const API_KEY = 're_outbox_secret_0123';
const settings = emailSettings([['resend_email']], { RESEND_API_KEY: API_KEY, RESEND_API_BASE: 'https://resend.test' })!;
const row = outboxEmail({ to: ['ops@corp.example', 'fin@corp.example'], subject: 'LiteLLM: Soft Budget Crossed - Total Soft Budget: $1.0', html: '<p>hi</p>' });

/** A fetch answering `res`, recording what was sent. */
function stub(res: () => Response | Promise<Response>) {
  const sent: { url: string; headers: Record<string, string>; body: Record<string, unknown> }[] = [];
  const send = (async (url: RequestInfo | URL, init?: RequestInit) => {
    sent.push({ url: String(url), headers: init?.headers as Record<string, string>, body: JSON.parse(String(init?.body)) as Record<string, unknown> });
    return res();
  }) as typeof fetch;
  return { send, sent };
}

describe('a budget email sent from the shard\'s outbox', () => {
  it('goes to Resend once for all its recipients, with the row\'s idempotency key on every attempt and no key in the row', async () => {
    expect(row).not.toContain(API_KEY);
    const s = stub(() => Response.json({ id: 'e1' }));
    expect(await sendOutboxEmail(settings, row, s.send)).toEqual({ ok: true });
    expect(await sendOutboxEmail(settings, row, s.send)).toEqual({ ok: true });
    expect(s.sent[0]!.url).toBe('https://resend.test/emails');
    expect(s.sent[0]!.body.to).toEqual(['ops@corp.example', 'fin@corp.example']);
    expect(s.sent[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(s.sent[0]!.headers['idempotency-key']).toBe(JSON.parse(row).idempotencyKey);
    expect(s.sent[1]!.headers['idempotency-key']).toBe(s.sent[0]!.headers['idempotency-key']);
    expect(outboxEmailSubject(row)).toBe('LiteLLM: Soft Budget Crossed - Total Soft Budget: $1.0');
  });

  it('retries a 429 after its retry-after (capped at 5 minutes), and a 5xx', async () => {
    expect(await sendOutboxEmail(settings, row, stub(() => new Response('', { status: 429, headers: { 'retry-after': '7' } })).send))
      .toMatchObject({ ok: false, permanent: false, retryAfterMs: 7_000 });
    expect(await sendOutboxEmail(settings, row, stub(() => new Response('', { status: 429, headers: { 'retry-after': '86400' } })).send))
      .toMatchObject({ ok: false, permanent: false, retryAfterMs: 300_000 });
    const down = await sendOutboxEmail(settings, row, stub(() => new Response('down', { status: 503 })).send);
    expect(down).toMatchObject({ ok: false, permanent: false });
    expect(down).not.toHaveProperty('retryAfterMs');
  });

  it('drops a permanent refusal, its reason shown without the API key or any recipient', async () => {
    const message = `Invalid \`to\` field: fin@corp.example is suppressed (key ${API_KEY})`;
    const result = await sendOutboxEmail(settings, row, stub(() => Response.json({ name: 'validation_error', message }, { status: 422 })).send);
    expect(result).toMatchObject({ ok: false, permanent: true });
    const detail = (result as { detail: string }).detail;
    expect(detail).toBe('HTTP 422 validation_error: Invalid `to` field: [redacted] is suppressed (key [redacted])');
  });

  it('retries a network error, redacted, and drops an unreadable row', async () => {
    const result = await sendOutboxEmail(settings, row, stub(() => {
      throw new TypeError(`fetch failed for ops@corp.example with ${API_KEY}`);
    }).send);
    expect(result).toEqual({ ok: false, permanent: false, detail: 'TypeError: fetch failed for [redacted] with [redacted]' });
    expect(await sendOutboxEmail(settings, '{"to": 1}', stub(() => Response.json({})).send)).toEqual({ ok: false, permanent: true, detail: 'unreadable outbox row' });
  });
});
