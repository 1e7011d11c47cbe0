import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakePosthog, startFakePosthog } from '../../../../test/fakes/posthog.ts';
import { buildStandardPayload, type StandardCall } from '../../../../worker/telemetry/standard/payload.ts';
import { deliverSegments, loggerSegment } from '../../../../test/support/logger-delivery.ts';
import type { LoggerSegment } from '../loggers.ts';
import { distinctIdOf, posthogEvent, posthogPoster } from './posthog.ts';

// LiteLLM's PostHog event, from a StandardLoggingPayload: what PostHog's LLM analytics reads ($ai_* properties),
// and whom it counts the call for (distinct_id).

const CALL_ID = '0b5c6a4e-1f2d-4c3b-9a8e-7d6c5b4a3f21';
const payload = {
  id: CALL_ID, trace_id: 'trace-1', call_type: 'acompletion', status: 'success', model: 'gpt-4o', custom_llm_provider: 'openai',
  response_cost: 0.0012, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16, startTime: 100, endTime: 101.5, response_time: 1.5,
  end_user: 'customer-9',
  messages: [{ role: 'user', content: 'hi' }],
  response: { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' } }] },
  metadata: { user_api_key_hash: 'abc', user_api_key_user_id: 'u-key', requester_metadata: { user_id: 'user-123', parent_id: 'parent-1', project: 'blue', headers: { x: 1 } } },
  error_str: null, error_information: null,
};

describe('the posthog event', () => {
  it('is LiteLLM\'s $ai_generation: model, provider, input, output, tokens, cost, latency, trace and span ids, the client\'s keys', async () => {
    expect(await posthogEvent(payload)).toEqual({
      event: '$ai_generation',
      distinct_id: 'user-123',
      uuid: CALL_ID,
      timestamp: '1970-01-01T00:01:41.500Z',
      properties: {
        $ai_model: 'gpt-4o', $ai_provider: 'openai',
        $ai_input: [{ role: 'user', content: 'hi' }], $ai_output_choices: payload.response,
        $ai_input_tokens: 11, $ai_output_tokens: 5, $ai_total_cost_usd: 0.0012, $ai_latency: 1.5,
        $ai_trace_id: 'trace-1', $ai_span_id: CALL_ID, $ai_parent_id: 'parent-1',
        project: 'blue',
      },
    });
  });

  it('marks a failure with $ai_is_error, $ai_error and $ai_http_status, and has no output', async () => {
    const failed = { ...payload, status: 'failure', response: null, completion_tokens: 0, error_str: 'litellm.RateLimitError: slow down', error_information: { error_code: '429' } };
    const { properties } = await posthogEvent(failed) as { properties: Record<string, unknown> };
    expect(properties).toMatchObject({ $ai_is_error: true, $ai_error: 'litellm.RateLimitError: slow down', $ai_http_status: 429, $ai_output_tokens: 0 });
    expect(properties).not.toHaveProperty('$ai_output_choices');
    expect((await posthogEvent(payload) as { properties: object }).properties).not.toHaveProperty('$ai_is_error');
  });

  it('is an $ai_embedding, without output or output tokens, for an embedding call', async () => {
    const event = await posthogEvent({ ...payload, call_type: 'aembedding', response: null });
    expect(event.event).toBe('$ai_embedding');
    expect(event.properties).not.toHaveProperty('$ai_output_tokens');
    expect(event.properties).not.toHaveProperty('$ai_output_choices');
  });

  it('counts the call for the metadata user_id, else the end user, else the trace id', () => {
    expect(distinctIdOf(payload)).toBe('user-123');
    expect(distinctIdOf({ ...payload, metadata: {} })).toBe('customer-9');
    expect(distinctIdOf({ ...payload, metadata: {}, end_user: null })).toBe('trace-1');
    expect(distinctIdOf({ id: 'call-x', metadata: {} })).toBe('call-x');
  });

  it('never lets a client\'s metadata replace a measured property or leak the gateway\'s attribution; drops a cut\'s marker', async () => {
    const forged = { $ai_total_cost_usd: 0, $ai_model: 'cheap', $ai_session_id: 'session-1', user_api_key_hash: 'forged', truncated: true, original_chars: 9000, head: '{"user_id"' };
    const event = await posthogEvent({ ...payload, metadata: { user_api_key_hash: 'abc', requester_metadata: { ...forged, user_id: 'user-7' } } });
    expect(event.properties).toMatchObject({ $ai_total_cost_usd: 0.0012, $ai_model: 'gpt-4o', $ai_session_id: 'session-1' });
    for (const key of ['user_api_key_hash', 'truncated', 'original_chars', 'head', 'user_id']) expect(event.properties).not.toHaveProperty(key);
    expect(event.distinct_id).toBe('user-7');
  });

  it('sends no $ key of the client\'s but $ai_session_id and $ai_span_name: no forged error or tokens, no rewritten person', async () => {
    const forged = {
      $ai_is_error: true, $ai_http_status: 500, $ai_error: 'forged', $ai_output_tokens: 1e9, $ai_parent_id: 'forged', $ai_trace_id: 'forged',
      $set: { email: 'attacker@example.test' }, $set_once: { plan: 'free' }, $unset: ['email'], $groups: { company: 'other' },
      $process_person_profile: true, $ip: '203.0.113.9', $anon_distinct_id: 'someone-else', $geoip_disable: true,
    };
    const requester = { ...forged, user_id: 'victim', $ai_session_id: 'session-1', $ai_span_name: 'summarize', project: 'blue' };
    const event = await posthogEvent({ ...payload, metadata: { requester_metadata: requester } });
    expect(event.distinct_id).toBe('victim');
    expect(event.properties).toMatchObject({ $ai_session_id: 'session-1', $ai_span_name: 'summarize', project: 'blue', $ai_output_tokens: 5, $ai_trace_id: 'trace-1' });
    for (const key of Object.keys(forged).filter((k) => !['$ai_output_tokens', '$ai_trace_id'].includes(k))) expect(event.properties).not.toHaveProperty(key);
    expect(event).not.toHaveProperty('$set');
  });

  it('makes the same UUID for the same call id that is none, so PostHog counts a batch sent twice once', async () => {
    const a = await posthogEvent({ ...payload, id: 'call-not-a-uuid' });
    const b = await posthogEvent({ ...payload, id: 'call-not-a-uuid' });
    const c = await posthogEvent({ ...payload, id: 'call-other' });
    expect(a.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b.uuid).toBe(a.uuid);
    expect(c.uuid).not.toBe(a.uuid);
  });
});

describe('a posthog event with message logging off for posthog', () => {
  it('carries LiteLLM\'s redacted input and output, no client metadata but user_id (the distinct_id) and parent_id', async () => {
    const headers = { get: () => null, forEach: () => undefined };
    const record: StandardCall['record'] = {
      request_id: CALL_ID, call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0.002, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15,
      startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:02.000Z', completionStartTime: null, model: 'gpt-4o', model_id: 'd', model_group: 'gpt-4o',
      custom_llm_provider: 'openai', api_base: '', metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: 'customer-1',
    };
    // The ids kept through the cut for LangSmith, Braintrust and Opik are not PostHog's to send.
    const others = { run_name: 'private run', project_name: 'private project', session_id: 'private session', span_name: 'private span', parent_run_id: 'private-parent', opik: { thread_id: 'private thread' } };
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'a private prompt' }], metadata: { user_id: 'user-42', parent_id: 'parent-42', note: 'private note', ...others } };
    const built = buildStandardPayload({ record, endpoint: 'chat', body, stream: false, headers, outcome: { responseText: 'a private answer' } },
      { turnOffMessageLogging: false, callbackMessageLoggingOff: true, redactUserApiKeyInfo: false, redactMessagesInExceptions: false, contentChars: 0 });
    const event = await posthogEvent(JSON.parse(JSON.stringify(built)) as Record<string, unknown>);
    expect(event.distinct_id).toBe('user-42');
    expect(event.properties).toMatchObject({ $ai_input: [{ role: 'user', content: 'redacted-by-litellm' }], $ai_input_tokens: 10, $ai_output_tokens: 5, $ai_parent_id: 'parent-42' });
    for (const secret of ['a private prompt', 'a private answer', 'private note', 'private']) expect(JSON.stringify(event)).not.toContain(secret);
  });

  it('reads only user_id, parent_id, $ai_session_id and $ai_span_name of a metadata cut for size', async () => {
    const requester = { truncated: true, original_chars: 40_000, head: '{"user_id"', user_id: 'user-8', parent_id: 'parent-8', run_name: 'langsmith run', opik: { thread_id: 't' }, $ai_session_id: 'session-8', $ai_span_name: 'span-8' };
    const event = await posthogEvent({ ...payload, metadata: { requester_metadata: requester } });
    expect(event.distinct_id).toBe('user-8');
    expect(event.properties).toMatchObject({ $ai_parent_id: 'parent-8', $ai_session_id: 'session-8', $ai_span_name: 'span-8' });
    for (const key of ['run_name', 'opik', 'head']) expect(event.properties).not.toHaveProperty(key);
    // The same keys in a metadata sent whole, beside the call's messages, are the client's properties.
    const whole = await posthogEvent({ ...payload, metadata: { requester_metadata: { user_id: 'user-8', run_name: 'langsmith run' } } });
    expect(whole.properties).toMatchObject({ run_name: 'langsmith run' });
  });
});

describe('posthog settings', () => {
  it('needs POSTHOG_API_KEY; POSTHOG_API_URL defaults to LiteLLM\'s https://us.i.posthog.com and must be http(s) without credentials', () => {
    const whereOf = (env: Record<string, string>) => { const t = posthogPoster.target(env); return 'error' in t ? t.error : t.where; };
    expect(whereOf({})).toContain('POSTHOG_API_KEY');
    expect(whereOf({ POSTHOG_API_KEY: 'phc_k' })).toBe('https://us.i.posthog.com');
    expect(whereOf({ POSTHOG_API_KEY: 'phc_k', POSTHOG_API_URL: 'https://eu.i.posthog.com/' })).toBe('https://eu.i.posthog.com');
    expect(whereOf({ POSTHOG_API_KEY: 'phc_k', POSTHOG_API_URL: 'https://u:p@ph.example.test' })).toContain('credentials');
  });
});

// The poster against a fake PostHog on loopback, through the dispatcher.
describe('the posthog poster', () => {
  const API_KEY = 'phc_unitTestProjectKey0123456789';
  let posthog: FakePosthog;
  let env: Record<string, string>;
  beforeAll(async () => {
    posthog = await startFakePosthog({ apiKey: API_KEY });
    env = { POSTHOG_API_KEY: API_KEY, POSTHOG_API_URL: `${posthog.url}/` };
  });
  afterAll(async () => {
    await posthog?.close();
  });

  const encoder = new TextEncoder();
  const segment = (origin: number, ids: string[]) => loggerSegment('posthog', origin, ids.map((id) => ({ ...payload, id })));
  const deliver = (segments: LoggerSegment[], over = env) => deliverSegments(segments, over);
  const spans = () => posthog.events().map((e) => e.properties.$ai_span_id);

  it('posts one batch to /batch/ with the project API key in the body, no auth header', async () => {
    const { retried, reports } = await deliver([segment(0, ['a-1', 'a-2']), segment(1, ['a-3'])]);
    expect({ retried, reports }).toEqual({ retried: [], reports: [] });
    const batch = posthog.batches.at(-1)!;
    expect(batch.events.map((e) => e.properties.$ai_span_id)).toEqual(['a-1', 'a-2', 'a-3']);
    expect(batch.apiKey).toBe(API_KEY);
    expect(batch.headers['content-type']).toBe('application/json');
    expect(batch.headers).not.toHaveProperty('authorization');
  });

  it('retries what PostHog answers 503 or 429, never quoting the key it echoes', async () => {
    for (const status of [503, 429]) {
      posthog.failNext(status, 1, { echo: true });
      const { retried, reports } = await deliver([segment(4, ['b-1'])]);
      expect(retried).toEqual([4]);
      expect(reports).toEqual([expect.stringContaining(`HTTP ${status}`)]);
      expect(reports.join('')).not.toContain(API_KEY);
    }
    expect(spans()).not.toContain('b-1');
  });

  it('reports nothing for a well-formed key of no project: PostHog answers 200 and drops its events out of sight', async () => {
    const other = 'phc_someOtherProjectKey0123456789';
    const { retried, reports } = await deliver([segment(5, ['b-2'])], { ...env, POSTHOG_API_KEY: other });
    expect({ retried, reports }).toEqual({ retried: [], reports: [] });
    expect(posthog.dropped.at(-1)).toMatchObject({ apiKey: other, events: [expect.objectContaining({ properties: expect.objectContaining({ $ai_span_id: 'b-2' }) })] });
    expect(spans()).not.toContain('b-2');
  });

  it('retries and reports a key PostHog refuses by its shape (a personal phx_ key: 401), never quoting it', async () => {
    const personal = 'phx_personalKeyNotForCapture0123456789';
    const { retried, reports } = await deliver([segment(6, ['b-3'])], { ...env, POSTHOG_API_KEY: personal });
    expect(retried).toEqual([6]);
    expect(reports).toEqual([expect.stringMatching(/HTTP 401: API key is not valid: personal_api_key/)]);
    expect(reports.join('')).not.toContain(personal);
    expect([...spans(), ...posthog.dropped.flatMap((b) => b.events.map((e) => e.properties.$ai_span_id))]).not.toContain('b-3');
  });

  it('drops (logs) only the payload PostHog refuses as invalid (400), delivering the others', async () => {
    // No user, end user, trace id or call id: no distinct_id, which PostHog refuses.
    const bad = { ...payload, id: '', end_user: null, trace_id: null, metadata: {} };
    const badSegment: LoggerSegment = { bytes: encoder.encode(JSON.stringify(bad)), events: 1, name: 'posthog', origin: 8 };
    const { retried, reports } = await deliver([segment(7, ['c-1']), badSegment, segment(9, ['c-2'])]);
    expect(retried).toEqual([]);
    expect(reports).toEqual([expect.stringContaining('HTTP 400')]);
    expect(spans()).toEqual(expect.arrayContaining(['c-1', 'c-2']));
  });
});
