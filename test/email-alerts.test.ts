import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEmailProviders, type SentEmail, startFakeEmailProviders } from './fakes/email-providers.ts';
import { adminClient, ADMIN_CONFIG } from './support/admin.ts';
import { eventually } from './support/keys.ts';
import { consoleLines } from './support/logger-stack.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// LiteLLM's email callbacks (resend_email, sendgrid_email): the admin Worker emails a user its new key
// (send_invite_email on /key/generate), its rotated key (/key/regenerate) and its invitation (/user/new with
// send_invite_email), through the providers' HTTPS APIs, after the write and without holding up its answer.
// The SendGrid stack names both callbacks but has SendGrid's key only: its emails go through SendGrid.

const API_KEYS = { resend: 're_test_secret_0123456789', sendgrid: 'SG.test-secret-0123456789' };
let fake: FakeEmailProviders;
let resendStack: TestStack;
let sendgridStack: TestStack;
const resend = adminClient(() => resendStack);
const sendgrid = adminClient(() => sendgridStack);

const emailConfig = (callbacks: string[]) => ADMIN_CONFIG.replace('litellm_settings: {timezone: UTC}', `litellm_settings: {timezone: UTC, callbacks: ${JSON.stringify(callbacks)}}`);

beforeAll(async () => {
  fake = await startFakeEmailProviders(API_KEYS);
  const common = { PROXY_BASE_URL: 'https://gateway.example.com', EMAIL_SUPPORT_CONTACT: 'help@corp.example', EMAIL_LOGO_URL: 'https://corp.example/logo.png' };
  [resendStack, sendgridStack] = await Promise.all([
    startTestStack({ configYaml: emailConfig(['resend_email']), env: { ...common, RESEND_API_KEY: API_KEYS.resend, RESEND_API_BASE: fake.url, RESEND_FROM_EMAIL: 'ai@corp.example' } }),
    startTestStack({
      configYaml: emailConfig(['resend_email', 'sendgrid_email']),
      env: { ...common, SENDGRID_API_KEY: API_KEYS.sendgrid, SENDGRID_API_BASE: fake.url, SENDGRID_SENDER_EMAIL: 'ai@corp.example', EMAIL_INVITATION_BASE_URL: 'https://admin.corp.example/invite' },
    }),
  ]);
}, 300_000);
afterAll(async () => {
  await Promise.all([resendStack?.stop(), sendgridStack?.stop()]);
  await fake?.close();
});

/** The email to `to` with `subject`, once it has arrived. */
const arrived = (to: string, subject: string, provider: SentEmail['provider'] = 'resend', timeoutMs = 15_000) =>
  eventually(async () => fake.sent.find((e) => e.provider === provider && e.to.includes(to) && e.subject === subject), timeoutMs);

describe('email alerting through Resend', () => {
  it('emails a new user its invitation link (a claimable LiteLLM_InvitationLink of that user) on /user/new with send_invite_email', async () => {
    await resend.ok('/user/new', { user_id: 'ann', user_email: 'ann@example.com', send_invite_email: true, auto_create_key: false });
    const email = await arrived('ann@example.com', 'LiteLLM: Welcome to LiteLLM Proxy');
    const [link] = await resend.rows('SELECT id FROM "LiteLLM_InvitationLink" WHERE user_id = $1', ['ann']);
    expect(email.from).toBe('ai@corp.example');
    expect(email.headers.authorization).toBe(`Bearer ${API_KEYS.resend}`);
    expect(email.html).toContain(`href="https://gateway.example.com/ui?invitation_id=${link!.id}"`);
    expect(email.html).toContain('help@corp.example');
    expect(email.html).toContain('src="https://corp.example/logo.png"');
    // The emailed id is what the invited user claims the link with, no key needed.
    const id = /invitation_id=([0-9a-f-]{36})"/.exec(email.html)![1]!;
    const token = await resend.call(`/onboarding/get_token?invite_link=${id}`, undefined, null);
    expect([token.status, token.body.user_id, token.body.user_email]).toEqual([200, 'ann', 'ann@example.com']);
    const claimed = await resend.call('/onboarding/claim_token', { invitation_link: id, user_id: 'ann', password: 'ann-password-1' }, null);
    expect([claimed.status, claimed.body.user_id]).toEqual([200, 'ann']);
  });

  it('warns that an invitation without user_email is not sent once the user is created, and not for a refused /user/new', async () => {
    await resend.ok('/user/new', { user_id: 'hal', auto_create_key: false });
    const refused = await consoleLines(async () => {
      expect((await resend.call('/user/new', { user_id: 'hal', send_invite_email: true, auto_create_key: false })).status).toBe(400);
      await new Promise((r) => setTimeout(r, 1_000));
    });
    expect(refused.join('\n')).not.toContain('not sent');
    const created = await consoleLines(async () => {
      await resend.ok('/user/new', { user_id: 'ivy', send_invite_email: true, auto_create_key: false });
      await new Promise((r) => setTimeout(r, 1_000));
    });
    expect(created.join('\n')).toContain('email "LiteLLM: Welcome to LiteLLM Proxy" not sent: /user/new has no user_email');
    expect(await resend.rows('SELECT id FROM "LiteLLM_InvitationLink" WHERE user_id = $1', ['ivy'])).toEqual([]);
  });

  it('emails the key\'s user its new key, with its facts escaped, retrying a 429 after retry-after and a 500 under one Idempotency-Key', async () => {
    await resend.ok('/user/new', { user_id: 'bo', user_email: 'bo@example.com', auto_create_key: false });
    fake.failNext({ status: 429, retryAfter: '1' }, { status: 500 });
    const before = fake.attempts;
    const key = await resend.generate({ user_id: 'bo', key_alias: '<b>bo</b>-laptop', max_budget: 12.5, models: ['gpt-4o'], send_invite_email: true });
    const email = await arrived('bo@example.com', 'LiteLLM: API Key Created');
    expect(fake.attempts - before).toBe(3);
    // retry-after: 1 is waited out before the second attempt.
    const [sentAt, retriedAt] = fake.attemptTimes.slice(before);
    expect(retriedAt! - sentAt!).toBeGreaterThanOrEqual(900);
    const [first, ...retries] = fake.idempotencyKeys.slice(before);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(retries).toEqual([first, first]);
    expect(email.to).toEqual(['bo@example.com']);
    for (const fact of [key.key, '&#60;b&#62;bo&#60;/b&#62;-laptop', key.key_name, '$12.5', 'gpt-4o', 'base_url="https://gateway.example.com"']) expect(email.html).toContain(fact);
    expect(email.html).not.toContain('<b>bo</b>');
    await resend.auditLogFreeOfPlainKeys();
  });

  it('sends nothing for a key generated without send_invite_email', async () => {
    const before = fake.attempts;
    await resend.generate({ user_id: 'bo', key_alias: 'quiet' });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(fake.attempts).toBe(before);
  });

  it('emails the rotated key on /key/regenerate', async () => {
    await resend.ok('/user/new', { user_id: 'eve', user_email: 'eve@example.com', auto_create_key: false });
    const old = await resend.generate({ user_id: 'eve', key_alias: 'eve-rotating' });
    const rotated = await resend.ok(`/key/${old.key}/regenerate`, {});
    const email = await arrived('eve@example.com', 'LiteLLM: API Key Rotated');
    expect(email.html).toContain(rotated.key);
    expect(email.html).not.toContain(old.key);
  });

  it('answers the admin write at once while the email API hangs, and sends once it answers', async () => {
    fake.hang();
    try {
      const started = Date.now();
      const res = await resend.call('/key/generate', { user_id: 'bo', key_alias: 'while-hanging', send_invite_email: true });
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(3_000);
      resend.plainKeys.push(res.body.key);
      fake.release();
      const email = await eventually(async () => fake.sent.find((e) => e.html.includes(res.body.key)));
      expect(email.subject).toBe('LiteLLM: API Key Created');
    } finally {
      fake.release();
    }
  });

  it('logs a refused send with the provider\'s reason, its echo of the API key and the new key scrubbed', async () => {
    let plain = '';
    const lines = await consoleLines(async () => {
      fake.failNext({ status: 403, message: 'The corp.example domain is not verified' });
      const before = fake.attempts;
      plain = (await resend.generate({ user_id: 'bo', key_alias: 'refused', send_invite_email: true })).key;
      await eventually(async () => (fake.attempts > before ? true : undefined));
      await new Promise((r) => setTimeout(r, 1_000));
    });
    const text = lines.join('\n');
    // The fake echoed both secrets in its reason: the log line keeps the reason, each secret redacted.
    expect(text).toContain('via resend was not sent: HTTP 403 validation_error: The corp.example domain is not verified (sent with Bearer [redacted]: [redacted])');
    expect(text).not.toContain(API_KEYS.resend);
    expect(text).not.toContain(plain);
    expect(fake.sent.some((e) => e.html.includes(plain))).toBe(false);
  });
});

describe('email alerting through SendGrid', () => {
  it('emails the key in SendGrid\'s mail/send shape, retrying a 500', async () => {
    await sendgrid.ok('/user/new', { user_id: 'cy', user_email: 'cy@example.com', auto_create_key: false });
    fake.failNext({ status: 500 });
    const key = await sendgrid.generate({ user_id: 'cy', max_budget: 3, send_invite_email: true });
    const email = await arrived('cy@example.com', 'LiteLLM: API Key Created', 'sendgrid');
    expect(email.from).toBe('ai@corp.example');
    expect(email.headers.authorization).toBe(`Bearer ${API_KEYS.sendgrid}`);
    expect(email.html).toContain(key.key);
    expect(email.html).toContain('$3');
  });

  it('emails the invitation on /user/new with send_invite_email, linked to EMAIL_INVITATION_BASE_URL', async () => {
    await sendgrid.ok('/user/new', { user_id: 'dee', user_email: 'dee@example.com', send_invite_email: true });
    const email = await arrived('dee@example.com', 'LiteLLM: Welcome to LiteLLM Proxy', 'sendgrid');
    const [link] = await sendgrid.rows('SELECT id FROM "LiteLLM_InvitationLink" WHERE user_id = $1', ['dee']);
    expect(email.html).toContain(`href="https://admin.corp.example/invite?invitation_id=${link!.id}"`);
  });
});
