import { afterEach, describe, expect, it, vi } from 'vitest';
import { sendKeyEmail } from './key-email.ts';
import { emailSettings } from '../../worker/telemetry/email/settings.ts';

const settings = emailSettings([['resend_email']], { RESEND_API_KEY: 're_secret_api_key' })!;
const key = { user_id: 'ann', key_alias: 'laptop', key_name: 'sk-...cdef', max_budget: 5, models: ['gpt-4o'] };
const plain = 'sk-plain-0123456789abcdef';

afterEach(() => vi.restoreAllMocks());

describe('a key\'s email, sent after the admin answer', () => {
  it('settles without throwing when the recipient lookup fails, logging why without the key, and sends nothing', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const fetch = vi.fn();
    const lookup = async () => {
      throw new Error(`Connection terminated unexpectedly while reading the user of ${plain}`);
    };
    await expect(sendKeyEmail(settings, 'virtual_key_rotated', key, plain, lookup, { fetch })).resolves.toBeUndefined();
    expect(fetch).not.toHaveBeenCalled();
    const line = errors.mock.calls.flat().join(' ');
    expect(line).toContain('email "LiteLLM: API Key Rotated" via resend was not sent: the key\'s user could not be read: Error: Connection terminated unexpectedly');
    expect(line).not.toContain(plain);
  });

  it('emails the looked-up user the key with its facts', async () => {
    const sent: string[] = [];
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      sent.push(String(init?.body));
      return Response.json({ id: 'e1' });
    });
    await sendKeyEmail(settings, 'virtual_key_created', key, plain, async (userId) => `${userId}@example.com`, { fetch: fetch as unknown as typeof globalThis.fetch });
    const body = JSON.parse(sent[0]!) as { to: string[]; subject: string; html: string };
    expect(body.to).toEqual(['ann@example.com']);
    expect(body.subject).toBe('LiteLLM: API Key Created');
    for (const fact of [plain, 'laptop', '$5', 'gpt-4o']) expect(body.html).toContain(fact);
  });

  it('warns and sends nothing when the key has no user with an email', async () => {
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const fetch = vi.fn();
    await sendKeyEmail(settings, 'virtual_key_created', { ...key, user_id: null }, plain, async () => 'x@example.com', { fetch });
    expect(fetch).not.toHaveBeenCalled();
    expect(warnings.mock.calls.flat().join(' ')).toContain('not sent: the key has no user with an email');
  });
});
