/**
 * Where the `otel` callback's spans go, read as LiteLLM reads it:
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_ENDPOINT` (with `/v1/traces` added when the path does not end with it);
 * headers from `OTEL_EXPORTER_OTLP_HEADERS` or `OTEL_HEADERS` (`name=value,name=value`,
 * values percent-decoded); the resource from `OTEL_SERVICE_NAME` (`litellm`),
 * `OTEL_ENVIRONMENT_NAME` (`production`) and `OTEL_RESOURCE_ATTRIBUTES`.
 */
import type { AdminEnv } from '../../env.ts';

export interface OtlpTarget {
  url: string;
  headers: Record<string, string>;
  /** The `resource` object's JSON. */
  resource: string;
}

export const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** An http(s) URL, `https://` put before a bare host (as LiteLLM does for LANGFUSE_HOST), or undefined. */
export function urlOf(value: string): URL | undefined {
  try {
    const url = new URL(/^https?:\/\//i.test(value) ? value : `https://${value}`);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** A collector URL with OTLP's traces path: kept when it has it, `/traces` after a `/v1`, else `/v1/traces` added. */
export function tracesUrl(url: URL): string {
  const path = url.pathname.replace(/\/+$/, '');
  if (!path.includes('/v1/traces')) url.pathname = path.endsWith('/v1') ? `${path}/traces` : `${path}/v1/traces`;
  return url.toString();
}

/** A gRPC endpoint as LiteLLM tells one apart (`grpc://`, or port 4317 without the HTTP path): not served. */
export const isGrpc = (value: string): boolean => /^grpc:\/\//i.test(value) || (value.includes(':4317') && !value.includes('/v1/traces'));

/** `a=1,b=2` (W3C baggage-like, as the OTLP exporters take it) → entries; malformed pairs are skipped. */
export function pairs(value: string | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const part of (value ?? '').split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    let v = part.slice(at + 1).trim();
    try {
      v = decodeURIComponent(v);
    } catch {
      // Not percent-encoded: taken as it is.
    }
    if (name) out.push([name, v]);
  }
  return out;
}

/** Where spans go, or why they cannot (no endpoint, or a protocol other than OTLP/HTTP JSON). */
export function otlpTarget(env: AdminEnv): OtlpTarget | { error: string } {
  const protocol = text(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? text(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? text(env.OTEL_EXPORTER);
  if (protocol && /grpc/i.test(protocol)) return { error: `OTLP over gRPC (${protocol}) is not supported: use OTLP/HTTP (otlp_http, port 4318)` };
  const tracesEndpoint = text(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const base = text(env.OTEL_EXPORTER_OTLP_ENDPOINT) ?? text(env.OTEL_ENDPOINT);
  let url: URL;
  try {
    if (tracesEndpoint) url = new URL(tracesEndpoint);
    else if (base) {
      url = new URL(base);
      if (!url.pathname.replace(/\/+$/, '').endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
    } else return { error: 'no collector: set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_ENDPOINT) for the admin Worker' };
  } catch {
    return { error: 'the OTLP endpoint is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: 'the OTLP endpoint is not an http(s) URL' };
  const headers: Record<string, string> = {};
  for (const [name, value] of pairs(text(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) ?? text(env.OTEL_EXPORTER_OTLP_HEADERS) ?? text(env.OTEL_HEADERS))) headers[name.toLowerCase()] = value;
  return { url: url.toString(), headers, resource: resourceJson(baseResource(env)) };
}

/**
 * The resource every OpenTelemetry-based callback's spans share, as LiteLLM's: `OTEL_RESOURCE_ATTRIBUTES`, with
 * `service.name` from `OTEL_SERVICE_NAME` (`litellm`) and `deployment.environment` from `OTEL_ENVIRONMENT_NAME` (`production`).
 */
export function baseResource(env: AdminEnv): Map<string, string> {
  // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (as the OpenTelemetry SDKs have it).
  const attributes = new Map<string, string>(pairs(text(env.OTEL_RESOURCE_ATTRIBUTES)));
  attributes.set('service.name', text(env.OTEL_SERVICE_NAME) ?? attributes.get('service.name') ?? 'litellm');
  if (text(env.OTEL_ENVIRONMENT_NAME) || !attributes.has('deployment.environment')) attributes.set('deployment.environment', text(env.OTEL_ENVIRONMENT_NAME) ?? 'production');
  return attributes;
}

/** A resource's attributes as the `resource` object's JSON. */
export const resourceJson = (attributes: Map<string, string>): string =>
  JSON.stringify({ attributes: [...attributes].map(([key, value]) => ({ key, value: { stringValue: value } })) });
