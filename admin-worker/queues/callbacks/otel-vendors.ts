/**
 * Where the spans of LiteLLM's vendor OpenTelemetry callbacks go, read from the
 * admin Worker's environment as LiteLLM reads it, at export time: the
 * credentials are never on the Queue nor in the gateway's spans.
 * - `langfuse_otel`: `{LANGFUSE_OTEL_HOST or LANGFUSE_HOST}/api/public/otel/v1/traces`
 *   (US cloud by default), HTTP Basic `LANGFUSE_PUBLIC_KEY:LANGFUSE_SECRET_KEY`.
 * - `arize_phoenix`: `PHOENIX_COLLECTOR_HTTP_ENDPOINT`, else `PHOENIX_COLLECTOR_ENDPOINT`
 *   (`/v1/traces` added to a base URL), else a self-hosted Phoenix at `http://localhost:6006/v1/traces`
 *   (LiteLLM's default); `Authorization: Bearer PHOENIX_API_KEY` (and Phoenix Cloud's older `api_key`
 *   header there); the project from `PHOENIX_PROJECT_NAME`.
 * - `arize`: `ARIZE_HTTP_ENDPOINT` or `ARIZE_ENDPOINT` (`https://otlp.arize.com/v1`), headers `space_id`
 *   (`ARIZE_SPACE_ID`, or `ARIZE_SPACE_KEY`) and `api_key` (`ARIZE_API_KEY`); the project from `ARIZE_PROJECT_NAME`.
 *   A key's or team's own spans: its arize_api_key and space in place of those (logger-owners.ts arizeEnv).
 * - `logfire`, `traceloop`, `langtrace`, `levo`, `weave_otel`: otlp-vendors.ts.
 */
import type { OtelDestination } from '../../../worker/telemetry/langfuse/types.ts';
import type { AdminEnv } from '../../env.ts';
import { otlpVendorTarget, OTLP_VENDORS, type OtlpVendor } from './otlp-vendors.ts';
import { baseResource, isGrpc, type OtlpTarget, resourceJson, text, tracesUrl, urlOf } from './otlp-target.ts';

export type OtelExporter = NonNullable<OtelDestination['exporter']>;

const EXPORTERS: ReadonlySet<string> = new Set([...(['langfuse_otel', 'arize_phoenix', 'arize'] satisfies OtelExporter[]), ...OTLP_VENDORS]);

/**
 * Whether a message's `exporter` is a callback this admin Worker sends: any other (a newer gateway's) must never
 * be posted with one of these vendors' credentials.
 */
export const isOtelExporter = (name: unknown): name is OtelExporter => typeof name === 'string' && EXPORTERS.has(name);

/** LiteLLM's defaults. */
export const DEFAULT_LANGFUSE_OTEL_HOST = 'https://us.cloud.langfuse.com';
/** A self-hosted Phoenix on its default port, as LiteLLM has it (a deployed Worker cannot reach it: set the endpoint). */
export const DEFAULT_PHOENIX_ENDPOINT = 'http://localhost:6006/v1/traces';
export const DEFAULT_ARIZE_ENDPOINT = 'https://otlp.arize.com/v1';

type Target = OtlpTarget | { error: string };

function langfuseOtel(env: AdminEnv): Target {
  const publicKey = text(env.LANGFUSE_PUBLIC_KEY);
  const secretKey = text(env.LANGFUSE_SECRET_KEY);
  if (!publicKey || !secretKey) return { error: 'LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY must be set for the admin Worker' };
  const host = text(env.LANGFUSE_OTEL_HOST) ?? text(env.LANGFUSE_HOST) ?? DEFAULT_LANGFUSE_OTEL_HOST;
  const url = urlOf(host);
  if (!url) return { error: 'LANGFUSE_OTEL_HOST (or LANGFUSE_HOST) is not an http(s) URL' };
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/public/otel/v1/traces`;
  const basic = btoa(String.fromCharCode(...new TextEncoder().encode(`${publicKey}:${secretKey}`)));
  return { url: url.toString(), headers: { authorization: `Basic ${basic}` }, resource: resourceJson(baseResource(env)) };
}

function arizePhoenix(env: AdminEnv): Target {
  const endpoint = text(env.PHOENIX_COLLECTOR_HTTP_ENDPOINT) ?? text(env.PHOENIX_COLLECTOR_ENDPOINT) ?? DEFAULT_PHOENIX_ENDPOINT;
  if (isGrpc(endpoint)) return { error: 'Phoenix over gRPC is not supported: set PHOENIX_COLLECTOR_HTTP_ENDPOINT to its HTTP endpoint (port 6006, /v1/traces)' };
  const url = urlOf(endpoint);
  if (!url) return { error: 'PHOENIX_COLLECTOR_HTTP_ENDPOINT (or PHOENIX_COLLECTOR_ENDPOINT) is not an http(s) URL' };
  const hosted = url.hostname === 'app.phoenix.arize.com';
  const apiKey = text(env.PHOENIX_API_KEY);
  if (!apiKey && hosted) return { error: 'PHOENIX_API_KEY must be set for Phoenix Cloud (app.phoenix.arize.com)' };
  const headers: Record<string, string> = {};
  if (apiKey) {
    headers.authorization = `Bearer ${apiKey}`;
    // Phoenix Cloud's older header, which LiteLLM sent it before both took the Bearer token.
    if (hosted) headers.api_key = apiKey;
  }
  const resource = baseResource(env);
  resource.set('openinference.project.name', text(env.PHOENIX_PROJECT_NAME) ?? 'default');
  return { url: tracesUrl(url), headers, resource: resourceJson(resource) };
}

function arize(env: AdminEnv): Target {
  const spaceId = text(env.ARIZE_SPACE_ID) ?? text(env.ARIZE_SPACE_KEY);
  const apiKey = text(env.ARIZE_API_KEY);
  if (!spaceId || !apiKey) return { error: 'ARIZE_SPACE_ID (or ARIZE_SPACE_KEY) and ARIZE_API_KEY must be set for the admin Worker' };
  const endpoint = text(env.ARIZE_HTTP_ENDPOINT) ?? text(env.ARIZE_ENDPOINT) ?? DEFAULT_ARIZE_ENDPOINT;
  if (/^grpc:\/\//i.test(endpoint)) return { error: 'Arize over gRPC is not supported: set ARIZE_HTTP_ENDPOINT (https://otlp.arize.com/v1)' };
  const url = urlOf(endpoint);
  if (!url) return { error: 'ARIZE_HTTP_ENDPOINT (or ARIZE_ENDPOINT) is not an http(s) URL' };
  const resource = baseResource(env);
  const project = text(env.ARIZE_PROJECT_NAME);
  // Arize files spans under the resource's model_id (LiteLLM: the project, else the service name).
  resource.set('model_id', project ?? resource.get('service.name') ?? 'litellm');
  if (project) resource.set('openinference.project.name', project);
  return { url: tracesUrl(url), headers: { space_id: spaceId, api_key: apiKey }, resource: resourceJson(resource) };
}

/** Where one vendor callback's spans go, or why they cannot (credentials missing, gRPC, not a URL). */
export function vendorTarget(env: AdminEnv, exporter: OtelExporter): Target {
  if ((OTLP_VENDORS as readonly string[]).includes(exporter)) return otlpVendorTarget(env, exporter as OtlpVendor);
  return exporter === 'langfuse_otel' ? langfuseOtel(env) : exporter === 'arize_phoenix' ? arizePhoenix(env) : arize(env);
}
