/**
 * Where the admin Worker's consumer sends the logfire, traceloop, langtrace, levo and weave_otel callbacks' spans,
 * read from its environment as LiteLLM reads it: its defaults, and what is missing named (never a value).
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';

type Target = { url: string; headers: Record<string, string>; resource: string } | { error: string };
type Vendor = 'logfire' | 'traceloop' | 'langtrace' | 'levo' | 'weave_otel';
// Typed against @cloudflare/workers-types, which this Node-side tsconfig does not load: imported by a computed path.
const vendors = () => import(/* @vite-ignore */ new URL('../admin-worker/queues/callbacks/otel-vendors.ts', import.meta.url).href) as Promise<{
  vendorTarget(env: Record<string, unknown>, exporter: Vendor): Target;
  isOtelExporter(name: unknown): boolean;
}>;

const otlp = () => import(/* @vite-ignore */ new URL('../admin-worker/queues/callbacks/otlp.ts', import.meta.url).href) as Promise<{
  exportSecrets(env: Record<string, unknown>, target: { headers: Record<string, string> }): string[];
}>;
const secrets = () => import(/* @vite-ignore */ new URL('../admin-worker/queues/callbacks/loggers/secrets.ts', import.meta.url).href) as Promise<{
  scrubbed(reason: string, secrets: readonly string[], max: number): string;
}>;

describe('the OTLP vendor targets', () => {
  it('are exporters the consumer knows', async () => {
    const { isOtelExporter } = await vendors();
    for (const name of ['logfire', 'traceloop', 'langtrace', 'levo', 'weave_otel']) expect(isOtelExporter(name)).toBe(true);
    expect(isOtelExporter('weave')).toBe(false);
  });

  it('logfire: Pydantic\'s API by default, LOGFIRE_BASE_URL otherwise, the token as the Authorization header', async () => {
    const { vendorTarget } = await vendors();
    expect(vendorTarget({ LOGFIRE_TOKEN: 't' }, 'logfire')).toMatchObject({ url: 'https://logfire-api.pydantic.dev/v1/traces', headers: { authorization: 't' } });
    expect(vendorTarget({ LOGFIRE_TOKEN: 't', LOGFIRE_BASE_URL: 'https://logfire-eu.pydantic.dev/' }, 'logfire')).toMatchObject({ url: 'https://logfire-eu.pydantic.dev/v1/traces' });
    expect(vendorTarget({}, 'logfire')).toEqual({ error: expect.stringContaining('LOGFIRE_TOKEN') });
  });

  it('traceloop: api.traceloop.com by default, Bearer key, or TRACELOOP_HEADERS instead; no key needed for a collector of one\'s own', async () => {
    const { vendorTarget } = await vendors();
    expect(vendorTarget({ TRACELOOP_API_KEY: 'k' }, 'traceloop')).toMatchObject({ url: 'https://api.traceloop.com/v1/traces', headers: { authorization: 'Bearer k' } });
    const custom = vendorTarget({ TRACELOOP_BASE_URL: 'http://otel:4318', TRACELOOP_HEADERS: 'x-team=blue,x-key=a%20b' }, 'traceloop');
    expect(custom).toEqual(expect.objectContaining({ url: 'http://otel:4318/v1/traces', headers: { 'x-team': 'blue', 'x-key': 'a b' } }));
    expect(vendorTarget({}, 'traceloop')).toEqual({ error: expect.stringContaining('TRACELOOP_API_KEY') });
    expect(vendorTarget({ TRACELOOP_BASE_URL: 'https://api.traceloop.com/' }, 'traceloop')).toEqual({ error: expect.stringContaining('TRACELOOP_API_KEY') });
    // A collector of one's own needs no key, as with the Traceloop SDK: sent without an Authorization header.
    const own = vendorTarget({ TRACELOOP_BASE_URL: 'http://my-collector:4318' }, 'traceloop');
    expect(own).toEqual(expect.objectContaining({ url: 'http://my-collector:4318/v1/traces', headers: {} }));
  });

  it('langtrace: the Langtrace SDK\'s endpoint, or LANGTRACE_API_HOST\'s /api/trace, the key as api_key', async () => {
    const { vendorTarget } = await vendors();
    expect(vendorTarget({ LANGTRACE_API_KEY: 'k' }, 'langtrace')).toMatchObject({ url: 'https://langtrace.ai/api/trace', headers: { api_key: 'k' } });
    expect(vendorTarget({ LANGTRACE_API_KEY: 'k', LANGTRACE_API_HOST: 'http://lt.internal:3000/' }, 'langtrace')).toMatchObject({ url: 'http://lt.internal:3000/api/trace' });
    expect(vendorTarget({}, 'langtrace')).toEqual({ error: expect.stringContaining('LANGTRACE_API_KEY') });
  });

  it('levo: all four settings needed, the missing ones named; /v1/traces added to the collector URL', async () => {
    const { vendorTarget } = await vendors();
    const env = { LEVOAI_API_KEY: 'k', LEVOAI_ORG_ID: 'o', LEVOAI_WORKSPACE_ID: 'w', LEVOAI_COLLECTOR_URL: 'https://collector.levo.example' };
    expect(vendorTarget(env, 'levo')).toMatchObject({
      url: 'https://collector.levo.example/v1/traces', headers: { authorization: 'Bearer k', 'x-levo-organization-id': 'o', 'x-levo-workspace-id': 'w' },
    });
    const missing = vendorTarget({ LEVOAI_API_KEY: 'secret-levo' }, 'levo');
    expect(missing).toEqual({ error: expect.stringContaining('LEVOAI_ORG_ID, LEVOAI_WORKSPACE_ID, LEVOAI_COLLECTOR_URL') });
    expect(JSON.stringify(missing)).not.toContain('secret-levo');
  });

  it('a collector\'s reply never quotes a header value sent (a Basic token, a percent-decoded TRACELOOP_HEADERS value), JSON-escaped either', async () => {
    const { vendorTarget } = await vendors();
    const { exportSecrets } = await otlp();
    const { scrubbed } = await secrets();
    const weave = vendorTarget({ WANDB_API_KEY: 'wandb-key-?>?>-0001', WANDB_PROJECT_ID: 'e/p' }, 'weave_otel');
    const traceloop = vendorTarget({ TRACELOOP_BASE_URL: 'http://otel:4318', TRACELOOP_HEADERS: 'x-api-key=tl%2Fheader%2Fsecret-0001' }, 'traceloop');
    if ('error' in weave || 'error' in traceloop) throw new Error('no target');
    const basic = weave.headers.authorization!.slice('Basic '.length);
    expect(basic).toContain('/');
    for (const [target, secret] of [[weave, basic], [traceloop, 'tl/header/secret-0001']] as const) {
      // A JSON reply as PHP and some Java encoders write it: each "/" escaped.
      const echoed = `HTTP 401: {"error":"bad credentials ${secret.replaceAll('/', '\\/')}"}`;
      const clean = scrubbed(echoed, exportSecrets({}, target), 300);
      expect(clean).not.toContain(secret.replaceAll('/', '\\/'));
      expect(clean).not.toContain(secret.split('/').at(-1));
    }
  });

  it('weave_otel: W&B\'s trace host by default, WANDB_HOST otherwise, Basic api:key and the project header', async () => {
    const { vendorTarget } = await vendors();
    expect(vendorTarget({ WANDB_API_KEY: 'k', WANDB_PROJECT_ID: 'e/p' }, 'weave_otel')).toMatchObject({
      url: 'https://trace.wandb.ai/otel/v1/traces', headers: { authorization: `Basic ${btoa('api:k')}`, project_id: 'e/p' },
    });
    expect(vendorTarget({ WANDB_API_KEY: 'k', WANDB_PROJECT_ID: 'e/p', WANDB_HOST: 'acme.wandb.io/traces' }, 'weave_otel')).toMatchObject({ url: 'https://acme.wandb.io/traces/otel/v1/traces' });
    expect(vendorTarget({ WANDB_API_KEY: 'k' }, 'weave_otel')).toEqual({ error: expect.stringContaining('WANDB_PROJECT_ID') });
  });

  it('are callbacks config.yaml takes without a warning, their callback_settings too; a misspelt one is warned about', () => {
    const result = validateConfig({
      model_list: [{ model_name: 'm', litellm_params: { model: 'mock/m' } }],
      litellm_settings: { callbacks: ['logfire', 'traceloop', 'langtrace'], success_callback: ['levo'], failure_callback: ['weave_otel', 'weave'] },
      callback_settings: { levo: { message_logging: false }, weave_otel: { message_logging: false } },
    }, {});
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.warnings).toEqual([expect.stringMatching(/^litellm_settings\.failure_callback: callback "weave" is not supported by Tollgate yet/)]);
  });
});
