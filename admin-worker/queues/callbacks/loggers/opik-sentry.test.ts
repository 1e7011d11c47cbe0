import { afterEach, describe, expect, it, vi } from 'vitest';
import { contentCharsFor, STANDARD_LOGGERS, standardLoggersOn, standardLoggersWantText } from '../../../../worker/telemetry/standard/registry.ts';
import { buildStandardPayload, type StandardCall } from '../../../../worker/telemetry/standard/payload.ts';
import type { TollgateConfig } from '../../../../worker/config/schema.ts';
import { opikPoster, opikRows, uuid7For } from './opik.ts';
import { parseDsn, sentryEvent, sentryPoster, sentrySampled } from './sentry.ts';
import { secretsOf } from './secrets.ts';
import type { LoggerEnv } from './types.ts';

const env = (vars: Record<string, string>) => vars as LoggerEnv;
const encoder = new TextEncoder();
const segment = (payloads: object[]) => ({ bytes: encoder.encode(payloads.map((p) => JSON.stringify(p)).join(',')), events: payloads.length });
const failed = {
  id: 'call-1', status: 'failure', model: 'gpt-4o', model_group: 'gpt-4o', call_type: 'acompletion', endTime: 1_700_000_000, messages: [{ role: 'user', content: 'the prompt' }],
  error_str: 'Connection error.', error_information: { error_class: 'APIConnectionError', error_message: 'Connection error.', error_code: '500', llm_provider: 'openai' },
  metadata: { user_api_key_alias: 'alias-1', user_api_key_team_alias: 'team-a', user_api_key_hash: 'hash-1' },
};

afterEach(() => vi.unstubAllGlobals());

describe('sentry', () => {
  it('derives the envelope URL and public key from a DSN, with a path prefix, and refuses what is no DSN', () => {
    expect(parseDsn('https://pk123@o1.ingest.sentry.io/42')).toEqual({ url: 'https://o1.ingest.sentry.io/api/42/envelope/', publicKey: 'pk123' });
    expect(parseDsn('https://pk123@sentry.example.test/prefix/7')).toEqual({ url: 'https://sentry.example.test/prefix/api/7/envelope/', publicKey: 'pk123' });
    expect(parseDsn('https://sentry.example.test/7')).toEqual({ error: expect.stringContaining('not a DSN') });
    expect(parseDsn('nope')).toEqual({ error: 'SENTRY_DSN is not a URL' });
    expect(sentryPoster.target(env({}))).toEqual({ error: 'SENTRY_DSN is not set for the admin Worker' });
    expect(sentryPoster.target(env({ SENTRY_DSN: 'https://pk@h.test/1', SENTRY_API_SAMPLE_RATE: '2' }))).toEqual({ error: expect.stringContaining('SENTRY_API_SAMPLE_RATE') });
  });

  it('makes an error event with the same event id for the same call; who called only with SENTRY_SEND_DEFAULT_PII', () => {
    const event = sentryEvent(failed, 'production');
    expect(event).toMatchObject({
      level: 'error', environment: 'production', exception: { values: [{ type: 'APIConnectionError', value: 'Connection error.' }] },
      tags: { model: 'gpt-4o', user_api_key_alias: 'alias-1', user_api_key_team_alias: 'team-a', status_code: '500', llm_provider: 'openai' },
      extra: { litellm_call_id: 'call-1' },
    });
    expect(event.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(sentryEvent(failed, 'x').event_id).toBe(event.event_id);
    const withUser = { ...failed, metadata: { ...failed.metadata, user_api_key_user_id: 'user-7', user_api_key_end_user_id: 'customer-9' } };
    const plain = JSON.stringify(sentryEvent(withUser, 'production'));
    for (const pii of ['hash-1', 'user-7', 'customer-9']) expect(plain).not.toContain(pii);
    expect(sentryEvent(withUser, 'production', true).extra).toMatchObject({ user_api_key_hash: 'hash-1', user_api_key_user_id: 'user-7', end_user: 'customer-9' });
  });

  it('reads SENTRY_SEND_DEFAULT_PII=true as the opt-in for the caller\'s ids', async () => {
    const bodies: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (_url: string, init: RequestInit) => (bodies.push(new TextDecoder().decode(init.body as Uint8Array)), new Response('{}', { status: 200 }))));
    for (const pii of [undefined, 'true']) {
      const target = sentryPoster.target(env({ SENTRY_DSN: 'https://pk@h.test/1', ...(pii ? { SENTRY_SEND_DEFAULT_PII: pii } : {}) }));
      if ('error' in target) throw new Error(target.error);
      expect(await target.post([segment([failed])])).toEqual({ ok: true });
    }
    expect(bodies[0]).not.toContain('hash-1');
    expect(bodies[1]).toContain('hash-1');
  });

  it('is queued a failed call without its prompt (the error message kept), and never makes a call keep its answer', () => {
    const sentry = STANDARD_LOGGERS.find((l) => l.name === 'sentry')!;
    const call: StandardCall = {
      record: {
        request_id: 'call-9', call_type: 'acompletion', api_key: 'h'.repeat(64), spend: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0,
        startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:01.000Z', completionStartTime: null, model: 'gpt-4o', model_id: '', model_group: 'gpt-4o',
        custom_llm_provider: 'openai', api_base: '', metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: null,
      } as unknown as StandardCall['record'],
      endpoint: 'chat', body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'the prompt' }], temperature: 0.5 }, stream: false,
      headers: { get: () => null, forEach: () => undefined } as unknown as StandardCall['headers'],
      error: { message: 'upstream said no', type: 'api_error', status: 502 },
    };
    const base = { turnOffMessageLogging: false, callbackMessageLoggingOff: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false };
    const sizes = contentCharsFor(sentry, false);
    const payload = buildStandardPayload(call, { ...base, contentChars: sizes[0]! });
    expect(JSON.stringify(payload)).not.toContain('the prompt');
    expect(JSON.stringify(sentryEvent(payload, 'production'))).toContain('upstream said no');
    const only = (list: Record<string, string[]>) => ({ litellm_settings: list, callback_settings: {} } as unknown as TollgateConfig);
    expect(standardLoggersWantText(only({ failure_callback: ['sentry'] }))).toBe(false);
    expect(standardLoggersWantText(only({ callbacks: ['sentry'] }))).toBe(false);
    expect(standardLoggersWantText(only({ callbacks: ['sentry', 'opik'] }))).toBe(true);
  });

  it('sends nothing at SENTRY_API_SAMPLE_RATE 0, but the health check is sent whatever the rate', async () => {
    const fetch = vi.fn(async () => new Response('{}', { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    const vars = env({ SENTRY_DSN: 'https://pk@h.test/1', SENTRY_API_SAMPLE_RATE: '0' });
    const target = sentryPoster.target(vars);
    if ('error' in target) throw new Error(target.error);
    expect(await target.post([segment([failed])])).toEqual({ ok: true });
    expect(fetch).not.toHaveBeenCalled();
    const unsampled = sentryPoster.target(vars, { unsampled: true });
    if ('error' in unsampled) throw new Error(unsampled.error);
    expect(await unsampled.post([segment([failed])])).toEqual({ ok: true });
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('samples by the event id: a call picked at SENTRY_API_SAMPLE_RATE 0.5 and refused is picked again on retry', async () => {
    const statuses: number[] = [];
    const fetch = vi.fn(async () => new Response('{}', { status: statuses.shift() ?? 200 }));
    vi.stubGlobal('fetch', fetch);
    const target = sentryPoster.target(env({ SENTRY_DSN: 'https://pk@h.test/1', SENTRY_API_SAMPLE_RATE: '0.5' }));
    if ('error' in target) throw new Error(target.error);
    const calls = Array.from({ length: 40 }, (_, i) => ({ ...failed, id: `call-${i}` }));
    const picked = calls.filter((c) => sentrySampled(sentryEvent(c, 'production').event_id as string, 0.5));
    expect(picked.length).toBeGreaterThan(5);
    expect(picked.length).toBeLessThan(35);
    for (const call of picked) {
      statuses.push(503);
      expect((await target.post([segment([call])])).ok).toBe(false);
      for (let attempt = 0; attempt < 3; attempt++) {
        const before = fetch.mock.calls.length;
        expect(await target.post([segment([call])])).toEqual({ ok: true });
        expect(fetch.mock.calls.length).toBe(before + 1);
      }
    }
  });

  it('scrubs the DSN and its public key', () => {
    const secrets = secretsOf(env({ SENTRY_DSN: 'https://pubkey-0123@h.test/1' }), undefined);
    expect(secrets).toContain('pubkey-0123');
    expect(secrets).toContain('https://pubkey-0123@h.test/1');
  });

  it('is sent failures only, whatever list names it; opik successes only', () => {
    const config = { litellm_settings: { callbacks: ['sentry', 'opik'] } } as unknown as TollgateConfig;
    expect(standardLoggersOn(config, false).map((l) => l.name)).toEqual(['opik']);
    expect(standardLoggersOn(config, true).map((l) => l.name)).toEqual(['sentry']);
  });
});

describe('opik', () => {
  const ok = { id: 'call-2', status: 'success', startTime: 1_700_000_000.5, endTime: 1_700_000_001, model: 'gpt-4o', custom_llm_provider: 'openai', prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, response_cost: 0.01, messages: [], response: { object: 'chat.completion', model: 'gpt-4o-2024', created: 5 }, metadata: { requester_metadata: {} } };

  it('makes stable UUIDv7 ids from the call id, with the call start as their time', () => {
    const id = uuid7For('call-2', 'trace', 1_700_000_000.5);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(1_700_000_000_500);
    expect(uuid7For('call-2', 'trace', 1_700_000_000.5)).toBe(id);
    expect(uuid7For('call-3', 'trace', 1_700_000_000.5)).not.toBe(id);
  });

  it('joins the trace current_span_data names (no trace made) and takes the metadata project', () => {
    const T = uuid7For('other', 'trace', 1_700_000_000);
    const S = uuid7For('other', 'span', 1_700_000_000);
    const rows = opikRows({ ...ok, metadata: { requester_metadata: { opik: { project_name: 'p2', current_span_data: { trace_id: T, id: S } } } } }, 'Default Project');
    expect(rows.trace).toBeUndefined();
    expect(rows.span).toMatchObject({ trace_id: T, parent_span_id: S, project_name: 'p2', name: 'gpt-4o-2024_chat.completion_5', usage: { total_tokens: 5 } });
    expect(opikRows(ok, 'Default Project').trace).toMatchObject({ project_name: 'Default Project', name: 'chat.completion', tags: ['openai'] });
  });

  it('sends the default project for a blank project_name, and leaves out blank or overlong thread ids and tags', () => {
    for (const project_name of [' ', '', 'x'.repeat(257), 7]) {
      const rows = opikRows({ ...ok, metadata: { requester_metadata: { opik: { project_name, thread_id: '  ', tags: [' ', 'kept', 'y'.repeat(300)] } } } }, 'Default Project');
      expect(rows.trace).toMatchObject({ project_name: 'Default Project', tags: ['kept', 'openai'] });
      expect(rows.trace).not.toHaveProperty('thread_id');
      expect(rows.span).toMatchObject({ project_name: 'Default Project' });
    }
  });

  it('ignores current_span_data ids Opik would refuse (not UUIDv7): the call makes its own trace', () => {
    const own = opikRows(ok, 'Default Project');
    for (const current of [{ trace_id: 'x', id: 'y' }, { trace_id: '0f8fad5b-d9cb-469f-a165-70867728950e', id: '7c9e6679-7425-40de-944b-e07fc1f90ae7' }]) {
      const rows = opikRows({ ...ok, metadata: { requester_metadata: { opik: { current_span_data: current } } } }, 'Default Project');
      expect(rows.trace).toMatchObject({ id: own.trace!.id });
      expect(rows.span.trace_id).toBe(own.trace!.id);
      expect(rows.span).not.toHaveProperty('parent_span_id');
    }
  });

  it('needs OPIK_API_KEY for Comet\'s cloud (an override pointing there too), not for a self-hosted URL', () => {
    expect(opikPoster.target(env({}))).toEqual({ error: 'OPIK_API_KEY is not set for the admin Worker' });
    expect(opikPoster.target(env({ OPIK_URL_OVERRIDE: 'https://www.comet.com/opik/api' }))).toEqual({ error: 'OPIK_API_KEY is not set for the admin Worker' });
    expect(opikPoster.target(env({ OPIK_URL_OVERRIDE: 'https://comet.com/opik/api' }))).toEqual({ error: 'OPIK_API_KEY is not set for the admin Worker' });
    expect('error' in opikPoster.target(env({ OPIK_URL_OVERRIDE: 'https://opik.notcomet.com/api' }))).toBe(false);
    expect('error' in opikPoster.target(env({ OPIK_URL_OVERRIDE: 'http://localhost:5173/api' }))).toBe(false);
  });
});
