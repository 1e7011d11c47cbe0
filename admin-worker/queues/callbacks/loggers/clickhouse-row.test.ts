import { describe, expect, it } from 'vitest';
import type { TollgateConfig } from '../../../../worker/config/schema.ts';
import { loggerPayloads } from '../../../../worker/telemetry/standard/logger-payloads.ts';
import type { StandardCall } from '../../../../worker/telemetry/standard/payload.ts';
import { standardLoggersOn } from '../../../../worker/telemetry/standard/registry.ts';
import { spendLogRow } from './clickhouse-row.ts';

// LiteLLM's spend_logs row, from a StandardLoggingPayload.

const payload = {
  id: 'call-1', trace_id: 'trace-1', call_type: 'acompletion', status: 'success', model: 'gpt-4o', model_group: 'gpt', model_id: 'dep-1',
  custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1', response_cost: 0.00125, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16,
  startTime: 1700000000.25, endTime: 1700000001.5, completionStartTime: 1700000000.75, cache_hit: null, request_tags: ['prod', 7], end_user: 'cust-9', error_str: null,
  messages: [{ role: 'user', content: 'hi' }],
  response: { id: 'call-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' } }] },
  metadata: {
    user_api_key_hash: 'f'.repeat(64), user_api_key_alias: 'ci-key', user_api_key_team_id: 'team-a', user_api_key_team_alias: 'Team A',
    user_api_key_org_id: 'org-1', user_api_key_user_id: 'user-1', user_api_key_end_user_id: 'cust-9', requester_metadata: { session_id: 'sess-3' },
    usage_object: { prompt_tokens_details: { cached_tokens: 4 }, cache_creation_input_tokens: 2 },
  },
};

describe('the spend_logs row', () => {
  it('is LiteLLM\'s: ids, the key hash, team, user, model, spend, tokens, ISO millisecond times, tags, metadata, messages and answer as JSON text', () => {
    expect(spendLogRow(payload)).toEqual({
      request_id: 'call-1', response_id: 'call-1', call_type: 'acompletion', api_key: 'f'.repeat(64), key_alias: 'ci-key', team_id: 'team-a', team_alias: 'Team A',
      organization_id: 'org-1', user: 'user-1', end_user: 'cust-9', model: 'gpt-4o', model_group: 'gpt', model_id: 'dep-1', custom_llm_provider: 'openai',
      api_base: 'https://api.openai.com/v1', spend: 0.00125, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16, cache_read_tokens: 4, cache_write_tokens: 2,
      start_time: '2023-11-14T22:13:20.250Z', end_time: '2023-11-14T22:13:21.500Z', completion_start_time: '2023-11-14T22:13:20.750Z',
      status: 'success', error_str: '', cache_hit: false, session_id: 'sess-3', trace_id: '', span_id: '', request_tags: ['prod', '7'],
      metadata: JSON.stringify(payload.metadata), messages: '[{"role":"user","content":"hi"}]', response: JSON.stringify(payload.response),
    });
  });

  it('keeps a failure\'s error, strips a cache hit\'s suffix from response_id, and falls back to the trace id for the session', () => {
    const row = spendLogRow({ ...payload, id: 'call-2_cache_hit1700000000.5', status: 'failure', error_str: 'litellm.RateLimitError: slow down', response: null, cache_hit: true, metadata: {} });
    expect(row).toMatchObject({ request_id: 'call-2_cache_hit1700000000.5', response_id: 'call-2', status: 'failure', error_str: 'litellm.RateLimitError: slow down', cache_hit: true, response: '', session_id: 'trace-1', api_key: '', team_id: '' });
  });

  it('leaves messages and response empty when message logging was off (the gateway\'s payload for clickhouse redacted)', () => {
    const config = { litellm_settings: { callbacks: ['clickhouse'] }, general_settings: {}, callback_settings: { clickhouse: { message_logging: false } } } as unknown as TollgateConfig;
    const call: StandardCall = {
      record: {
        request_id: 'call-q', call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0.002, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15,
        startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:02.250Z', completionStartTime: null, model: 'gpt-4o', model_id: 'd',
        model_group: 'gpt', custom_llm_provider: 'openai', api_base: '', metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: null,
      },
      endpoint: 'chat', stream: false, headers: { get: () => null, forEach: () => undefined },
      body: { model: 'gpt', messages: [{ role: 'user', content: 'the prompt text' }] }, outcome: { responseText: 'the answer text' },
    };
    expect(standardLoggersOn(config, true).map((l) => l.name)).toEqual(['clickhouse']);
    const [queued] = loggerPayloads(config, call, standardLoggersOn(config, false));
    const row = spendLogRow(JSON.parse(queued!.fitted!.json));
    expect(row).toMatchObject({ request_id: 'call-q', api_key: 'a'.repeat(64), spend: 0.002, messages: '', response: '', start_time: '2026-11-27T10:00:00.000Z', end_time: '2026-11-27T10:00:02.250Z' });
    for (const text of ['the prompt text', 'the answer text']) expect(JSON.stringify(row)).not.toContain(text);
  });

  it('carries the client\'s W3C traceparent to trace_id / span_id, for clickhouse\'s payload only, and none that is invalid', () => {
    const config = { litellm_settings: { callbacks: ['clickhouse', 'generic_api'] }, general_settings: {}, callback_settings: {} } as unknown as TollgateConfig;
    const headers = (traceparent: string | null) => ({ get: (name: string) => (name === 'traceparent' ? traceparent : null), forEach: () => undefined });
    const call = (traceparent: string | null): StandardCall => ({
      record: {
        request_id: 'call-t', call_type: 'acompletion', api_key: '', spend: 0, prompt_tokens: 1, completion_tokens: 1, total_tokens: 2,
        startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:01.000Z', completionStartTime: null, model: 'gpt-4o', model_id: 'd',
        model_group: 'gpt', custom_llm_provider: 'openai', api_base: '', metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: null,
      },
      endpoint: 'chat', stream: false, headers: headers(traceparent), body: { model: 'gpt', messages: [] }, outcome: { responseText: 'ok' },
    });
    const trace = '4BF92F3577B34DA6A3CE929D0E0E4736';
    const queued = loggerPayloads(config, call(` 00-${trace}-00F067AA0BA902B7-01 `), standardLoggersOn(config, false));
    const [clickhouse, generic] = ['clickhouse', 'generic_api'].map((name) => queued.find((p) => p.logger.name === name));
    expect(spendLogRow(JSON.parse(clickhouse!.fitted!.json))).toMatchObject({ trace_id: trace.toLowerCase(), span_id: '00f067aa0ba902b7' });
    expect(JSON.parse(generic!.fitted!.json).metadata.requester_custom_headers).toBeUndefined();
    for (const bad of [`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-${trace}-${'0'.repeat(16)}-01`, 'garbage', null]) {
      const made = loggerPayloads(config, call(bad), standardLoggersOn(config, false)).find((p) => p.logger.name === 'clickhouse');
      expect(spendLogRow(JSON.parse(made!.fitted!.json))).toMatchObject({ trace_id: '', span_id: '' });
    }
    // A payload from elsewhere, its header named in any case, as LiteLLM's logger reads it.
    const row = spendLogRow({ ...payload, metadata: { requester_custom_headers: { TraceParent: `00-${trace.toLowerCase()}-00f067aa0ba902b7-00` } } });
    expect(row).toMatchObject({ trace_id: trace.toLowerCase(), span_id: '00f067aa0ba902b7' });
  });
});
