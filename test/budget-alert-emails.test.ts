import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEmailProviders, startFakeEmailProviders } from './fakes/email-providers.ts';
import { type FakeSlack, startFakeSlack } from './fakes/slack.ts';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { consoleLines } from './support/logger-stack.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// LiteLLM's soft budget alert (Slack "Soft Budget Crossed") and its email callbacks' budget alerts: a key's soft
// budget crossed and 80% of its max budget reached, emailed to the key's user, and a team's soft budget crossed,
// emailed to its metadata.soft_budget_alerting_emails (one email to all); each once per EMAIL_BUDGET_ALERT_TTL. The gateway's metrics
// shard detects them off the request path and sends them from its outbox through Resend.

const API_KEYS = { resend: 're_budget_secret_0123456789', sendgrid: 'SG.unused-0123456789' };
let fake: FakeEmailProviders;
let slack: FakeSlack;
let stack: TestStack;

beforeAll(async () => {
  fake = await startFakeEmailProviders(API_KEYS);
  slack = await startFakeSlack();
  stack = await startTestStack({
    // Each call costs 1 output token at $0.0625.
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0, output_cost_per_token: 0.0625}
litellm_settings:
  callbacks: ["resend_email"]
general_settings:
  alerting: ["slack", "email"]
  alert_types: ["budget_alerts"]
`,
    env: { SLACK_WEBHOOK_URL: slack.url, RESEND_API_KEY: API_KEYS.resend, RESEND_API_BASE: fake.url, RESEND_FROM_EMAIL: 'ai@corp.example', PROXY_BASE_URL: 'https://gateway.example.com' },
  });
}, 300_000);
afterAll(async () => {
  await stack?.stop();
  await slack?.close();
  await fake?.close();
});

const chat = (key: string) => fetch(`${stack.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
});
const calls = async (key: string, n: number) => {
  for (let i = 0; i < n; i++) expect((await chat(key)).status).toBe(200);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const emailsTo = (to: string, subject: string) => fake.sent.filter((e) => e.to.includes(to) && e.subject === subject);
const arrived = (to: string, subject: string) => eventually(async () => emailsTo(to, subject)[0], 20_000);

const SOFT_SUBJECT = 'LiteLLM: Soft Budget Crossed - Total Soft Budget: $0.25';
const MAX_SUBJECT = 'LiteLLM: Max Budget Alert - 80% of Maximum Budget Reached';

describe('budget alerts: soft budget and budget emails', () => {
  it('alerts Slack and emails the key\'s user once at the soft budget, then once at 80% of the max budget (retried through a 500)', async () => {
    await query(stack.db.url, 'INSERT INTO "LiteLLM_UserTable" (user_id, user_email) VALUES ($1, $2)', ['bo', 'bo@example.com']);
    const key = await seedKey(stack.db.url, { alias: 'soft-key', userId: 'bo' });
    // Soft budget after 4 calls, 80% of the max budget after 16.
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET soft_budget = 0.25, max_budget = 1.25 WHERE token = $1', [sha256(key)]);
    const soft = /Soft Budget Crossed[\s\S]*soft-key/;

    await calls(key, 3);
    await sleep(1_500);
    expect(slack.matching(soft)).toHaveLength(0);
    expect(emailsTo('bo@example.com', SOFT_SUBJECT)).toHaveLength(0);

    await calls(key, 2);
    const [message] = await slack.waitFor(soft, 1, 20_000);
    expect(message!.text).toContain('Total Soft Budget: `0.25`');
    expect(message!.text).not.toContain(key);
    const email = await arrived('bo@example.com', SOFT_SUBJECT);
    expect(email.from).toBe('ai@corp.example');
    expect(email.headers.authorization).toBe(`Bearer ${API_KEYS.resend}`);
    for (const fact of ['soft budget limit of $0.25', '<strong>Maximum Budget:</strong> $1.25', 'href="https://gateway.example.com"']) expect(email.html).toContain(fact);
    expect(email.html).not.toContain(key);

    // More spend past the soft budget: no second alert or email.
    await calls(key, 4);
    await sleep(2_000);
    expect(slack.matching(soft)).toHaveLength(1);
    expect(emailsTo('bo@example.com', SOFT_SUBJECT)).toHaveLength(1);
    expect(emailsTo('bo@example.com', MAX_SUBJECT)).toHaveLength(0);

    // 80% of the max budget, with Resend failing once: retried under the same Idempotency-Key; the API key never logged.
    const before = fake.attempts;
    fake.failNext({ status: 500, message: `upstream trouble ${API_KEYS.resend}` });
    const lines = await consoleLines(async () => {
      await calls(key, 8);
      await arrived('bo@example.com', MAX_SUBJECT);
    });
    const attempts = fake.idempotencyKeys.slice(before);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(attempts).size).toBe(1);
    const max = emailsTo('bo@example.com', MAX_SUBJECT)[0]!;
    for (const fact of ['80% of its maximum budget', '<strong>Maximum Budget:</strong> $1.25', '$1.00 (80%)']) expect(max.html).toContain(fact);
    expect(lines.join('\n')).not.toContain(API_KEYS.resend);

    await calls(key, 1);
    await sleep(2_000);
    expect(emailsTo('bo@example.com', MAX_SUBJECT)).toHaveLength(1);
    expect(emailsTo('bo@example.com', SOFT_SUBJECT)).toHaveLength(1);
    expect(slack.matching(soft)).toHaveLength(1);
  });

  it('alerts Slack and emails the user of a key with a soft budget and no max budget (an integer budget reads $1.0)', async () => {
    await query(stack.db.url, 'INSERT INTO "LiteLLM_UserTable" (user_id, user_email) VALUES ($1, $2)', ['cy', 'cy@example.com']);
    const key = await seedKey(stack.db.url, { alias: 'soft-only', userId: 'cy' });
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET soft_budget = 1, max_budget = NULL WHERE token = $1', [sha256(key)]);
    await calls(key, 16);
    const [message] = await slack.waitFor(/Soft Budget Crossed[\s\S]*soft-only/, 1, 20_000);
    expect(message!.text).not.toContain('Total Budget');
    const email = await arrived('cy@example.com', 'LiteLLM: Soft Budget Crossed - Total Soft Budget: $1.0');
    expect(email.html).toContain('<strong>Current Spend:</strong> $1.0');
    expect(email.html).not.toContain('Maximum Budget');
  });

  it('emails a team\'s soft budget crossing in one email to its valid soft_budget_alerting_emails, at most 50, naming the team', async () => {
    await seedTeam(stack.db.url, { id: 'team-soft', alias: 'Research <R&D>' });
    const extra = Array.from({ length: 60 }, (_, i) => `m${i}@corp.example`);
    await query(stack.db.url, 'UPDATE "LiteLLM_TeamTable" SET soft_budget = 0.1, metadata = $2 WHERE team_id = $1', [
      'team-soft', JSON.stringify({ soft_budget_alerting_emails: ['ops@corp.example', 'Boss <boss@corp.example>', 'x@corp.example\r\nBcc: y@evil.example', 'fin@corp.example', ...extra] }),
    ]);
    const key = await seedKey(stack.db.url, { alias: 'team-key', teamId: 'team-soft' });
    await calls(key, 2);
    const subject = 'LiteLLM: Soft Budget Crossed - Total Soft Budget: $0.1';
    const ops = await arrived('ops@corp.example', subject);
    expect(ops.to).toEqual(['ops@corp.example', 'fin@corp.example', ...extra.slice(0, 48)]);
    expect(fake.sent.filter((e) => e.subject === subject)).toHaveLength(1);
    expect(ops.html).toContain('Hi Research &#60;R&#38;D&#62; team member');
    expect(ops.html).toContain('Your LiteLLM team has crossed its <strong>soft budget limit of $0.1</strong>');
    await slack.waitFor(/Soft Budget Crossed[\s\S]*Team: `Research <R&D> \(team-soft\)`/, 1, 20_000);
    await calls(key, 2);
    await sleep(2_000);
    expect(emailsTo('ops@corp.example', subject)).toHaveLength(1);
  });

  it('emails no team without soft_budget_alerting_emails', async () => {
    await seedTeam(stack.db.url, { id: 'team-quiet', alias: 'quiet' });
    await query(stack.db.url, 'UPDATE "LiteLLM_TeamTable" SET soft_budget = 0.05 WHERE team_id = $1', ['team-quiet']);
    const before = fake.sent.length;
    const key = await seedKey(stack.db.url, { alias: 'quiet-key', teamId: 'team-quiet' });
    await calls(key, 2);
    await slack.waitFor(/Soft Budget Crossed[\s\S]*team-quiet/, 1, 20_000);
    await sleep(1_500);
    expect(fake.sent.slice(before)).toEqual([]);
  });
});
