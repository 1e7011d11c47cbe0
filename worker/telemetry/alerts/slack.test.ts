import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_RETRY_AFTER_MS, postJson, retryAfterMs } from './slack.ts';

afterEach(() => vi.unstubAllGlobals());

describe('retry-after (Slack, the webhook and the email outbox and delivery)', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads seconds or an HTTP date, capped when a cap is given', () => {
    expect(retryAfterMs('7', now)).toBe(7_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('86400', now)).toBe(86_400_000);
    expect(retryAfterMs('86400', now, MAX_RETRY_AFTER_MS)).toBe(300_000);
  });

  it('asks for no wait of its own when absent, unreadable, zero or in the past: the caller\'s backoff applies', () => {
    for (const header of [null, '', 'soon', '0', '-5', 'Wed, 31 Dec 2025 23:59:00 GMT']) expect(retryAfterMs(header, now)).toBeUndefined();
  });

  it('is what a Slack or webhook post that was refused with one waits, at most 5 minutes', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('', { status: 429, headers: { 'retry-after': '3600' } })));
    expect(await postJson('https://hooks.slack.test/x', '{}')).toEqual({ ok: false, permanent: false, detail: 'HTTP 429', retryAfterMs: 300_000 });
    vi.stubGlobal('fetch', vi.fn(async () => new Response('', { status: 503, headers: { 'retry-after': new Date(Date.now() + 20_000).toUTCString() } })));
    const result = await postJson('https://hooks.slack.test/x', '{}');
    expect(result).toMatchObject({ ok: false, permanent: false, detail: 'HTTP 503' });
    expect((result as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(18_000);
    vi.stubGlobal('fetch', vi.fn(async () => new Response('', { status: 404 })));
    expect(await postJson('https://hooks.slack.test/x', '{}')).toEqual({ ok: false, permanent: true, detail: 'HTTP 404' });
  });
});
