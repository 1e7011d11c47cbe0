import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedKey } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// general_settings.allowed_ips: authenticated requests only from these addresses (or IPv4 ranges), the client's
// address read from the last X-Forwarded-For entry with use_x_forwarded_for (a proxy of the deployer's in front),
// from CF-Connecting-IP only where Cloudflare's edge sets it.

const MODELS = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok"}
`;

let behindProxy: TestStack;
let noSource: TestStack;

beforeAll(async () => {
  [behindProxy, noSource] = await Promise.all([
    startTestStack({ configYaml: `${MODELS}general_settings:\n  allowed_ips: ["203.0.113.7", "10.1.0.0/16", "2001:DB8::1"]\n  use_x_forwarded_for: true\n` }),
    startTestStack({ configYaml: `${MODELS}general_settings:\n  allowed_ips: ["203.0.113.7"]\n` }),
  ]);
});
afterAll(async () => {
  await Promise.all([behindProxy?.stop(), noSource?.stop()]);
});

const clientOf = (stack: TestStack, key: string, forwardedFor?: string) =>
  new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0, defaultHeaders: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} });
const chat = (stack: TestStack, key: string, forwardedFor?: string) =>
  clientOf(stack, key, forwardedFor).chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

describe('allowed_ips behind a proxy (use_x_forwarded_for)', () => {
  it('serves calls from an allowed address, a range\'s member, an IPv6 address in lower case, and an IPv4-mapped one', async () => {
    const key = await seedKey(behindProxy.db.url, { userId: 'ip-user' });
    for (const from of ['203.0.113.7', '198.51.100.1, 10.1.255.3', '2001:db8::1', '::ffff:203.0.113.7']) {
      const answer = await chat(behindProxy, key, from);
      expect(answer.choices[0]?.message.content, from).toBe('ok');
    }
  });

  it('refuses (403, LiteLLM\'s words) a call whose proxy-added entry is not allowed, even when the client wrote an allowed one before it', async () => {
    const key = await seedKey(behindProxy.db.url, { userId: 'ip-spoofer' });
    const spoofed = await refusal(chat(behindProxy, key, '203.0.113.7, 198.51.100.9'));
    expect(spoofed?.status).toBe(403);
    expect(spoofed?.error).toMatchObject({ type: 'auth_error', message: 'Access forbidden: IP address 198.51.100.9 not allowed.' });
    const outside = await refusal(chat(behindProxy, key, '10.2.0.1'));
    expect(outside?.status).toBe(403);
    // Refused before anything else: no spend row for either.
    const rows = await query(behindProxy.db.url, 'SELECT 1 FROM "LiteLLM_SpendLogs" WHERE "user" = $1', ['ip-spoofer']);
    expect(rows).toHaveLength(0);
  });

  it('refuses a call with no address at all, naming where the address is read from', async () => {
    const key = await seedKey(behindProxy.db.url, { userId: 'ip-none' });
    const none = await refusal(chat(behindProxy, key));
    expect(none?.status).toBe(403);
    expect((none?.error as { message?: string } | undefined)?.message).toMatch(/^Access forbidden: IP address unknown not allowed\. .*X-Forwarded-For with general_settings\.use_x_forwarded_for/);
  });

  it('holds the master key and the admin API to it too, and leaves the liveness probe open', async () => {
    const headers = (from?: string) => ({ authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json', ...(from ? { 'x-forwarded-for': from } : {}) });
    const generate = (from?: string) => fetch(`${behindProxy.url}/key/generate`, { method: 'POST', headers: headers(from), body: '{}' });
    const refused = await generate('198.51.100.9');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe('Access forbidden: IP address 198.51.100.9 not allowed.');
    expect((await generate('10.1.0.1')).status).toBe(200);
    expect((await chat(behindProxy, TEST_MASTER_KEY, '198.51.100.9').catch((e: { status: number }) => e))).toMatchObject({ status: 403 });
    expect((await fetch(`${behindProxy.url}/health/liveliness`)).status).toBe(200);
  });
});

describe('allowed_ips with no trusted source of the address (in-region, no use_x_forwarded_for)', () => {
  it('refuses every call, whatever address headers the client writes itself', async () => {
    const key = await seedKey(noSource.db.url, { userId: 'ip-forger' });
    const forged = await refusal(clientOf(noSource, key).chat.completions.create(
      { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'cf-connecting-ip': '203.0.113.7', 'x-forwarded-for': '203.0.113.7' } },
    ));
    expect(forged?.status).toBe(403);
    expect((forged?.error as { message?: string } | undefined)?.message).toMatch(/^Access forbidden: IP address unknown not allowed\. \(the client's address is read from CF-Connecting-IP on Cloudflare/);
  });
});
