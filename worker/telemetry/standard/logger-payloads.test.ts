import { describe, expect, it } from 'vitest';
import type { TollgateConfig } from '../../config/schema.ts';
import { loggerPayloads } from './logger-payloads.ts';
import type { StandardCall } from './payload.ts';
import { standardLoggersOn } from './registry.ts';

// What each standard logger of a call has queued for it: a billing logger (lago, openmeter) counts only, the others
// the prompt and answer as message logging allows, with one serialisation shared by loggers alike.

const config = (callbacks: string[], callbackSettings: Record<string, { message_logging?: boolean }> = {}) =>
  ({ litellm_settings: { callbacks }, general_settings: {}, callback_settings: callbackSettings } as unknown as TollgateConfig);

const headers = { get: () => null, forEach: () => undefined };
const call: StandardCall = {
  record: {
    request_id: 'call-1', call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0.002, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15,
    startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:02.000Z', completionStartTime: null, model: 'gpt-4o', model_id: 'd', model_group: 'gpt-4o',
    custom_llm_provider: 'openai', api_base: '', metadata: {}, cache_hit: false, cache_key: null, request_tags: [], end_user: 'customer-1',
  },
  endpoint: 'chat',
  body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'the prompt text' }], metadata: { note: 'a client note' } },
  stream: false,
  headers,
  outcome: { responseText: 'the answer text' },
};

function queued(cfg: TollgateConfig, event: StandardCall = call): Map<string, { json: string; payload: Record<string, any> }> {
  const out = new Map<string, { json: string; payload: Record<string, any> }>();
  for (const { logger, fitted } of loggerPayloads(cfg, event, standardLoggersOn(cfg, false))) {
    if (!fitted) throw new Error(`${logger.name}: no payload`);
    out.set(logger.name, { json: fitted.json, payload: JSON.parse(fitted.json) });
  }
  return out;
}

describe('the payload each standard logger gets', () => {
  it('is counts only for lago and openmeter (no messages, no answer, not its length), the text for generic_api beside them', () => {
    const made = queued(config(['lago', 'generic_api', 'openmeter']));
    expect([...made.keys()]).toEqual(['generic_api', 'openmeter', 'lago']);
    for (const name of ['lago', 'openmeter']) {
      const { json, payload } = made.get(name)!;
      expect([payload.messages, payload.response]).toEqual([null, null]);
      expect(json).not.toMatch(/the prompt text|the answer text|redacted-by-litellm|\(truncated, /);
      expect(payload).toMatchObject({ id: 'call-1', response_cost: 0.002, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, end_user: 'customer-1' });
    }
    const generic = made.get('generic_api')!;
    expect(generic.payload.messages).toEqual([{ role: 'user', content: 'the prompt text' }]);
    expect(generic.json).toContain('the answer text');
    expect(generic.payload.metadata.requester_metadata).toEqual({ note: 'a client note' });
    // The two billing loggers share one serialisation; the text logger has its own.
    expect(made.get('lago')!.json).toBe(made.get('openmeter')!.json);
  });

  it('gives a logger with message logging off the redacted prompt, and a counts-only one with the same setting none', () => {
    const made = queued(config(['lago', 'posthog'], { posthog: { message_logging: false }, lago: { message_logging: false } }));
    expect(made.get('posthog')!.payload.messages).toEqual([{ role: 'user', content: 'redacted-by-litellm' }]);
    expect(made.get('lago')!.payload.messages).toBeNull();
  });

  it('shares one serialisation between clickhouse and another logger unless the request has a traceparent, which only clickhouse gets', () => {
    const cfg = config(['clickhouse', 'generic_api']);
    // One payload object for both (made and serialised once), not two equal ones.
    const shared = (event: StandardCall) => {
      const [first, second] = loggerPayloads(cfg, event, standardLoggersOn(cfg, false)).map((p) => p.fitted);
      return first !== undefined && first === second;
    };
    expect(shared(call)).toBe(true);
    expect(queued(cfg).get('clickhouse')!.payload.metadata.requester_custom_headers).toBeUndefined();
    // An invalid traceparent (all-zero trace id) is no trace: still one payload.
    const zero = { get: (name: string) => (name === 'traceparent' ? `00-${'0'.repeat(32)}-b7ad6b7169203331-01` : null), forEach: () => undefined };
    expect(shared({ ...call, headers: zero })).toBe(true);

    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const tracedCall = { ...call, headers: { get: (name: string) => (name === 'traceparent' ? traceparent : null), forEach: () => undefined } };
    expect(shared(tracedCall)).toBe(false);
    const traced = queued(cfg, tracedCall);
    expect(traced.get('clickhouse')!.payload.metadata.requester_custom_headers).toEqual({ traceparent });
    expect(traced.get('generic_api')!.payload.metadata.requester_custom_headers).toBeUndefined();
    expect(traced.get('generic_api')!.json).not.toContain('0af7651916cd43dd8448eb211c80319c');
  });
});
