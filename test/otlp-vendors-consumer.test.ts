/**
 * The callback consumer, called directly (in Node) with a fake MessageBatch, exporting the OTLP vendors' spans
 * (logfire, traceloop, ...) to fake collectors on loopback: a vendor whose collector is unreachable has its own
 * messages retried, and the vendor beside it in the same batch is delivered once, with its own credentials.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { attributesOf, type FakeCollector, startFakeCollector } from './fakes/otel-collector.ts';
import { consume, fakeBatch, loadConsumer, outcomes, spanMessage } from './support/callback-consumer.ts';

// The bundler's alias for the compiled config.yaml, which the consumer's metrics hooks import (config read only on failures).
vi.mock('tollgate-config', () => ({ default: { source: 'test', config: { model_list: [] } } }));

let traceloop: FakeCollector;
let consumeCallbacks: Awaited<ReturnType<typeof loadConsumer>>;
let closedPort: number;

beforeAll(async () => {
  traceloop = await startFakeCollector();
  // A port nothing listens on: taken, then given back.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  consumeCallbacks = await loadConsumer();
});
afterAll(async () => traceloop?.close());

/** One span's message, as the gateway queues it, marked with its call id. */
const message = (destination: unknown, callId: string) => spanMessage(destination, callId, 'gen_ai.response.id');

describe('the callback consumer, OTLP vendor spans', () => {
  it('retries the messages of a vendor whose collector is unreachable, and delivers the other vendor\'s beside them', async () => {
    const env = {
      LOGFIRE_TOKEN: 'logfire-consumer-token', LOGFIRE_BASE_URL: `http://127.0.0.1:${closedPort}`,
      TRACELOOP_API_KEY: 'traceloop-consumer-key', TRACELOOP_BASE_URL: traceloop.url,
    };
    const batch = fakeBatch([
      message({ source: 'otel', exporter: 'logfire' }, 'call-logfire'),
      message({ source: 'otel', exporter: 'traceloop' }, 'call-traceloop'),
    ]);
    const errors = vi.spyOn(console, 'error');
    await consume(consumeCallbacks, batch, env);

    expect(outcomes(batch)).toEqual([[false, true], [true, false]]);
    expect(traceloop.malformed).toEqual([]);
    expect(traceloop.spans().map((s) => attributesOf(s)['gen_ai.response.id'])).toEqual(['call-traceloop']);
    expect(traceloop.requests[0]?.headers.authorization).toBe('Bearer traceloop-consumer-key');
    const logged = errors.mock.calls.flat().map(String).join('\n');
    expect(logged).toContain('OpenTelemetry (logfire) export');
    expect(logged).not.toContain('logfire-consumer-token');
    errors.mockRestore();
  });

  it('drops (never retries) a vendor\'s spans when its settings are missing, naming the variable', async () => {
    const batch = fakeBatch([message({ source: 'otel', exporter: 'langtrace' }, 'call-langtrace')]);
    const errors = vi.spyOn(console, 'error');
    await consume(consumeCallbacks, batch, {});
    expect(outcomes(batch)).toEqual([[true, false]]);
    expect(errors.mock.calls.flat().map(String).join('\n')).toContain('LANGTRACE_API_KEY must be set');
    errors.mockRestore();
  });

  it('never logs a key a collector echoes in its 401, whether sent as a token or inside Basic credentials', async () => {
    const weave = await startFakeCollector({ path: '/otel/v1/traces' });
    const env = {
      TRACELOOP_API_KEY: 'traceloop-echoed-key-0001', TRACELOOP_BASE_URL: traceloop.url,
      WANDB_API_KEY: 'wandb-echoed-key-0001', WANDB_PROJECT_ID: 'team/project', WANDB_HOST: weave.url,
    };
    const echo = (headers: Record<string, string>) => ({ code: 16, message: `bad credentials ${headers.authorization} (${atob(headers.authorization!.split(' ')[1]!)})` });
    traceloop.failNext(401, 1, (headers) => ({ code: 16, message: `bad credentials ${headers.authorization}` }));
    weave.failNext(401, 1, echo);
    const errors = vi.spyOn(console, 'error');
    const batch = fakeBatch([message({ source: 'otel', exporter: 'traceloop' }, 'call-echo-tl'), message({ source: 'otel', exporter: 'weave_otel' }, 'call-echo-w')]);
    try {
      await consume(consumeCallbacks, batch, env);
      expect(outcomes(batch)).toEqual([[false, true], [false, true]]);
      const logged = errors.mock.calls.flat().map(String).join('\n');
      expect(logged).toMatch(/traceloop.*401.*bad credentials \[redacted\]/);
      expect(logged).toMatch(/weave_otel.*401.*bad credentials \[redacted\] \(\[redacted\]\)/);
      for (const secret of ['traceloop-echoed-key-0001', 'wandb-echoed-key-0001', btoa('api:wandb-echoed-key-0001')]) expect(logged).not.toContain(secret);
    } finally {
      errors.mockRestore();
      await weave.close();
    }
  });
});
