import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeLlmObs, LLM_OBS_MAX_BODY_BYTES, LLM_OBS_PATH, startFakeLlmObs } from '../../../../test/fakes/datadog-llm-obs.ts';
import { deliverSegments, loggerSegment } from '../../../../test/support/logger-delivery.ts';
import type { LoggerSegment } from '../loggers.ts';
import { datadogLlmObsPoster } from './datadog-llm-obs.ts';

// The datadog_llm_observability poster against a fake intake on loopback, through the dispatcher: where the spans
// go, the request Datadog gets, and what becomes of a batch it refuses, one too large, or spans too old for it.

const API_KEY = 'dd-llmobs-unit-key-0123456789abcdef';
const now = () => Date.now() / 1000;

/** A call as the gateway queues it, `agoSeconds` after it started. */
const call = (id: string, agoSeconds = 2) => ({
  id, trace_id: id, call_type: 'acompletion', status: 'success', model: 'gpt-4o', custom_llm_provider: 'openai', response_cost: 0.001,
  prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, startTime: now() - agoSeconds, endTime: now() - agoSeconds + 1, request_tags: [],
  messages: [{ role: 'user', content: 'hi' }],
  response: { choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }] },
  metadata: { user_api_key_hash: 'abc', requester_metadata: {} },
});

const segment = (origin: number, payloads: Record<string, unknown>[]) => loggerSegment('datadog_llm_observability', origin, payloads);
const deliver = (segments: LoggerSegment[], env: Record<string, string>) => deliverSegments(segments, env);

describe('the datadog_llm_observability destination', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is api.<DD_SITE>\'s span intake, LiteLLM\'s path, with the key', async () => {
    const sent: { url: string; key: string | null }[] = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      sent.push({ url, key: new Headers(init.headers).get('dd-api-key') });
      return new Response('{}', { status: 202 });
    });
    const { retried } = await deliver([segment(0, [call('site-1')])], { DD_API_KEY: API_KEY, DD_SITE: 'us5.datadoghq.com' });
    expect(retried).toEqual([]);
    expect(sent).toEqual([{ url: 'https://api.us5.datadoghq.com/api/intake/llm-obs/v1/trace/spans', key: API_KEY }]);
  });

  it('needs DD_API_KEY and DD_SITE for the intake, neither for an Agent', () => {
    const why = (env: Record<string, string>) => {
      const target = datadogLlmObsPoster.target(env);
      return 'error' in target ? target.error : 'ok';
    };
    expect(why({ DD_API_KEY: API_KEY })).toMatch(/DD_SITE is not set/);
    expect(why({ DD_SITE: 'datadoghq.com' })).toMatch(/DD_API_KEY is not set/);
    expect(why({ LITELLM_DD_AGENT_HOST: 'agent' })).toBe('ok');
  });

  it('is an Agent\'s LITELLM_DD_LLM_OBS_PORT at LiteLLM\'s path, sent no key when none is set', async () => {
    const agent = await startFakeLlmObs({ apiKey: API_KEY, keyless: true });
    try {
      const port = new URL(agent.url).port;
      const { retried } = await deliver([segment(0, [call('agent-1')])], { LITELLM_DD_AGENT_HOST: '127.0.0.1', LITELLM_DD_LLM_OBS_PORT: port });
      expect(retried).toEqual([]);
      expect(agent.requests.map((r) => ({ path: r.path, key: r.headers['dd-api-key'], spans: r.spans.map((s) => s.span_id) })))
        .toEqual([{ path: LLM_OBS_PATH, key: undefined, spans: ['agent-1'] }]);
      expect(agent.malformed).toEqual([]);
    } finally {
      await agent.close();
    }
  });
});

describe('the datadog_llm_observability poster', () => {
  let intake: FakeLlmObs;
  let env: Record<string, string>;
  beforeAll(async () => {
    intake = await startFakeLlmObs({ apiKey: API_KEY });
    env = { DD_API_KEY: API_KEY, DD_BASE_URL: `${intake.url}/`, DD_SERVICE: 'gw', DD_LLMOBS_ML_APP: 'my-llm-app' };
  });
  afterAll(async () => {
    await intake?.close();
  });

  const spansOf = (id: string) => intake.spans().filter((s) => s.span_id === id);

  it('sends a batch as one request of spans to DD_BASE_URL + LiteLLM\'s path, with the key, ml_app from DD_LLMOBS_ML_APP (else DD_SERVICE) and the base tags', async () => {
    const { retried, reports } = await deliver([segment(0, [call('a-1'), call('a-2')]), segment(1, [call('a-3')])], env);
    expect({ retried, reports }).toEqual({ retried: [], reports: [] });
    const request = intake.requests.at(-1)!;
    expect(request.spans.map((s) => s.span_id)).toEqual(['a-1', 'a-2', 'a-3']);
    expect(request).toMatchObject({ path: LLM_OBS_PATH, mlApp: 'my-llm-app', tags: ['env:unknown', 'service:gw', 'version:unknown', 'HOSTNAME:', 'POD_NAME:unknown'] });
    expect(request.headers['dd-api-key']).toBe(API_KEY);
    await deliver([segment(2, [call('b-1')])], { ...env, DD_LLMOBS_ML_APP: '' });
    expect(intake.requests.at(-1)!.mlApp).toBe('gw');
  });

  it('retries what the intake answers 429 or 503, or refuses the key for (403), and never quotes the key it echoes', async () => {
    for (const [status, opts] of [[429, { retryAfter: 2 }], [503, { echo: true }]] as const) {
      intake.failNext(status, 1, opts);
      const { retried, reports } = await deliver([segment(5, [call(`fail-${status}`)])], env);
      expect(retried).toEqual([5]);
      expect(reports).toEqual([expect.stringContaining(`HTTP ${status}`)]);
      expect(reports.join('')).not.toContain(API_KEY);
    }
    expect(intake.refused.slice(-2)).toEqual([429, 503]);
    expect((await deliver([segment(6, [call('wrong-key')])], { ...env, DD_API_KEY: 'not-the-key-000' })).retried).toEqual([6]);
    expect(spansOf('wrong-key')).toEqual([]);
  });

  it('drops only the span the intake refuses (400) and delivers the rest of the batch, nothing retried', async () => {
    intake.rejectSpans((s) => s.span_id === 'bad-1');
    const { retried, reports } = await deliver([segment(7, [call('good-1'), call('bad-1'), call('good-2')])], env);
    intake.rejectSpans(undefined);
    expect(retried).toEqual([]);
    expect(reports).toEqual([expect.stringContaining('HTTP 400')]);
    expect(spansOf('good-1')).toHaveLength(1);
    expect(spansOf('good-2')).toHaveLength(1);
    expect(spansOf('bad-1')).toEqual([]);
    expect(intake.malformed).toEqual([]);
  });

  it('splits a batch whose spans come to over 5 MB (tool-call arguments are repeated in a span) before the intake sees it: all delivered', async () => {
    // ~12 KB a payload, grouped 300 to a request by the estimate; each span carries its 10 KB of arguments twice.
    const withTools = (id: string) => ({
      ...call(id),
      messages: [{ role: 'assistant', content: null, tool_calls: [{ id: `t-${id}`, type: 'function', function: { name: 'f', arguments: 'a'.repeat(10_000) } }] }],
    });
    const ids = Array.from({ length: 300 }, (_, i) => `big-${i}`);
    const before = intake.requests.length;
    const { retried, reports } = await deliver([0, 1, 2].map((k) => segment(10 + k, ids.slice(k * 100, k * 100 + 100).map(withTools))), env);
    expect({ retried, reports }).toEqual({ retried: [], reports: [] });
    const requests = intake.requests.slice(before);
    expect(requests.flatMap((r) => r.spans.map((s) => s.span_id)).sort()).toEqual([...ids].sort());
    expect(requests.length).toBeGreaterThan(1);
    expect(Math.max(...requests.map((r) => r.bytes))).toBeLessThanOrEqual(LLM_OBS_MAX_BODY_BYTES);
    expect(intake.refused).not.toContain(413);
  });

  it('drops, with a report, spans started over 24 hours ago (the intake takes none older) and sends the rest; a batch of only those sends nothing', async () => {
    const day = 24 * 60 * 60;
    const { retried, reports } = await deliver([segment(20, [call('fresh-1'), call('stale-1', day + 60)])], env);
    expect(retried).toEqual([]);
    expect(reports).toEqual([expect.stringContaining('1 spans over 24 hours old dropped')]);
    expect(spansOf('fresh-1')).toHaveLength(1);
    expect(spansOf('stale-1')).toEqual([]);
    const before = intake.requests.length;
    expect((await deliver([segment(21, [call('stale-2', day + 60)])], env)).retried).toEqual([]);
    expect(intake.requests.length).toBe(before);
    // Just under a day old is still taken.
    await deliver([segment(22, [call('day-old', day - 60)])], env);
    expect(spansOf('day-old')).toHaveLength(1);
  });
});
