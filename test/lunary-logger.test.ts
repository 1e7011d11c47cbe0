import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { lunaryRunId } from '../admin-worker/queues/callbacks/loggers/lunary.ts';
import { type FakeLunary, type LunaryRun, startFakeLunary } from './fakes/lunary.ts';
import { eventually, seedKey } from './support/keys.ts';
import { consoleLines, useLoggerStack } from './support/logger-stack.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's `lunary` callback through the real stack: the admin Worker's callback consumer sends each call as a
// Lunary run (its start event, then its end or error event) to a fake Lunary ingest API on loopback, the public
// key as a Bearer token.

const LUNARY_PUBLIC_KEY = 'lunary-test-public-key-0123456789abcdef';
const UPSTREAM_KEY = 'sk-upstream-openai-lunary-0001';

let lunary: FakeLunary;
let stack: TestStack;

useLoggerStack({
  destination: () => startFakeLunary({ key: LUNARY_PUBLIC_KEY }),
  settings: `litellm_settings:
  callbacks: ["lunary"]
`,
  env: (fake) => ({ FAKE_OPENAI_KEY: UPSTREAM_KEY, LUNARY_PUBLIC_KEY, LUNARY_API_URL: fake.url }),
}, (s) => ({ destination: lunary, stack } = s));

interface Chat { content: string; model?: string; user?: string; metadata?: Record<string, unknown>; headers?: Record<string, string> }

async function chat({ content, model = 'gpt-4o', user, metadata, headers }: Chat) {
  const apiKey = await seedKey(stack.db.url, { userId: 'user-lunary' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const body = { model, messages: [{ role: 'user', content }], temperature: 0.3, ...(user ? { user } : {}), ...(metadata ? { metadata } : {}) };
  try {
    const { data, response } = await client.chat.completions.create(body as never, { headers }).withResponse();
    return { apiKey, data: data as OpenAI.ChatCompletion, callId: response.headers.get('x-litellm-call-id') ?? '' };
  } catch (err) {
    return { apiKey, data: undefined, callId: (err as { headers?: Headers }).headers?.get?.('x-litellm-call-id') ?? '' };
  }
}

/** The call's run once Lunary has both its events. */
async function finishedRun(callId: string, timeoutMs = 20_000): Promise<LunaryRun> {
  const runId = await lunaryRunId(callId, LUNARY_PUBLIC_KEY);
  return eventually(async () => {
    const run = lunary.runs.get(runId);
    return run && run.status !== 'started' ? run : undefined;
  }, timeoutMs);
}

describe('the lunary callback', () => {
  it('loads without a warning', () => {
    expect(stack.warnings.filter((w) => /lunary/i.test(w))).toEqual([]);
  });

  it('logs a call as one llm run: its start (model, prompt, end user, tags, params) and end (answer, tokens), the key as Bearer', async () => {
    const { apiKey, data, callId } = await chat({ content: 'what is lunary?', user: 'customer-lunary-1', metadata: { tags: ['e2e'], team: 'blue' } });
    const run = await finishedRun(callId);
    expect(run.status).toBe('success');
    expect(run.start).toMatchObject({
      event: 'start', type: 'llm', name: 'gpt-4o', userId: 'customer-lunary-1', runtime: 'litellm',
      input: { role: 'user', content: 'what is lunary?' }, params: { temperature: 0.3 }, metadata: { team: 'blue' },
    });
    expect(run.start.tags).toContain('e2e');
    expect(run.start.metadata.user_api_key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(run.end).toMatchObject({
      event: 'end', type: 'llm', runtime: 'litellm', output: { role: 'assistant', content: data!.choices[0]!.message.content },
      tokensUsage: { prompt: data!.usage!.prompt_tokens, completion: data!.usage!.completion_tokens },
    });
    expect(Date.parse(run.start.timestamp)).toBeLessThanOrEqual(Date.parse(run.end!.timestamp));
    const sent = lunary.requests.find((r) => r.events.includes(run.start))!;
    expect(sent.headers.authorization).toBe(`Bearer ${LUNARY_PUBLIC_KEY}`);
    // Neither the caller's key nor the provider's reaches Lunary.
    const body = JSON.stringify(sent.events);
    for (const secret of [apiKey, UPSTREAM_KEY]) expect(body).not.toContain(secret);
  });

  it('logs a failed call as a run ending in an error event', async () => {
    const { data, callId } = await chat({ content: 'this call fails', model: 'unreachable', user: 'customer-lunary-2' });
    expect(data).toBeUndefined();
    const run = await finishedRun(callId);
    expect(run.status).toBe('error');
    expect(run.start).toMatchObject({ event: 'start', type: 'llm', userId: 'customer-lunary-2', input: { role: 'user', content: 'this call fails' } });
    expect(run.error).toMatchObject({ event: 'error', error: { message: expect.any(String) } });
    expect(run.end).toBeUndefined();
  });

  it('sends only a redacted prompt and answer for a call with message redaction on', async () => {
    const { data, callId } = await chat({ content: 'a private prompt', headers: { 'x-litellm-enable-message-redaction': 'true' } });
    const run = await finishedRun(callId);
    expect(run.start.input).toEqual({ role: 'user', content: 'redacted-by-litellm' });
    expect(run.end!.output).toEqual({ role: 'assistant', content: 'redacted-by-litellm' });
    const body = JSON.stringify([run.start, run.end]);
    for (const text of ['a private prompt', data!.choices[0]!.message.content!]) expect(body).not.toContain(text);
  });

  it('sends again what Lunary answered 500, never logging the key it echoes', async () => {
    lunary.failNext(500, 1, { echo: true });
    let callId = '';
    const lines = await consoleLines(async () => {
      ({ callId } = await chat({ content: 'during an outage' }));
      await finishedRun(callId, 30_000);
    });
    expect(lunary.refused).toContain(500);
    const logged = lines.join('\n');
    expect(logged).toMatch(/lunary callback: posting 1 payloads to \S+ failed, retrying: HTTP 500/);
    expect(logged).not.toContain(LUNARY_PUBLIC_KEY);
  });

  it('sends again a batch Lunary took but whose answer was lost: the same run, its second start refused as a duplicate', async () => {
    lunary.dropAnswerNext();
    const { callId } = await chat({ content: 'the answer is lost' });
    const runId = await lunaryRunId(callId, LUNARY_PUBLIC_KEY);
    await eventually(async () => (lunary.duplicates.includes(runId) ? true : undefined), 30_000);
    // A call made after the retry, once logged, shows the consumer has nothing more of the first call to send.
    await finishedRun((await chat({ content: 'a later marker call' })).callId);
    // Two starts sent (the one taken, the one sent again), one refused as a duplicate: one run.
    expect(lunary.requests.flatMap((r) => r.events).filter((e) => e.runId === runId && e.event === 'start')).toHaveLength(2);
    expect(lunary.duplicates.filter((id) => id === runId)).toHaveLength(1);
    expect(lunary.runs.get(runId)).toMatchObject({ status: 'success', start: { input: { role: 'user', content: 'the answer is lost' } } });
  });

  it('is tested through /health/services; a refusal answers 503 without the key', async () => {
    const ask = () => fetch(`${stack.url}/health/services?service=lunary`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    const res = await ask();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'success' });
    expect([...lunary.runs.values()].some((r) => r.start.userId === 'litellm:/health/services' && r.status === 'success')).toBe(true);
    lunary.failNext(429, 1, { echo: true });
    const refused = await ask();
    const text = await refused.text();
    expect(refused.status).toBe(503);
    expect(text).toContain('Lunary did not take the test payload');
    expect(text).not.toContain(LUNARY_PUBLIC_KEY);
    // Answered 200 with the test run's start refused in its results: not sent either.
    lunary.refuseStartsNext(`the run could not be stored (key ${LUNARY_PUBLIC_KEY})`);
    const dropped = await ask();
    const droppedText = await dropped.text();
    expect(dropped.status).toBe(503);
    expect(droppedText).toMatch(/Lunary did not take the test payload .*1 events Lunary refused, dropped: .*the run could not be stored \(key \[redacted\]\)/);
    expect(droppedText).not.toContain(LUNARY_PUBLIC_KEY);
  });
});
