import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { type FakeLago, startFakeLago } from './fakes/lago.ts';
import { eventually, seedKey } from './support/keys.ts';
import { consoleLines, useLoggerStack } from './support/logger-stack.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's `lago` callback through the real stack: the admin Worker's callback consumer sends each successful
// call as a usage event to a fake Lago API on loopback (its batch endpoint, Bearer key checked), charged to the
// call's end user (the request's `user`, LAGO_API_CHARGE_BY's default).

const LAGO_API_KEY = 'lago-test-api-key-0123456789abcdef';
const UPSTREAM_KEY = 'sk-upstream-openai-lago-0001';
const EVENT_CODE = 'llm_usage';

let lago: FakeLago;
let stack: TestStack;

useLoggerStack({
  destination: () => startFakeLago({ apiKey: LAGO_API_KEY }),
  settings: `litellm_settings:
  callbacks: ["lago"]
`,
  env: (fake) => ({ FAKE_OPENAI_KEY: UPSTREAM_KEY, LAGO_API_KEY, LAGO_API_BASE: `${fake.url}/`, LAGO_API_EVENT_CODE: EVENT_CODE }),
}, (s) => ({ destination: lago, stack } = s));

type Json = Record<string, any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sentOf = (id: string): Json[] => lago.batches.flatMap((b) => b.events.filter((e) => e.transaction_id === id));

async function chat(content: string, user?: string) {
  const apiKey = await seedKey(stack.db.url, { userId: 'user-lago' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...(user ? { user } : {}) }).withResponse();
  return { data, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the lago callback', () => {
  it('loads without a warning', () => {
    expect(stack.warnings.filter((w) => /lago/i.test(w))).toEqual([]);
  });

  it('bills a call to its end user as one Lago event: the call id, the event code, model, cost and tokens, the Bearer key', async () => {
    const before = Date.now() / 1000;
    const { data, callId } = await chat('what does this cost?', 'customer-e2e-1');
    const [event] = await eventually(async () => (sentOf(callId).length ? sentOf(callId) : undefined));
    expect(event).toMatchObject({
      transaction_id: callId, external_subscription_id: 'customer-e2e-1', code: EVENT_CODE,
      properties: { model: 'gpt-4o', prompt_tokens: data.usage!.prompt_tokens, completion_tokens: data.usage!.completion_tokens, total_tokens: data.usage!.total_tokens },
    });
    expect(event!.properties.response_cost).toBeGreaterThan(0);
    expect(event!.timestamp).toBeGreaterThanOrEqual(Math.floor(before));
    expect(event!.timestamp).toBeLessThanOrEqual(Date.now() / 1000);
    const batch = lago.batches.find((b) => b.events.includes(event!))!;
    expect(batch.headers.authorization).toBe(`Bearer ${LAGO_API_KEY}`);
    // Lago bills by counts: the prompt, the answer and the upstream key go nowhere.
    const body = JSON.stringify(batch.events);
    for (const text of ['what does this cost?', data.choices[0]!.message.content!, UPSTREAM_KEY]) expect(body).not.toContain(text);
  });

  it('drops a call with no end user once (not retried), sends nothing for a failed call, and bills the next call', async () => {
    let nobody = { callId: '' };
    const lines = await consoleLines(async () => {
      nobody = await chat('no user to charge');
      const key = await seedKey(stack.db.url, { userId: 'user-lago-fail' });
      const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
      const failed = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }], user: 'customer-e2e-fail' }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(OpenAI.APIError);
      const next = await chat('after those', 'customer-e2e-2');
      await eventually(async () => (sentOf(next.callId).length ? true : undefined));
      // Past the first retry (2 s): neither was sent, nor sent late.
      await sleep(3000);
    });
    // Dropped, not retried: its line is logged once, where a payload kept for a retry would log it again.
    expect(lines.filter((l) => l.includes('have no customer to charge') && l.includes(nobody.callId))).toHaveLength(1);
    expect(sentOf(nobody.callId)).toEqual([]);
    expect([...lago.events.values()].filter((e) => e.external_subscription_id === 'customer-e2e-fail')).toEqual([]);
  });

  it('sends again what Lago answered 500, once stored', async () => {
    // The batch, then its event alone (a plain 500 may be a duplicate's): Lago is down for both.
    lago.failNext(500, 2);
    const { callId } = await chat('during an outage', 'customer-e2e-3');
    await eventually(async () => (sentOf(callId).length ? true : undefined), 20_000);
    expect(lago.refused).toContain(500);
    await sleep(1500);
    expect(sentOf(callId)).toHaveLength(1);
  });

  it('stores a call once when Lago took its batch but the answer was lost: the resend finds it there and stops', async () => {
    lago.loseNextAnswer();
    const { callId } = await chat('an answer lost on the way', 'customer-e2e-4');
    const refusedBefore = lago.refused.length;
    await eventually(async () => (lago.refused.slice(refusedBefore).includes(422) ? true : undefined), 20_000);
    // Past another retry: the duplicate answer ended the deliveries.
    await sleep(3000);
    expect(lago.refused.slice(refusedBefore).filter((s) => s === 422)).toHaveLength(1);
    expect(sentOf(callId)).toHaveLength(1);
    expect(lago.events.get(`customer-e2e-4\n${callId}`)).toMatchObject({ code: EVENT_CODE });
  });

  it('is tested through /health/services; a refusal answers 503 without the key', async () => {
    const ask = () => fetch(`${stack.url}/health/services?service=lago`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const res = await ask();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'success' });
    expect([...lago.events.values()].some((e) => e.external_subscription_id === 'litellm:/health/services')).toBe(true);
    lago.failNext(503, 2);
    const refused = await ask();
    const text = await refused.text();
    expect(refused.status).toBe(503);
    expect(text).toContain('Lago did not take the test payload');
    expect(text).not.toContain(LAGO_API_KEY);
  });
});
