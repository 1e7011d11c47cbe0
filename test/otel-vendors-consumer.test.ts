/**
 * The callback consumer, called directly (in Node) with a fake MessageBatch, exporting vendor OpenTelemetry spans
 * to a fake collector on loopback: a message naming an exporter this admin Worker does not know (a newer
 * gateway's) is kept for a retry and never posted to another vendor with that vendor's credentials.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { attributesOf, type FakeCollector, startFakeCollector } from './fakes/otel-collector.ts';
import { consume, fakeBatch, loadConsumer, outcomes, spanMessage } from './support/callback-consumer.ts';

// The bundler's alias for the compiled config.yaml, which the consumer's metrics hooks import (config read only on failures).
vi.mock('tollgate-config', () => ({ default: { source: 'test', config: { model_list: [] } } }));

let arize: FakeCollector;
let consumeCallbacks: Awaited<ReturnType<typeof loadConsumer>>;
let env: Record<string, string>;

beforeAll(async () => {
  arize = await startFakeCollector();
  env = { ARIZE_SPACE_ID: 'space-consumer', ARIZE_API_KEY: 'arize-secret-consumer', ARIZE_HTTP_ENDPOINT: `${arize.url}/v1` };
  consumeCallbacks = await loadConsumer();
});
afterAll(async () => arize?.close());

/** One span's message, as the gateway queues it, marked with its call id. */
const message = (destination: unknown, callId: string) => spanMessage(destination, callId, 'llm.response.id');

describe('the callback consumer, vendor OpenTelemetry spans', () => {
  it('retries a message naming an unknown exporter, sending it nowhere, and delivers the known one beside it', async () => {
    const batch = fakeBatch([
      message({ source: 'otel', exporter: 'honeycomb_otel' }, 'call-unknown'),
      message({ source: 'otel', exporter: 'arize' }, 'call-arize'),
    ]);
    await consume(consumeCallbacks, batch, env);

    expect(outcomes(batch)).toEqual([[false, true], [true, false]]);
    expect(arize.malformed).toEqual([]);
    expect(arize.spans().map((s) => attributesOf(s)['llm.response.id'])).toEqual(['call-arize']);
    expect(arize.requests[0]?.headers).toMatchObject({ space_id: 'space-consumer', api_key: 'arize-secret-consumer' });
  });
});
