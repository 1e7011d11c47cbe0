/**
 * Where the admin Worker's consumer sends the langfuse_otel, arize_phoenix and arize callbacks' spans, read
 * from its environment as LiteLLM reads it.
 */
import { describe, expect, it } from 'vitest';

type Target = { url: string; headers: Record<string, string>; resource: string } | { error: string };
type Exporter = 'langfuse_otel' | 'arize_phoenix' | 'arize';
// Typed against @cloudflare/workers-types, which this Node-side tsconfig does not load: imported by a computed path.
const vendors = () => import(/* @vite-ignore */ new URL('../admin-worker/queues/callbacks/otel-vendors.ts', import.meta.url).href) as Promise<{ vendorTarget(env: Record<string, unknown>, exporter: Exporter): Target }>;
const resourceOf = (t: Target) => ('resource' in t ? Object.fromEntries((JSON.parse(t.resource) as { attributes: { key: string; value: { stringValue: string } }[] }).attributes.map((a) => [a.key, a.value.stringValue])) : {});

describe('the vendor OpenTelemetry targets', () => {
  it('langfuse_otel: LANGFUSE_OTEL_HOST, else LANGFUSE_HOST, else the US cloud, at /api/public/otel/v1/traces with Basic auth', async () => {
    const { vendorTarget } = await vendors();
    const keys = { LANGFUSE_PUBLIC_KEY: 'pk', LANGFUSE_SECRET_KEY: 'sk' };
    expect(vendorTarget(keys, 'langfuse_otel')).toMatchObject({ url: 'https://us.cloud.langfuse.com/api/public/otel/v1/traces', headers: { authorization: `Basic ${btoa('pk:sk')}` } });
    expect(vendorTarget({ ...keys, LANGFUSE_HOST: 'https://cloud.langfuse.com/' }, 'langfuse_otel')).toMatchObject({ url: 'https://cloud.langfuse.com/api/public/otel/v1/traces' });
    expect(vendorTarget({ ...keys, LANGFUSE_HOST: 'https://a.example', LANGFUSE_OTEL_HOST: 'langfuse.internal:3000' }, 'langfuse_otel')).toMatchObject({ url: 'https://langfuse.internal:3000/api/public/otel/v1/traces' });
    expect(vendorTarget({ LANGFUSE_PUBLIC_KEY: 'pk' }, 'langfuse_otel')).toMatchObject({ error: expect.stringContaining('LANGFUSE_SECRET_KEY') });
  });

  it('arize_phoenix: the HTTP endpoint (with /v1/traces), else localhost:6006, Bearer key, api_key too for Phoenix Cloud, the project as a resource attribute; gRPC refused', async () => {
    const { vendorTarget } = await vendors();
    const local = vendorTarget({ PHOENIX_COLLECTOR_ENDPOINT: 'http://phoenix:6006', PHOENIX_API_KEY: 'k' }, 'arize_phoenix');
    expect(local).toMatchObject({ url: 'http://phoenix:6006/v1/traces', headers: { authorization: 'Bearer k' } });
    expect('headers' in local && local.headers.api_key).toBeFalsy();
    expect(resourceOf(local)).toMatchObject({ 'openinference.project.name': 'default', 'service.name': 'litellm' });
    const cloud = vendorTarget({ PHOENIX_COLLECTOR_ENDPOINT: 'https://app.phoenix.arize.com/s/team', PHOENIX_API_KEY: 'k', PHOENIX_PROJECT_NAME: 'p' }, 'arize_phoenix');
    expect(cloud).toMatchObject({ url: 'https://app.phoenix.arize.com/s/team/v1/traces', headers: { authorization: 'Bearer k', api_key: 'k' } });
    expect(resourceOf(cloud)).toMatchObject({ 'openinference.project.name': 'p' });
    expect(vendorTarget({ PHOENIX_COLLECTOR_HTTP_ENDPOINT: 'http://p:6006/v1', PHOENIX_COLLECTOR_ENDPOINT: 'grpc://x' }, 'arize_phoenix')).toMatchObject({ url: 'http://p:6006/v1/traces' });
    expect(vendorTarget({ PHOENIX_COLLECTOR_ENDPOINT: 'https://app.phoenix.arize.com' }, 'arize_phoenix')).toMatchObject({ error: expect.stringContaining('PHOENIX_API_KEY') });
    // Nothing set: a self-hosted Phoenix on its default port, as current LiteLLM has it, without credentials.
    const unset = vendorTarget({}, 'arize_phoenix');
    expect(unset).toMatchObject({ url: 'http://localhost:6006/v1/traces', headers: {} });
    expect('headers' in unset && Object.keys(unset.headers)).toEqual([]);
    expect(vendorTarget({ PHOENIX_COLLECTOR_ENDPOINT: 'http://phoenix:4317' }, 'arize_phoenix')).toMatchObject({ error: expect.stringContaining('gRPC') });
  });

  it('arize: otlp.arize.com by default, space_id and api_key headers (ARIZE_SPACE_KEY read too), model_id from the project', async () => {
    const { vendorTarget } = await vendors();
    const t = vendorTarget({ ARIZE_SPACE_KEY: 's', ARIZE_API_KEY: 'a', ARIZE_PROJECT_NAME: 'proj' }, 'arize');
    expect(t).toMatchObject({ url: 'https://otlp.arize.com/v1/traces', headers: { space_id: 's', api_key: 'a' } });
    expect(resourceOf(t)).toMatchObject({ model_id: 'proj', 'openinference.project.name': 'proj' });
    expect(resourceOf(vendorTarget({ ARIZE_SPACE_ID: 's', ARIZE_API_KEY: 'a', OTEL_SERVICE_NAME: 'svc' }, 'arize'))).toMatchObject({ model_id: 'svc' });
    expect(vendorTarget({ ARIZE_API_KEY: 'a' }, 'arize')).toMatchObject({ error: expect.stringContaining('ARIZE_SPACE_ID') });
    expect(vendorTarget({ ARIZE_SPACE_ID: 's', ARIZE_API_KEY: 'a', ARIZE_ENDPOINT: 'grpc://otlp.arize.com' }, 'arize')).toMatchObject({ error: expect.stringContaining('gRPC') });
  });
});
