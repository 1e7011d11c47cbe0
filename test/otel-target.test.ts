/**
 * Where the admin Worker's consumer sends the `otel` callback's spans, read from
 * its environment as LiteLLM and the OpenTelemetry exporters read it.
 */
import { describe, expect, it } from 'vitest';

type Target = { url: string; headers: Record<string, string>; resource: string } | { error: string };
// Typed against @cloudflare/workers-types, which this Node-side tsconfig does not load: imported by a computed path.
const otlp = () => import(/* @vite-ignore */ new URL('../admin-worker/queues/callbacks/otlp-target.ts', import.meta.url).href) as Promise<{ otlpTarget(env: Record<string, unknown>): Target }>;

describe('the OTLP target', () => {
  it('adds /v1/traces to a base endpoint, keeps a full one, and lets the traces endpoint win', async () => {
    const { otlpTarget } = await otlp();
    expect(otlpTarget({ OTEL_ENDPOINT: 'http://collector:4318' })).toMatchObject({ url: 'http://collector:4318/v1/traces' });
    expect(otlpTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/otlp/' })).toMatchObject({ url: 'https://otlp.example.com/otlp/v1/traces' });
    expect(otlpTarget({ OTEL_ENDPOINT: 'https://api.honeycomb.io/v1/traces' })).toMatchObject({ url: 'https://api.honeycomb.io/v1/traces' });
    expect(otlpTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/custom' })).toMatchObject({ url: 'http://b:9999/custom' });
  });

  it('reads headers and the resource, OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES', async () => {
    const { otlpTarget } = await otlp();
    const target = otlpTarget({
      OTEL_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Basic%20abc, x-scope=team-a ,broken',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,k8s.namespace.name=llm', OTEL_SERVICE_NAME: 'gateway-eu',
    });
    expect(target).toMatchObject({ headers: { authorization: 'Basic abc', 'x-scope': 'team-a' } });
    const resource = JSON.parse((target as { resource: string }).resource) as { attributes: { key: string; value: { stringValue: string } }[] };
    expect(Object.fromEntries(resource.attributes.map((a) => [a.key, a.value.stringValue]))).toEqual({
      'service.name': 'gateway-eu', 'k8s.namespace.name': 'llm', 'deployment.environment': 'production',
    });
  });

  it('names what is missing or not served: no endpoint, gRPC, not a URL', async () => {
    const { otlpTarget } = await otlp();
    expect(otlpTarget({})).toMatchObject({ error: expect.stringContaining('OTEL_EXPORTER_OTLP_ENDPOINT') });
    expect(otlpTarget({ OTEL_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER: 'otlp_grpc' })).toMatchObject({ error: expect.stringContaining('gRPC') });
    expect(otlpTarget({ OTEL_ENDPOINT: 'collector' })).toMatchObject({ error: expect.stringContaining('not a URL') });
    expect(otlpTarget({ OTEL_ENDPOINT: 'ftp://collector/x' })).toMatchObject({ error: expect.stringContaining('http(s)') });
  });
});
