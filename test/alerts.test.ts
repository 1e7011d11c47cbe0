import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGET_THRESHOLDS, budgetCrossings, passGate } from '../worker/telemetry/alerts/gate.ts';
import { budgetText } from '../worker/telemetry/alerts/messages.ts';
import { type FakeSlack, startFakeSlack } from './fakes/slack.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { type FakeWebhook, startFakeWebhook } from './fakes/webhook.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

describe('alert deduplication', () => {
  it('announces each budget threshold once, and again only after spend fell back (a new window)', () => {
    expect(BUDGET_THRESHOLDS).toEqual([0.8, 1]);
    let crossed: number[] = [];
    const seen: number[][] = [];
    for (const spend of [0.5, 0.79, 0.8, 0.9, 0.95, 1.0, 1.2, 1.3, 0, 0.85, 2]) {
      const r = budgetCrossings(crossed, spend, 1);
      seen.push(r.announce);
      crossed = r.next;
    }
    expect(seen).toEqual([[], [], [0.8], [], [], [1], [], [], [], [0.8], [1]]);
    // A jump over both thresholds announces both; float sums a hair below a threshold count as reaching it.
    expect(budgetCrossings([], 3, 2).announce).toEqual([0.8, 1]);
    expect(budgetCrossings([], 0.1 + 0.2 + 0.5, 1).announce).toEqual([0.8]);
    expect(budgetCrossings([], 5, 0).announce).toEqual([]);
  });

  it('lets one alert per key through per window and counts the rest', () => {
    const first = passGate(undefined, 1_000, 60_000);
    expect(first.send).toBe(true);
    const second = passGate(first.next, 2_000, 60_000);
    const third = passGate(second.next, 3_000, 60_000);
    expect([second.send, third.send, third.next.suppressed]).toEqual([false, false, 2]);
    const later = passGate(third.next, 61_001, 60_000);
    expect([later.send, later.suppressed]).toEqual([true, 2]);
  });

  it('shows a key by its alias and the start of its hash, never the key', () => {
    const text = budgetText('key', 'a'.repeat(64), 'my-key', 1.25, 1.25, 1);
    expect(text).toContain('Budget Crossed');
    expect(text).toContain('my-key (key hash aaaaaaaaaaaa...)');
    expect(text).not.toContain('a'.repeat(13));
  });
});

let fake: FakeUpstream;
let slack: FakeSlack;
let webhook: FakeWebhook;
let stack: TestStack;

const chat = (key: string, model: string) => fetch(`${stack.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  fake = await startFakeUpstream({ default: { kind: 'echo', delayMs: 500 } });
  slack = await startFakeSlack();
  webhook = await startFakeWebhook();
  stack = await startTestStack({
    // Each mock call costs 1 output token at $0.0625; the slow models answer after 500 ms, over the 0.2 s threshold.
    // Every type but spend_reports: /health/services?service=slack would also post the spend reports in the
    // background, and those posts could take the failures a later test queues for its own (test/spend-reports.test.ts covers them).
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok", input_cost_per_token: 0, output_cost_per_token: 0.0625}
  - model_name: slow-gpt
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-upstream-fake-0001}
  - model_name: slow-gpt-2
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: sk-upstream-fake-0001}
general_settings:
  alerting: ["slack", "webhook"]
  alerting_threshold: 0.2
  alert_types: ["budget_alerts", "llm_too_slow", "cooldown_deployment", "callback_failure", "cache_unavailable"]
`,
    env: { SLACK_WEBHOOK_URL: slack.url, WEBHOOK_URL: webhook.url },
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
  await slack?.close();
  await webhook?.close();
});

describe('Slack alerts', () => {
  it('sends exactly one alert at 80% and one at 100% of a key\'s budget, however many requests cross them', async () => {
    const key = await seedKey(stack.db.url, { alias: 'budget-alert-key' });
    // 20 calls' worth of budget: 80% after the 16th, 100% after the 20th.
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET max_budget = 1.25 WHERE token = $1', [sha256(key)]);
    const statuses: number[] = [];
    const send = async (count: number) => {
      for (let sent = 0; sent < count; sent += 5) {
        const responses = await Promise.all(Array.from({ length: Math.min(5, count - sent) }, () => chat(key, 'mock-gpt')));
        for (const r of responses) {
          statuses.push(r.status);
          if (r.status === 200) expect(Number(r.headers.get('x-litellm-response-cost'))).toBe(0.0625);
          await r.body?.cancel();
        }
      }
    };
    const eighty = /80% Threshold Crossed[\s\S]*budget-alert-key/;
    const full = /Budget Crossed[\s\S]*budget-alert-key/;

    // 17 calls: 85% of the budget.
    await send(17);
    const [first] = await slack.waitFor(eighty);
    expect(first?.text).toContain('Total Budget: `1.25`');
    // Read from the key's limiter within a second of the calls: at 80% (16 calls) or 85% (17).
    expect(first?.text).toMatch(/Current Spend: `1(\.0625)?` \(8[05]%\)/);
    expect(first?.text).not.toContain(key);
    await sleep(1_500);
    expect(slack.matching(full)).toHaveLength(0);

    // 13 more: 3 take it to 100%, the other 10 are refused.
    await send(13);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    const [crossed] = await slack.waitFor(full);
    expect(crossed?.text).toContain('Current Spend: `1.25` (100%)');
    // More traffic and more flushes later: still one of each.
    await send(5);
    await sleep(3_000);
    expect(slack.matching(eighty)).toHaveLength(1);
    expect(slack.matching(full)).toHaveLength(1);

    // The same two crossings as LiteLLM's webhook events, once each, the key by its hash only.
    const ofKey = (e: Record<string, unknown>) => e.token === sha256(key);
    const events = await webhook.waitFor(ofKey, 2);
    expect(events.map((e) => [e.event, e.event_group, e.key_alias, e.max_budget])).toEqual([
      ['threshold_crossed', 'key', 'budget-alert-key', 1.25], ['budget_crossed', 'key', 'budget-alert-key', 1.25],
    ]);
    expect(events[0]?.event_message).toBe('Key Budget: 80% Threshold Crossed');
    expect(events[1]).toMatchObject({ spend: 1.25, event_message: 'Key Budget: Budget Crossed' });
    expect(JSON.stringify(webhook.events)).not.toContain(key);
  });

  it('sends one slow-request alert for calls over alerting_threshold', async () => {
    const key = await seedKey(stack.db.url, { alias: 'slow-key' });
    for (let i = 0; i < 3; i++) expect((await chat(key, 'slow-gpt')).status).toBe(200);
    const slow = /Slow Request[\s\S]*Model Group: `slow-gpt`/;
    const [alert] = await slack.waitFor(slow);
    expect(alert?.text).toMatch(/Alerting threshold: `0.2s`/);
    await sleep(2_500);
    expect(slack.matching(slow)).toHaveLength(1);
    // The webhook carries budget events only, as LiteLLM's does.
    expect(webhook.events.every((e) => e.event === 'threshold_crossed' || e.event === 'budget_crossed')).toBe(true);
  });

  it('retries a message Slack failed to take', async () => {
    await sleep(1_000);
    const attemptsBefore = slack.attempts;
    slack.failNext(2, 503);
    const key = await seedKey(stack.db.url, { alias: 'retry-key' });
    expect((await chat(key, 'slow-gpt-2')).status).toBe(200);
    const slow = /Slow Request[\s\S]*Model Group: `slow-gpt-2`/;
    await slack.waitFor(slow, 1, 20_000);
    expect(slack.attempts - attemptsBefore).toBeGreaterThanOrEqual(3);
    await sleep(1_500);
    expect(slack.matching(slow)).toHaveLength(1);
  });
});

describe('GET /health/services', () => {
  const services = async (query: string, key = TEST_MASTER_KEY) => {
    const res = await fetch(`${stack.url}/health/services${query}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: await res.json() as { status?: string; message?: string; alert_types?: string[]; error?: { message: string; param: string | null } } };
  };

  it('sends Slack a test alert now, and the alert webhook a test budget event', async () => {
    const slackRes = await services('?service=slack');
    expect(slackRes).toMatchObject({ status: 200, body: { status: 'success', message: 'Mock Slack Alert sent, verify Slack Alert Received on your channel' } });
    expect(slackRes.body.alert_types).toContain('budget_alerts');
    expect(slackRes.body.alert_types).not.toContain('spend_reports');
    await slack.waitFor(/This is a test slack alert message/, 1, 5_000);
    expect((await services('?service=slack_budget_alerts')).status).toBe(200);

    expect(await services('?service=webhook')).toMatchObject({ status: 200, body: { status: 'success' } });
    const [event] = await webhook.waitFor((e) => e.key_alias === 'health-check test', 1, 5_000);
    expect(event).toMatchObject({ event: 'budget_crossed', spend: 1, max_budget: 0, token: sha256(TEST_MASTER_KEY) });
  });

  it('answers 503 with what the service said, never its URL, when it refuses', async () => {
    // A few, as an alert still on its way may take one first.
    slack.failNext(3, 404);
    const refused = await services('?service=slack');
    slack.failNext(0);
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toBe('Slack did not take the test alert: HTTP 404');
    expect(JSON.stringify(refused.body)).not.toContain(new URL(slack.url).pathname);
  });

  it('wants a service it can test, and a proxy admin', async () => {
    expect((await services('')).status).toBe(400);
    const email = await services('?service=email');
    expect(email.status).toBe(400);
    expect(email.body.error?.message).toBe('Service email is not one Tollgate can test; it tests langfuse, otel, langfuse_otel, arize_phoenix, arize, logfire, traceloop, langtrace, levo, weave_otel, generic_api, custom_callback_api, datadog, datadog_llm_observability, langsmith, s3, s3_v2, gcs_bucket, gcs_pubsub, braintrust, aws_sqs, opik, sentry, posthog, openmeter, lago, lunary, helicone, azure_storage, azure_sentinel, clickhouse, slack, slack_budget_alerts, webhook, pagerduty');
    // A logger it tests (health-services-loggers.test.ts) but this config does not turn on.
    expect((await services('?service=datadog')).status).toBe(422);
    // No Langfuse credentials and no OpenTelemetry collector in this stack.
    expect((await services('?service=langfuse')).status).toBe(422);
    const otel = await services('?service=otel');
    expect(otel.status).toBe(422);
    expect(otel.body.error?.message).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
    const key = await seedKey(stack.db.url, { alias: 'not-admin' });
    expect((await services('?service=slack', key)).status).toBe(403);
  });
});
