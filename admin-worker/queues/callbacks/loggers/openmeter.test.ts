import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenMeter, startFakeOpenMeter } from '../../../../test/fakes/openmeter.ts';
import { deliverSegments, loggerSegment } from '../../../../test/support/logger-delivery.ts';
import type { LoggerSegment } from '../loggers.ts';
import type { TollgateConfig } from '../../../../worker/config/schema.ts';
import { contentCharsFor, STANDARD_LOGGERS, standardLoggersWantText } from '../../../../worker/telemetry/standard/registry.ts';
import { openmeterEvent, openmeterPoster, subjectOf } from './openmeter.ts';

// LiteLLM's OpenMeter event, from a StandardLoggingPayload: what OpenMeter's meters read (type, subject, data's
// cost and token counts) and deduplicate on (source, id).

const payload = {
  id: 'call-1', status: 'success', model: 'gpt-4o', response_cost: 0.0012, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16,
  startTime: 1_700_000_000, endTime: 1_700_000_001.5, end_user: 'customer-7',
  metadata: { user_api_key_user_id: 'key-user', user_api_key_hash: 'abc' },
};

describe('the openmeter event', () => {
  it('is LiteLLM\'s CloudEvent: the call id, its end as time, source litellm-proxy, the model, cost and tokens as data', () => {
    expect(openmeterEvent(payload, 'customer-7', 'litellm_tokens')).toEqual({
      specversion: '1.0', type: 'litellm_tokens', id: 'call-1', time: '2023-11-14T22:13:21.500Z', source: 'litellm-proxy', subject: 'customer-7',
      data: { model: 'gpt-4o', cost: 0.0012, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 },
    });
  });

  it('bills the request\'s end user, else the key\'s user; with the request user untrusted, the key\'s user only; none: no subject', () => {
    expect(subjectOf(payload, true)).toBe('customer-7');
    expect(subjectOf({ ...payload, end_user: null }, true)).toBe('key-user');
    expect(subjectOf(payload, false)).toBe('key-user');
    expect(subjectOf({ ...payload, end_user: ' ', metadata: { user_api_key_user_id: null } }, true)).toBeUndefined();
    expect(subjectOf({ ...payload, metadata: {} }, false)).toBeUndefined();
  });
});

describe('the openmeter logger', () => {
  it('is queued successful calls only, with no prompt or answer, and alone never makes a call keep its answer', () => {
    const openmeter = STANDARD_LOGGERS.find((l) => l.name === 'openmeter')!;
    expect(openmeter).toMatchObject({ successOnly: true });
    expect(contentCharsFor(openmeter, false)).toEqual([0]);
    const only = (callbacks: string[]) => ({ litellm_settings: { callbacks }, callback_settings: {} } as unknown as TollgateConfig);
    expect(standardLoggersWantText(only(['openmeter']))).toBe(false);
    expect(standardLoggersWantText(only(['openmeter', 'braintrust']))).toBe(true);
  });
});

describe('the openmeter target', () => {
  it('needs OPENMETER_API_KEY and an http(s) OPENMETER_API_ENDPOINT without credentials', () => {
    expect(openmeterPoster.target({})).toEqual({ error: 'OPENMETER_API_KEY is not set for the admin Worker' });
    expect(openmeterPoster.target({ OPENMETER_API_KEY: 'om-key', OPENMETER_API_ENDPOINT: 'ftp://meter' })).toEqual({ error: 'OPENMETER_API_ENDPOINT is not an http(s) URL' });
    expect(openmeterPoster.target({ OPENMETER_API_KEY: 'om-key', OPENMETER_API_ENDPOINT: 'https://u:p@meter.example' })).toMatchObject({ error: expect.stringContaining('credentials') });
    expect(openmeterPoster.target({ OPENMETER_API_KEY: 'om-key' })).toMatchObject({ where: 'https://openmeter.cloud' });
  });
});

// The poster against a fake OpenMeter on loopback, through the dispatcher: batching, retries and refusals.
describe('the openmeter poster', () => {
  const API_KEY = 'om-unit-api-key-0123456789';
  let openmeter: FakeOpenMeter;
  let env: Record<string, string>;
  beforeAll(async () => {
    openmeter = await startFakeOpenMeter({ apiKey: API_KEY });
    // A trailing slash, as LiteLLM takes it: the events path is appended once.
    env = { OPENMETER_API_KEY: API_KEY, OPENMETER_API_ENDPOINT: `${openmeter.url}/` };
  });
  afterAll(async () => {
    await openmeter?.close();
  });

  const encoder = new TextEncoder();
  const call = (id: string, extra: Record<string, unknown> = {}) => ({ ...payload, id, ...extra });
  const segment = (origin: number, payloads: Record<string, unknown>[]) => loggerSegment('openmeter', origin, payloads);
  const deliver = (segments: LoggerSegment[], over: Record<string, string> = {}) => deliverSegments(segments, { ...env, ...over });
  const eventsOf = (id: string) => openmeter.requests.flatMap((r) => r.events.filter((e) => e.id === id));

  it('sends a batch\'s successful calls as one cloudevents-batch request with the Bearer key; a failed call is not metered', async () => {
    const before = openmeter.requests.length;
    const { reports, retried } = await deliver([segment(0, [call('batch-a'), call('batch-b', { end_user: null })]), segment(1, [call('batch-failed', { status: 'failure' })])]);
    expect({ reports, retried }).toEqual({ reports: [], retried: [] });
    const sent = openmeter.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.contentType).toBe('application/cloudevents-batch+json');
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent[0]!.events.map((e) => [e.id, e.subject])).toEqual([['batch-a', 'customer-7'], ['batch-b', 'key-user']]);
    expect(openmeter.malformed).toEqual([]);
  });

  it('names events by OPENMETER_EVENT_TYPE, and bills the key\'s user when OPENMETER_TRUST_REQUEST_USER is "false"', async () => {
    await deliver([segment(0, [call('typed')])], { OPENMETER_EVENT_TYPE: 'llm_usage', OPENMETER_TRUST_REQUEST_USER: 'FALSE' });
    expect(eventsOf('typed')).toEqual([expect.objectContaining({ type: 'llm_usage', subject: 'key-user' })]);
  });

  it('drops (reports) only the calls with no user to bill, as LiteLLM does, and sends the others; none left: no request', async () => {
    const nobody = { end_user: null, metadata: {} };
    const mixed = await deliver([segment(2, [call('nobody-1', nobody), call('somebody')])]);
    expect(mixed.retried).toEqual([]);
    expect(mixed.reports).toEqual(['openmeter: 1 payloads without a user to bill dropped (OpenMeter needs a subject)']);
    expect(eventsOf('somebody')).toHaveLength(1);
    const before = openmeter.requests.length + openmeter.refused.length;
    const alone = await deliver([segment(3, [call('nobody-2', nobody)])]);
    expect(alone.retried).toEqual([]);
    expect(alone.reports).toHaveLength(1);
    expect(openmeter.requests.length + openmeter.refused.length).toBe(before);
  });

  it('retries a batch OpenMeter answers 503, 429 (retry-after) or 401, and no reason quotes the key it echoes; sent again, it is metered once', async () => {
    for (const [status, retryAfter] of [[503, 0], [429, 30], [401, 0]] as const) {
      openmeter.failNext(status, 1, { echo: true, retryAfter });
      const failed = await deliver([segment(5, [call(`again-${status}`)])]);
      expect(failed.retried).toEqual([5]);
      expect(failed.reports).toEqual([expect.stringContaining(`HTTP ${status}`)]);
      expect(failed.reports.join('')).not.toContain(API_KEY);
      expect(failed.reports.join('')).toContain('Bearer [redacted]');
      const again = await deliver([segment(5, [call(`again-${status}`)])]);
      expect(again).toEqual({ reports: [], retried: [] });
    }
    // A request taken twice (a retry after an answer lost on the way) is still one event: OpenMeter keys on source and id.
    await deliver([segment(6, [call('again-503')])]);
    expect(eventsOf('again-503')).toHaveLength(2);
    expect([...openmeter.metered().values()].filter((e) => e.id === 'again-503')).toHaveLength(1);
  });

  it('splits a batch OpenMeter refuses (400) down to the call it will not take: that one dropped, the rest metered', async () => {
    openmeter.refuseSubject('refused-subject');
    const { reports, retried } = await deliver([segment(7, [call('split-a'), call('split-bad', { end_user: 'refused-subject' })]), segment(8, [call('split-b')])]);
    openmeter.refuseSubject(undefined);
    expect(retried).toEqual([]);
    expect(reports).toEqual([expect.stringContaining('subject refused-subject refused by the test')]);
    expect(eventsOf('split-a')).toHaveLength(1);
    expect(eventsOf('split-b')).toHaveLength(1);
    expect(eventsOf('split-bad')).toEqual([]);
  });

  it('does not call the /health/services test payload sent when the request\'s user is untrusted and no key user is left to bill', async () => {
    // The health check's payload: an end user, no key user.
    const health = encoder.encode(JSON.stringify(call('health', { end_user: 'litellm:/health/services', metadata: { user_api_key_user_id: null } })));
    const untrusted = { ...env, OPENMETER_TRUST_REQUEST_USER: 'false' };
    const before = openmeter.requests.length + openmeter.refused.length;
    const tested = openmeterPoster.target(untrusted, { unsampled: true });
    if ('error' in tested) throw new Error(tested.error);
    expect(await tested.post([{ bytes: health, events: 1 }])).toEqual({
      ok: false, retry: false, reason: 'the test payload has no subject to bill: with OPENMETER_TRUST_REQUEST_USER "false" only a key\'s user is, and it has none',
    });
    expect(openmeter.requests.length + openmeter.refused.length).toBe(before);
    // The consumer's target still drops such a call (no retry gives it a subject); a trusted end user is billed.
    const consumer = openmeterPoster.target(untrusted);
    if ('error' in consumer) throw new Error(consumer.error);
    expect(await consumer.post([{ bytes: health, events: 1 }])).toMatchObject({ ok: true, dropped: expect.stringContaining('1 payloads') });
    const trusted = openmeterPoster.target(env, { unsampled: true });
    if ('error' in trusted) throw new Error(trusted.error);
    expect(await trusted.post([{ bytes: health, events: 1 }])).toEqual({ ok: true });
    expect(eventsOf('health')).toEqual([expect.objectContaining({ subject: 'litellm:/health/services' })]);
  });
});
