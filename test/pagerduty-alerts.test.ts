import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { foldWindow, type PagerDutyEventDetail, type PagerDutyWindow } from '../worker/telemetry/alerts/pagerduty.ts';
import { writeCapped } from '../worker/telemetry/metrics/capped-state.ts';
import { type FakePagerDuty, type PagerDutyEvent, startFakePagerDuty } from './fakes/pagerduty.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's PagerDuty alerting (general_settings.alerting: ["pagerduty"], alerting_args) through the real stack:
// calls fail (the upstream answers 400) or hang (it answers after 700 ms, over hanging_threshold_seconds 0.5; a stream
// that answers at once does not hang however long it runs),
// isolates report them to the PagerDuty metrics shard, which counts them across isolates and posts one trigger
// event per threshold to a fake Events API v2 on loopback (PAGERDUTY_API_BASE), with retries.

const ROUTING_KEY = 'e93facc04764012d7bfb002500d5d1a6';

let failing: FakeUpstream;
let slow: FakeUpstream;
let streaming: FakeUpstream;
let pagerduty: FakePagerDuty;
let stack: TestStack;
const lines: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failures = (e: PagerDutyEvent) => e.event_action === 'trigger' && /^High LLM API Failure Rate/.test(e.payload?.summary ?? '');
const hangs = (e: PagerDutyEvent) => e.event_action === 'trigger' && /^High Number of Hanging LLM Requests/.test(e.payload?.summary ?? '');

async function call(key: string, model: string, user?: string): Promise<number> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  try {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1, ...(user ? { user } : {}) });
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err.status ?? 0;
    throw err;
  }
}

describe('PagerDuty settings and counting', () => {
  it('takes LiteLLM\'s alerting_args, refuses a zero threshold, and warns about names it does not use', () => {
    const config = (args: Record<string, unknown>) => validateConfig({ general_settings: { alerting: ['pagerduty'], alerting_args: args } }, {});
    const ok = config({ failure_threshold: '5', hanging_threshold_seconds: 0.5, daily_report_frequency: 43200 });
    expect(ok.ok).toBe(true);
    expect(ok.warnings).toEqual(['general_settings.alerting_args.daily_report_frequency: not supported by Tollgate yet (ignored)']);
    const bad = config({ failure_threshold: 0 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join('\n')).toContain('general_settings.alerting_args.failure_threshold');
  });

  it('alerts when the threshold\'s worth of events fall within the window, then starts counting again', () => {
    const at = (s: number) => s * 1000;
    let r = foldWindow(undefined, [at(0), at(5)], [], at(5), 3, at(10));
    expect(r.alert).toBeNull();
    // The first event has left the window: two remain.
    r = foldWindow(r.next, [at(11)], [], at(11), 3, at(10));
    expect(r.alert).toBeNull();
    r = foldWindow(r.next, [at(12)], [], at(12), 3, at(10));
    expect(r.alert?.count).toBe(3);
    // Within the window of that alert: counted, not sent; after it, sent.
    r = foldWindow(r.next, [at(13), at(14), at(15)], [], at(15), 3, at(10));
    expect(r.alert).toBeNull();
    r = foldWindow(r.next, [at(22)], [], at(22), 3, at(10));
    expect(r.alert?.count).toBe(4);
  });

  it('shows in recent_errors only events within the window', () => {
    const at = (s: number) => s * 1000;
    const detail = (route: string) => ({ failure_event_type: 'failed_response', user_api_key_request_route: route }) as PagerDutyEventDetail;
    let r = foldWindow(undefined, [at(0), at(1)], [{ at: at(0), detail: detail('/old-0') }, { at: at(1), detail: detail('/old-1') }], at(1), 3, at(10));
    expect(r.alert).toBeNull();
    // 20 s later the two old events have left the window: the alert's count and its details agree.
    r = foldWindow(r.next, [at(20), at(21), at(22)], [20, 21, 22].map((s) => ({ at: at(s), detail: detail(`/new-${s}`) })), at(22), 3, at(10));
    expect(r.alert?.count).toBe(3);
    expect(r.alert?.recent.map((d) => d.user_api_key_request_route)).toEqual(['/new-20', '/new-21', '/new-22']);
  });

  it('warns that a threshold above 10,000 is counted as 10,000', () => {
    const res = validateConfig({ general_settings: { alerting: ['pagerduty'], alerting_args: { failure_threshold: 20_000, hanging_threshold_fails: 10_000 } } }, {});
    expect(res.ok).toBe(true);
    expect(res.warnings).toEqual(['general_settings.alerting_args.failure_threshold: 20000 is above Tollgate\'s limit of 10000 events per window (PagerDuty alerts at 10000)']);
  });

  it('keeps the PagerDuty windows when the shard\'s alert keys overflow: the key written longest ago goes', () => {
    // The shard's alert state (shard-alerts.ts save), held to its 10,000 keys.
    const state = new Map<string, unknown>();
    const deleted: string[] = [];
    const save = (key: string, value: unknown) => {
      const evicted = writeCapped(state, key, value, 10_000);
      if (evicted !== undefined) deleted.push(evicted);
    };
    const window: PagerDutyWindow = { at: [1], recent: [], lastAlertAt: 0 };
    save('pagerduty:failed_response', window);
    save('alert:first', {});
    for (let i = 0; i < 9_998; i++) {
      save(`alert:k${i}`, {});
      // Every flush re-writes the window.
      if (i % 1_000 === 0) save('pagerduty:failed_response', { ...window, at: [i] });
    }
    expect(deleted).toEqual([]);
    save('alert:overflow-1', {});
    save('alert:overflow-2', {});
    expect(deleted).toEqual(['alert:first', 'alert:k0']);
    expect(state.get('pagerduty:failed_response')).toMatchObject({ at: [9_000] });
  });
});

beforeAll(async () => {
  // The Workers' log lines reach this process's console (the runtime's output is piped to it).
  for (const level of ['error', 'warn', 'log', 'info'] as const) vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  failing = await startFakeUpstream({ default: { kind: 'error', status: 400, body: { error: { message: 'Unrecognized request argument supplied: bad_param', type: 'invalid_request_error', param: null, code: null } } } });
  slow = await startFakeUpstream({ default: { kind: 'echo', delayMs: 700 } });
  // Answers at once, then streams a chunk every 250 ms: well past hanging_threshold_seconds by its end.
  streaming = await startFakeUpstream({ default: { kind: 'echo', intervalMs: 250 } });
  pagerduty = await startFakePagerDuty();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: failing-gpt
    litellm_params: {model: openai/gpt-4o, api_base: "${failing.url}/v1", api_key: sk-upstream-fake-pd-0001}
  - model_name: slow-gpt
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${slow.url}/v1", api_key: sk-upstream-fake-pd-0001}
  - model_name: streaming-gpt
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${streaming.url}/v1", api_key: sk-upstream-fake-pd-0001}
general_settings:
  alerting: ["pagerduty"]
  alerting_args:
    failure_threshold: 3
    failure_threshold_window_seconds: 60
    hanging_threshold_seconds: 0.5
    hanging_threshold_fails: 2
    hanging_threshold_window_seconds: 10
`,
    env: { PAGERDUTY_API_KEY: ROUTING_KEY, PAGERDUTY_API_BASE: pagerduty.url },
  });
});
afterAll(async () => {
  await stack?.stop();
  await failing?.close();
  await slow?.close();
  await streaming?.close();
  await pagerduty?.close();
  vi.restoreAllMocks();
});

describe('PagerDuty alerts', () => {
  it('loads alerting: ["pagerduty"] and its alerting_args without a warning', () => {
    expect(stack.warnings.filter((w) => /pagerduty|alerting_args/.test(w))).toEqual([]);
  });

  it('does not count a stream that started at once and ran past hanging_threshold_seconds as hanging', async () => {
    const key = await seedKey(stack.db.url, { alias: 'pd-streaming-key' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      const stream = await client.chat.completions.create({ model: 'streaming-gpt', messages: [{ role: 'user', content: 'one two three four five six' }], stream: true });
      let chunks = 0;
      for await (const chunk of stream) chunks += chunk.choices.length;
      expect(chunks).toBeGreaterThan(3);
      expect(Date.now() - started).toBeGreaterThan(900);
    }
    await sleep(3_000);
    expect(pagerduty.events.filter(hangs)).toEqual([]);
  });

  it('sends nothing under failure_threshold, then exactly one critical trigger when it is reached, retried past a 429', async () => {
    const key = await seedKey(stack.db.url, { alias: 'pd-failing-key' });
    expect(await call(key, 'failing-gpt', 'pd-end-user-7')).toBe(400);
    expect(await call(key, 'failing-gpt', 'pd-end-user-7')).toBe(400);
    await sleep(3_000);
    expect(pagerduty.events.filter(failures)).toEqual([]);

    // The third failure reaches the threshold; PagerDuty throttles the first two posts of the event.
    const attemptsBefore = pagerduty.attempts;
    pagerduty.failNext(2, 429);
    expect(await call(key, 'failing-gpt', 'pd-end-user-7')).toBe(400);
    const [event] = await pagerduty.waitFor(failures, 1, 20_000);
    expect(pagerduty.attempts - attemptsBefore).toBeGreaterThanOrEqual(3);
    expect(event).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      payload: { summary: 'High LLM API Failure Rate: 3 in the last 60 seconds.', severity: 'critical', source: 'LiteLLM Alert', component: 'LiteLLM' },
    });
    const recent = event!.payload!.custom_details!.recent_errors!;
    expect(recent).toHaveLength(3);
    expect(recent[0]).toMatchObject({
      failure_event_type: 'failed_response', error_code: '400', user_api_key_hash: sha256(key), user_api_key_alias: 'pd-failing-key', user_api_key_request_route: '/chat/completions',
      // The request's `user`, as LiteLLM fills user_api_key_end_user_id.
      user_api_key_end_user_id: 'pd-end-user-7',
    });
    expect(String(recent[0]!.error_class)).toMatch(/BadRequestError/);
    expect(JSON.stringify(event)).not.toContain(key);

    // Three more failures within the window: counted, not paged again until the window has passed.
    for (let i = 0; i < 3; i++) expect(await call(key, 'failing-gpt')).toBe(400);
    await sleep(3_000);
    expect(pagerduty.events.filter(failures)).toHaveLength(1);
  });

  it('sends one hanging alert when hanging_threshold_fails calls ran past hanging_threshold_seconds', async () => {
    const key = await seedKey(stack.db.url, { alias: 'pd-slow-key' });
    expect(await call(key, 'slow-gpt')).toBe(200);
    await sleep(2_500);
    expect(pagerduty.events.filter(hangs)).toEqual([]);
    expect(await call(key, 'slow-gpt')).toBe(200);
    const [event] = await pagerduty.waitFor(hangs, 1, 15_000);
    expect(event?.payload).toMatchObject({ summary: 'High Number of Hanging LLM Requests: 2 in the last 10 seconds.', severity: 'critical' });
    expect(event?.payload?.custom_details?.recent_errors?.[1]).toMatchObject({
      failure_event_type: 'hanging_response', error_class: 'HangingRequest', user_api_key_alias: 'pd-slow-key',
    });
    // The slow calls were not failures.
    expect(pagerduty.events.filter(failures)).toHaveLength(1);
  });

  it('pages again once the window has passed; an event PagerDuty refuses (400) is dropped and logged without the key', async () => {
    const key = await seedKey(stack.db.url, { alias: 'pd-slow-key-2' });
    await sleep(10_000);
    pagerduty.failNext(1, 400);
    expect(await call(key, 'slow-gpt')).toBe(200);
    expect(await call(key, 'slow-gpt')).toBe(200);
    const deadline = Date.now() + 15_000;
    while (!lines.some((l) => l.includes('PagerDuty refused an alert')) && Date.now() < deadline) await sleep(200);
    expect(lines.join('\n')).toMatch(/PagerDuty refused an alert after 1 attempt\(s\) \(HTTP 400\); dropped: .*High Number of Hanging LLM Requests: 2 in the last 10 seconds/);
    expect(pagerduty.events.filter(hangs)).toHaveLength(1);
  });
});

describe('GET /health/services?service=pagerduty', () => {
  const services = async (key = TEST_MASTER_KEY) => {
    const res = await fetch(`${stack.url}/health/services?service=pagerduty`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, text: await res.text() };
  };

  it('sends a test event and resolves it, the routing key in the body only', async () => {
    const res = await services();
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ status: 'success' });
    expect(res.text).not.toContain(ROUTING_KEY);
    const [test] = await pagerduty.waitFor((e) => e.payload?.summary === 'This is a test PagerDuty alert (from /health/services)', 1, 5_000);
    expect(test).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', payload: { severity: 'info' } });
    await pagerduty.waitFor((e) => e.event_action === 'resolve' && e.dedup_key === test!.dedup_key, 1, 5_000);
  });

  it('answers 503 with what PagerDuty said, never the key, and wants a proxy admin', async () => {
    pagerduty.failNext(1, 503);
    const refused = await services();
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text).error.message).toBe('PagerDuty did not take the test event: HTTP 503');
    expect(refused.text).not.toContain(ROUTING_KEY);
    const key = await seedKey(stack.db.url, { alias: 'pd-not-admin' });
    expect((await services(key)).status).toBe(403);
  });

  it('never wrote the routing key to a log line', () => {
    expect(lines.join('\n')).not.toContain(ROUTING_KEY);
  });
});
