import { describe, expect, it, vi } from 'vitest';
import { buildStandardPayload, type StandardCall } from '../../../../worker/telemetry/standard/payload.ts';
import type { LoggerEnv } from './types.ts';
import { langsmithBatchUrl, langsmithPoster, langsmithRun, runUuid, settingsOf } from './langsmith.ts';

const env = (vars: Record<string, string>) => vars as LoggerEnv;
const whereOf = (target: ReturnType<typeof langsmithPoster.target>) => ('error' in target ? target.error : target.where);
const settings = { project: 'litellm-completion', runName: 'LLMRun', samplingRate: 1 };

describe('langsmith settings', () => {
  it('needs LANGSMITH_API_KEY, posts to api.smith.langchain.com unless LANGSMITH_BASE_URL says otherwise', () => {
    expect(whereOf(langsmithPoster.target(env({})))).toContain('LANGSMITH_API_KEY');
    expect(whereOf(langsmithPoster.target(env({ LANGSMITH_API_KEY: 'k' })))).toBe('https://api.smith.langchain.com');
    expect(whereOf(langsmithPoster.target(env({ LANGSMITH_API_KEY: 'k', LANGSMITH_BASE_URL: 'http://127.0.0.1:9/' })))).toBe('http://127.0.0.1:9');
    expect(whereOf(langsmithPoster.target(env({ LANGSMITH_API_KEY: 'k', LANGSMITH_BASE_URL: 'https://u:p@x.test' })))).toContain('credentials');
  });

  it('posts to LiteLLM\'s URL: /api/v1/runs/batch, /api/v1 added only when the base lacks it', () => {
    expect(langsmithBatchUrl(new URL('https://api.smith.langchain.com'))).toBe('https://api.smith.langchain.com/api/v1/runs/batch');
    expect(langsmithBatchUrl(new URL('https://eu.api.smith.langchain.com/api/v1/'))).toBe('https://eu.api.smith.langchain.com/api/v1/runs/batch');
    expect(langsmithBatchUrl(new URL('https://eu.api.smith.langchain.com/api/v1'))).toBe('https://eu.api.smith.langchain.com/api/v1/runs/batch');
    expect(langsmithBatchUrl(new URL('http://127.0.0.1:9/langsmith/'))).toBe('http://127.0.0.1:9/langsmith/api/v1/runs/batch');
  });

  it('takes an unusable LANGSMITH_SAMPLING_RATE as 1 (every run), as LiteLLM, and says so in the log', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      for (const rate of ['2', 'half', '-0.1']) {
        expect(settingsOf(env({ LANGSMITH_SAMPLING_RATE: rate })).samplingRate).toBe(1);
        expect(whereOf(langsmithPoster.target(env({ LANGSMITH_API_KEY: 'k', LANGSMITH_SAMPLING_RATE: rate })))).toBe('https://api.smith.langchain.com');
      }
      expect(warn.mock.calls.flat().join(' ')).toContain('LANGSMITH_SAMPLING_RATE');
      warn.mockClear();
      expect(settingsOf(env({ LANGSMITH_SAMPLING_RATE: '0.25' })).samplingRate).toBe(0.25);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('langsmith runs', () => {
  it('keeps a UUID call id as the run id and derives a stable UUID from any other', () => {
    expect(runUuid('0B9F6D2E-3C4A-4B5D-8E6F-7A8B9C0D1E2F')).toBe('0b9f6d2e-3c4a-4b5d-8e6f-7a8b9c0d1e2f');
    expect(runUuid('chatcmpl-1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(runUuid('chatcmpl-1')).toBe(runUuid('chatcmpl-1'));
    expect(runUuid('chatcmpl-2')).not.toBe(runUuid('chatcmpl-1'));
  });

  it('makes LiteLLM\'s run: a text answer wrapped as an object, a dotted_order from the start time, no client LangSmith key', () => {
    const payload = {
      id: 'call-1', status: 'success', startTime: 1764259200.123456, endTime: 1764259201.5, response: 'hello', request_tags: ['a'],
      metadata: { requester_metadata: { langsmith_api_key: 'client-secret', trace_id: 'not-a-uuid' } }, model_parameters: { langsmith_project: 'p2' },
    };
    const run = langsmithRun(payload, settings);
    expect(run).toMatchObject({ name: 'LLMRun', run_type: 'llm', session_name: 'p2', outputs: { output: 'hello' }, tags: ['a'], start_time: '2025-11-27T16:00:00.123456+00:00' });
    expect(run.trace_id).toBe(run.id);
    expect(run.dotted_order).toBe(`20251127T160000123456Z${String(run.id)}`);
    expect(JSON.stringify(run)).not.toContain('client-secret');
  });
});

const ORDER_ROOT = '20251127T160000000000Z1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const RUN_ID = '0b9f6d2e-3c4a-4b5d-8e6f-7a8b9c0d1e2f';

describe('langsmith dotted_order', () => {
  it('keeps a well-formed client dotted_order whole, however deep, and takes its root as the trace', () => {
    const parents = Array.from({ length: 12 }, (_, i) => `20251127T16000${String(i).padStart(7, '0')}Z${runUuid(`p${i}`)}`);
    const order = [ORDER_ROOT, ...parents, `20251127T160001000000Z${RUN_ID}`].join('.');
    expect(order.length).toBeGreaterThan(512);
    const run = langsmithRun({ id: 'c', startTime: 1764259200, metadata: { requester_metadata: { run_id: RUN_ID, dotted_order: order } } }, settings);
    expect(run.dotted_order).toBe(order);
    expect(run.trace_id).toBe('1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f');
  });

  it('ignores a malformed dotted_order, or one not ending in the run\'s id, and makes its own', () => {
    for (const bad of ['not-an-order', `${ORDER_ROOT}.garbage`, ORDER_ROOT, `${ORDER_ROOT}.20251127T160001000000Z${RUN_ID}x`]) {
      const run = langsmithRun({ id: 'c', startTime: 1764259200, metadata: { requester_metadata: { run_id: RUN_ID, dotted_order: bad } } }, settings);
      expect(run.dotted_order).toBe(`20251127T160000000000Z${RUN_ID}`);
      expect(run.trace_id).toBe(RUN_ID);
    }
  });
});

describe('langsmith runs from a cut payload', () => {
  const ids = { run_name: 'nightly-eval', project_name: 'eval-project', run_id: RUN_ID, trace_id: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', parent_run_id: '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a', session_id: 'sess-9' };
  const dotted_order = `${ORDER_ROOT}.20251127T160001000000Z${RUN_ID}`;
  const call = (metadata: Record<string, unknown>): StandardCall => ({
    record: {
      request_id: 'call-cut', call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0, prompt_tokens: 1, completion_tokens: 1, total_tokens: 2,
      startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:01.000Z', completionStartTime: null, model: 'gpt-4o', model_id: 'd',
      model_group: 'gpt-4o', custom_llm_provider: 'openai', api_base: '', metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: null,
    },
    endpoint: 'chat', stream: false, outcome: { responseText: 'secret answer' },
    body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'secret prompt' }], metadata },
    headers: { get: () => null, forEach: () => {} },
  });
  const options = { turnOffMessageLogging: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false };

  it('keeps the request\'s run name, project, ids and dotted_order under message_logging: false, and no other metadata', () => {
    const payload = buildStandardPayload(call({ ...ids, dotted_order, note: 'private words' }), { ...options, callbackMessageLoggingOff: true, contentChars: 0 });
    const text = JSON.stringify(payload);
    for (const secret of ['private words', 'secret prompt', 'secret answer']) expect(text).not.toContain(secret);
    const run = langsmithRun(JSON.parse(text) as Record<string, unknown>, settings);
    expect(run).toMatchObject({ id: RUN_ID, name: 'nightly-eval', session_name: 'eval-project', trace_id: ids.trace_id, parent_run_id: ids.parent_run_id, session_id: 'sess-9', dotted_order });
  });

  it('keeps them when the client\'s metadata is too large for the payload and is cut', () => {
    const payload = buildStandardPayload(call({ ...ids, dotted_order, blob: 'x'.repeat(5000) }), { ...options, callbackMessageLoggingOff: false, contentChars: 2048 });
    const requester = (payload.metadata as Record<string, any>).requester_metadata;
    expect(requester).toMatchObject({ truncated: true, run_name: 'nightly-eval' });
    const run = langsmithRun(JSON.parse(JSON.stringify(payload)) as Record<string, unknown>, settings);
    expect(run).toMatchObject({ id: RUN_ID, name: 'nightly-eval', session_name: 'eval-project', trace_id: ids.trace_id, parent_run_id: ids.parent_run_id, dotted_order });
  });
});
