import { afterEach, describe, expect, it, vi } from 'vitest';
import { deliverEmail, MAX_ATTEMPTS } from './deliver.ts';
import { emailSettings } from '../../worker/telemetry/email/settings.ts';

const settings = emailSettings([['resend_email']], { RESEND_API_KEY: 're_secret_api_key' })!;
const email = { to: 'ann@example.com', subject: 'LiteLLM: API Key Created', html: '<p>sk-plain-secret</p>' };

/** A fetch answering each attempt in turn, recording the waits asked for and each attempt's idempotency key. */
function scripted(answers: (() => Response)[]) {
  const calls: string[] = [];
  const waits: number[] = [];
  const idempotencyKeys: (string | undefined)[] = [];
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push(String(url));
    idempotencyKeys.push((init?.headers as Record<string, string> | undefined)?.['idempotency-key']);
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    return next();
  });
  return { calls, waits, idempotencyKeys, deps: { fetch: fetch as unknown as typeof globalThis.fetch, sleep: async (ms: number) => void waits.push(ms) } };
}

afterEach(() => vi.restoreAllMocks());

describe('email delivery', () => {
  it('retries a 429 after its retry-after and a 500 after a backoff, then succeeds', async () => {
    const s = scripted([
      () => new Response('{"name":"rate_limit_exceeded"}', { status: 429, headers: { 'retry-after': '3' } }),
      () => new Response('oops', { status: 500 }),
      () => Response.json({ id: 'email-1' }),
    ]);
    expect(await deliverEmail(settings, email, ['sk-plain-secret'], s.deps)).toBe(true);
    expect(s.calls).toHaveLength(3);
    expect(s.waits).toEqual([3000, 2000]);
  });

  it('sends every attempt of one email with the same Idempotency-Key, and the next email with another', async () => {
    const s = scripted([() => new Response('', { status: 500 }), () => new Response('', { status: 503 }), () => Response.json({ id: '1' }), () => Response.json({ id: '2' })]);
    await deliverEmail(settings, email, [], s.deps);
    await deliverEmail(settings, email, [], s.deps);
    const [first, second, third, next] = s.idempotencyKeys;
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect([second, third]).toEqual([first, first]);
    expect(next).toMatch(/^[0-9a-f-]{36}$/);
    expect(next).not.toBe(first);
  });

  it('gives up on a 4xx at once, and logs the reason without the API key or the body\'s secret', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const s = scripted([() => Response.json({ name: 'validation_error', message: 'API key re_secret_api_key is invalid; body sk-plain-secret' }, { status: 403 })]);
    expect(await deliverEmail(settings, email, ['sk-plain-secret'], s.deps)).toBe(false);
    expect(s.calls).toHaveLength(1);
    const line = errors.mock.calls.flat().join(' ');
    expect(line).toContain('403 validation_error');
    expect(line).not.toContain('re_secret_api_key');
    expect(line).not.toContain('sk-plain-secret');
  });

  it('keeps the recipient out of the log when the provider\'s reason quotes the address', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const s = scripted([() => Response.json({ name: 'validation_error', message: 'Invalid `to` field: ann@example.com is on the suppression list' }, { status: 422 })]);
    expect(await deliverEmail(settings, email, [], s.deps)).toBe(false);
    const line = errors.mock.calls.flat().join(' ');
    expect(line).toContain('422 validation_error: Invalid `to` field: [redacted] is on the suppression list');
    expect(line).not.toContain('ann@example.com');
  });

  it('stops after a bounded number of attempts when the provider keeps failing', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const s = scripted(Array.from({ length: 10 }, () => () => new Response('down', { status: 503 })));
    expect(await deliverEmail(settings, email, [], s.deps)).toBe(false);
    expect(s.calls).toHaveLength(MAX_ATTEMPTS);
    expect(s.waits).toEqual([1000, 2000, 4000]);
  });

  it('gives up at once, and says why, when a 429\'s retry-after is past the 25 s the send may take', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const s = scripted([() => new Response('', { status: 429, headers: { 'retry-after': '3600' } }), () => Response.json({ id: 'x' })]);
    expect(await deliverEmail(settings, email, [], s.deps)).toBe(false);
    expect(s.calls).toHaveLength(1);
    expect(s.waits).toEqual([]);
    expect(errors.mock.calls.flat().join(' ')).toContain('429 (retry-after 3600 s is past the 25 s the send may take)');
  });

  it('keeps a secret out of the log even where the reason is cut short in the middle of it', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    // The key starts at character 290 of the reason, which is cut at 300.
    const message = `${'x'.repeat(290 - 'validation_error: '.length)}sk-plain-secret and more`;
    const s = scripted([() => Response.json({ name: 'validation_error', message }, { status: 422 })]);
    await deliverEmail(settings, email, ['sk-plain-secret'], s.deps);
    const line = errors.mock.calls.flat().join(' ');
    expect(line).toContain('[redacted]');
    expect(line).not.toContain('sk-plain');
  });
});
