/**
 * The admin Worker's callback consumer called directly (in Node) with a fake MessageBatch: what the consumer
 * tests (langfuse, the OTel vendors, the OTLP vendors) share. Each test file still mocks `tollgate-config`
 * itself (vi.mock is hoisted per file).
 */
import { gzipSync } from 'node:zlib';
import { callbackMessageText } from '../../worker/telemetry/langfuse/message.ts';
import type { CallbackDestination } from '../../worker/telemetry/langfuse/types.ts';

/** A Queue message as the consumer handles it, recording whether it was acked or retried. */
export interface FakeMessage { id: string; body: unknown; attempts: number; acked: boolean; retried: boolean; ack(): void; retry(): void }
export type FakeBatch = { queue: string; messages: FakeMessage[] };
type Consumer<E> = (batch: FakeBatch, env: E, ctx: { waitUntil(p: Promise<unknown>): void }) => Promise<void>;

/**
 * The consumer, typed against @cloudflare/workers-types, which this Node-side tsconfig does not load: imported
 * by a computed path (so tsc does not follow it) and typed here.
 */
export async function loadConsumer<E = Record<string, string>>(): Promise<Consumer<E>> {
  const path = new URL('../../admin-worker/queues/callbacks.ts', import.meta.url).href;
  const { consumeCallbacks } = (await import(/* @vite-ignore */ path)) as { consumeCallbacks: Consumer<E> };
  return consumeCallbacks;
}

/** A batch of these message bodies on the callbacks Queue, each on its first attempt. */
export function fakeBatch(bodies: unknown[]): FakeBatch {
  const messages: FakeMessage[] = bodies.map((body, i) => ({
    id: `m${i}`, body, attempts: 1, acked: false as boolean, retried: false as boolean,
    ack() { this.acked = true; },
    retry() { this.retried = true; },
  }));
  return { queue: 'tollgate-callbacks', messages };
}

/** Runs the consumer on the batch and waits for what it left to `waitUntil` (its failure alerts). */
export async function consume<E>(consumer: Consumer<E>, batch: FakeBatch, env: E): Promise<void> {
  const pending: Promise<unknown>[] = [];
  await consumer(batch, env, { waitUntil: (p) => void pending.push(p) });
  await Promise.all(pending);
}

/** Each message's [acked, retried]. */
export const outcomes = (batch: FakeBatch): [acked: boolean, retried: boolean][] => batch.messages.map((m) => [m.acked, m.retried]);

/** A queued message holding one span, as the gateway queues it for `destination`, marked with the call id under `idKey`. */
export function spanMessage(destination: unknown, callId: string, idKey: string): Uint8Array {
  const span = JSON.stringify({
    traceId: '0b5c6a4e1f2d4c3b9a8e7d6c5b4a3f21', spanId: '9a8e7d6c5b4a3f21', name: 'litellm_request', kind: 2,
    startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000001000000000',
    attributes: [{ key: idKey, value: { stringValue: callId } }], status: { code: 1 },
  });
  return gzipSync(callbackMessageText(destination as CallbackDestination, 1, span));
}
