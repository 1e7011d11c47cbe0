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

function queued(cfg: TollgateConfig): Map<string, { json: string; payload: Record<string, any> }> {
  const out = new Map<string, { json: string; payload: Record<string, any> }>();
  for (const { logger, fitted } of loggerPayloads(cfg, call, standardLoggersOn(cfg, false))) {
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
});
