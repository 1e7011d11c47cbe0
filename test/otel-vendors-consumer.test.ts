/**
 * The callback consumer, called directly (in Node) with a fake MessageBatch, exporting vendor OpenTelemetry spans
 * to a fake collector on loopback: a message naming an exporter this admin Worker does not know (a newer
 * gateway's) is kept for a retry and never posted to another vendor with that vendor's credentials.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { callbackMessageText } from '../worker/telemetry/langfuse/message.ts';
import type { CallbackDestination } from '../worker/telemetry/langfuse/types.ts';
import { attributesOf, type FakeCollector, startFakeCollector } from './fakes/otel-collector.ts';

// The consumer is typed against @cloudflare/workers-types, which this Node-side tsconfig does not load:
// imported by a computed path (so tsc does not follow it) and typed here.
interface FakeMessage { id: string; body: unknown; attempts: number; acked: boolean; retried: boolean; ack(): void; retry(): void }
type Consumer = (batch: { queue: string; messages: FakeMessage[] }, env: Record<string, string>, ctx: { waitUntil(p: Promise<unknown>): void }) => Promise<void>;
const workerModule = <T>(path: string): Promise<T> => import(/* @vite-ignore */ new URL(path, import.meta.url).href);
// The bundler's alias for the compiled config.yaml, which the consumer's metrics hooks import (config read only on failures).
vi.mock('tollgate-config', () => ({ default: { source: 'test', config: { model_list: [] } } }));

let arize: FakeCollector;
let consumeCallbacks: Consumer;
let env: Record<string, string>;

beforeAll(async () => {
  arize = await startFakeCollector();
  env = { ARIZE_SPACE_ID: 'space-consumer', ARIZE_API_KEY: 'arize-secret-consumer', ARIZE_HTTP_ENDPOINT: `${arize.url}/v1` };
  ({ consumeCallbacks } = await workerModule<{ consumeCallbacks: Consumer }>('../admin-worker/queues/callbacks.ts'));
});
afterAll(async () => arize?.close());

/** One span, as the gateway queues it, marked with its call id. */
const span = (callId: string) => JSON.stringify({
  traceId: '0b5c6a4e1f2d4c3b9a8e7d6c5b4a3f21', spanId: '9a8e7d6c5b4a3f21', name: 'litellm_request', kind: 2,
  startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000001000000000',
  attributes: [{ key: 'llm.response.id', value: { stringValue: callId } }], status: { code: 1 },
});
const message = (destination: unknown, callId: string) => gzipSync(callbackMessageText(destination as CallbackDestination, 1, span(callId)));

function fakeBatch(bodies: unknown[]) {
  const messages: FakeMessage[] = bodies.map((body, i) => ({
    id: `m${i}`, body, attempts: 1, acked: false as boolean, retried: false as boolean,
    ack() { this.acked = true; },
    retry() { this.retried = true; },
  }));
  return { queue: 'tollgate-callbacks', messages };
}

describe('the callback consumer, vendor OpenTelemetry spans', () => {
  it('retries a message naming an unknown exporter, sending it nowhere, and delivers the known one beside it', async () => {
    const batch = fakeBatch([
      message({ source: 'otel', exporter: 'honeycomb_otel' }, 'call-unknown'),
      message({ source: 'otel', exporter: 'arize' }, 'call-arize'),
    ]);
    const pending: Promise<unknown>[] = [];
    await consumeCallbacks(batch, env, { waitUntil: (p) => void pending.push(p) });
    await Promise.all(pending);

    expect(batch.messages.map((m) => [m.acked, m.retried])).toEqual([[false, true], [true, false]]);
    expect(arize.malformed).toEqual([]);
    expect(arize.spans().map((s) => attributesOf(s)['llm.response.id'])).toEqual(['call-arize']);
    expect(arize.requests[0]?.headers).toMatchObject({ space_id: 'space-consumer', api_key: 'arize-secret-consumer' });
  });
});
