/**
 * The callback consumer, called directly (in Node) with a fake MessageBatch,
 * posting to the fake Langfuse: the gateway's messages (v2) are forwarded as
 * their bytes, older v1 messages still arrive, and a per-event failure in
 * Langfuse's 207 retries only the message that held the event. The path from
 * the gateway through the real Queue is in langfuse and langfuse-delivery.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildLangfuseEvents, type LangfuseCall } from '../worker/telemetry/langfuse/events.ts';
import { callbackMessageText } from '../worker/telemetry/langfuse/message.ts';
import type { CallbackItem, IngestionEvent } from '../worker/telemetry/langfuse/types.ts';
import { type FakeLangfuse, startFakeLangfuse } from './fakes/langfuse.ts';
import { consume as consumeBatch, type FakeBatch, fakeBatch, loadConsumer, outcomes } from './support/callback-consumer.ts';

type Env = { LANGFUSE_PUBLIC_KEY: string; LANGFUSE_SECRET_KEY: string; LANGFUSE_HOST: string };
// The bundler's alias for the compiled config.yaml, which the consumer's metrics hooks import (config read only on failures).
vi.mock('tollgate-config', () => ({ default: { source: 'test', config: { model_list: [] } } }));

let langfuse: FakeLangfuse;
let consumeCallbacks: Awaited<ReturnType<typeof loadConsumer<Env>>>;
let env: Env;

beforeAll(async () => {
  langfuse = await startFakeLangfuse({ publicKey: 'pk-lf-consumer', secretKey: 'sk-lf-consumer' });
  env = { LANGFUSE_PUBLIC_KEY: langfuse.publicKey, LANGFUSE_SECRET_KEY: langfuse.secretKey, LANGFUSE_HOST: langfuse.url };
  consumeCallbacks = await loadConsumer<Env>();
});
afterAll(async () => langfuse?.close());
beforeEach(() => langfuse.reset());

/** The two events of one finished call, as the gateway builds them. */
function eventsOf(callId: string): IngestionEvent[] {
  const call: LangfuseCall = {
    record: {
      request_id: callId, call_type: 'acompletion', api_key: 'hash-of-key', spend: 0.0001, total_tokens: 10, prompt_tokens: 6,
      completion_tokens: 4, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, startTime: '2026-11-26T10:00:00.000Z',
      endTime: '2026-11-26T10:00:01.000Z', completionStartTime: null, model: 'gpt-4o', model_id: 'model-id', model_group: 'gpt-4o',
      custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1', metadata: {}, cache_hit: false, cache_key: null,
      request_tags: [], end_user: null, session_id: null,
    },
    endpoint: 'chat',
    body: { model: 'gpt-4o', messages: [{ role: 'user', content: `question ${callId} é` }] },
    outcome: { responseText: `answer ${callId}` },
    headers: new Headers(),
    finishedAt: Date.parse('2026-11-26T10:00:01.000Z'),
  };
  return buildLangfuseEvents(call, { turnOffMessageLogging: false, redactUserApiKeyInfo: false, redactMessagesInExceptions: false, defaultTags: [] });
}

/** A v2 message as the gateway's producer sends it: compressed header line and event array. */
const v2Message = (calls: string[]) => {
  const events = calls.flatMap(eventsOf);
  return { events, body: gzipSync(callbackMessageText({ source: 'env' }, events.length, events.map((e) => JSON.stringify(e)).join(','))) };
};
const v1Item = (callId: string): CallbackItem => ({ callback: 'langfuse', callId, destination: { source: 'env' }, events: eventsOf(callId) });

const consume = (batch: FakeBatch) => consumeBatch(consumeCallbacks, batch, env);

describe('the callback consumer', () => {
  it('forwards the gateway\'s messages to Langfuse as they are, and still reads v1 messages, compressed or plain', async () => {
    const v2 = v2Message(['a1', 'a2', 'a3']);
    const v1Items = [v1Item('b1'), v1Item('b2')];
    const plain = { v: 1, items: [v1Item('c1')] };
    const batch = fakeBatch([v2.body, gzipSync(JSON.stringify({ v: 1, items: v1Items })), plain]);
    await consume(batch);

    expect(outcomes(batch)).toEqual([[true, false], [true, false], [true, false]]);
    expect(langfuse.invalid).toEqual([]);
    // One project: one ingestion request carrying every event byte for byte, with its batch_size.
    expect(langfuse.requests).toHaveLength(1);
    const sent = [...v2.events, ...v1Items.flatMap((i) => i.events), ...plain.items.flatMap((i) => i.events)];
    expect(langfuse.requests[0]?.body).toMatchObject({ batch: sent, metadata: { batch_size: sent.length, sdk_integration: 'litellm' } });
    expect(langfuse.generations().map((g) => g.id)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1']);
  });

  it('retries only the message holding an event Langfuse failed with a 5xx, and drops a message that does not decode', async () => {
    const first = v2Message(['d1', 'd2']);
    const second = v2Message(['e1', 'e2']);
    langfuse.failEvent((e) => e.type === 'generation-create' && e.body.id === 'e2', 503);
    const batch = fakeBatch([first.body, second.body, new Uint8Array([1, 2, 3])]);
    await consume(batch);

    expect(outcomes(batch)).toEqual([[true, false], [false, true], [true, false]]);
    expect(langfuse.generations().map((g) => g.id)).toEqual(['d1', 'd2', 'e1']);
  });

  it('retries every message when Langfuse is down', async () => {
    langfuse.setMode({ kind: 'fail', status: 503 });
    try {
      const batch = fakeBatch([v2Message(['f1']).body, { v: 1, items: [v1Item('f2')] }]);
      await consume(batch);
      expect(outcomes(batch)).toEqual([[false, true], [false, true]]);
    } finally {
      langfuse.setMode({ kind: 'ok' });
    }
  });
});
