/**
 * Test fixtures the span builders' suites (openllmetry.test.ts, openinference.test.ts) share: one finished chat
 * call (with its request headers) and the span options. Imported only by tests, which are typechecked for node:
 * it imports nothing beyond the span types.
 */
import type { SpanCall, SpanOptions } from './spans.ts';

/** Request headers as a call carries them (get and forEach over Headers), from plain values. */
const headers = (values: Record<string, string> = {}) => {
  const h = new Headers(values);
  return { get: (n: string) => h.get(n), forEach: (f: (v: string, n: string) => void) => h.forEach(f) };
};

/** What each suite's default call sets for itself: its metadata and tags, its request body, whether it streamed. */
export interface CallDefaults {
  record: Pick<SpanCall['record'], 'metadata' | 'request_tags'>;
  body: SpanCall['body'];
  stream: boolean;
}

/**
 * A suite's call(): one chat call by a customer's key to gpt-4o, answered 'general kenobi', on the suite's defaults,
 * with `over` replacing whole fields. Each call() gets its own copy, so a test changing one changes no other test.
 */
export function callWith(defaults: CallDefaults): (over?: Partial<SpanCall>) => SpanCall {
  return (over = {}) => {
    const own = structuredClone(defaults);
    return {
      record: {
        request_id: '0b5c6a4e-1f2d-4c3b-9a8e-7d6c5b4a3f21', call_type: 'acompletion', api_key: 'a'.repeat(64), spend: 0.0025,
        prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, startTime: '2026-11-27T10:00:00.000Z', endTime: '2026-11-27T10:00:02.500Z',
        model: 'gpt-4o-2024-08-06', model_id: 'dep-1', model_group: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.example/v1',
        metadata: own.record.metadata, cache_hit: false, request_tags: own.record.request_tags, end_user: 'customer-1', session_id: '',
      },
      endpoint: 'chat',
      body: own.body,
      stream: own.stream,
      headers: headers(),
      outcome: { responseText: 'general kenobi' },
      ...over,
    } as SpanCall;
  };
}

/** Span options with message logging on, nothing redacted and 16 KiB of content, but for `over`. */
export const options = <O extends SpanOptions = SpanOptions>(over: Partial<O> = {}): O => ({
  turnOffMessageLogging: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false, contentChars: 16 * 1024, ...over,
}) as O;
