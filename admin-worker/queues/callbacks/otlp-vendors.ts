/**
 * Where the spans of LiteLLM's OTLP-exporter vendor callbacks go (worker/telemetry/otel/vendors.ts), read from the
 * admin Worker's environment as LiteLLM reads it, at export time: the credentials are never on the Queue nor in
 * the gateway's spans.
 * - `logfire`: `{LOGFIRE_BASE_URL or https://logfire-api.pydantic.dev}/v1/traces`, `Authorization: LOGFIRE_TOKEN`
 *   (the write token itself, no scheme, as LiteLLM sends it).
 * - `traceloop`: `{TRACELOOP_BASE_URL or https://api.traceloop.com}/v1/traces`, `Authorization: Bearer TRACELOOP_API_KEY`,
 *   or the headers of `TRACELOOP_HEADERS` (`name=value,...`) instead, as the Traceloop SDK LiteLLM starts reads them;
 *   without either, only to a `TRACELOOP_BASE_URL` other than Traceloop's cloud (a collector of one's own), unauthenticated.
 * - `langtrace`: `https://langtrace.ai/api/trace` (the Langtrace SDK's path; `{LANGTRACE_API_HOST}/api/trace` for a
 *   self-hosted Langtrace, the Langtrace SDK's name), header `api_key: LANGTRACE_API_KEY`.
 * - `levo`: `LEVOAI_COLLECTOR_URL` (`/v1/traces` added when its path lacks it, as LiteLLM's exporter does),
 *   `Authorization: Bearer LEVOAI_API_KEY`, `x-levo-organization-id: LEVOAI_ORG_ID`, `x-levo-workspace-id: LEVOAI_WORKSPACE_ID`.
 * - `weave_otel`: `{WANDB_HOST or https://trace.wandb.ai}/otel/v1/traces`, HTTP Basic `api:WANDB_API_KEY`, header
 *   `project_id: WANDB_PROJECT_ID` (`<entity>/<project>`).
 */
import { OTLP_VENDORS, type OtlpVendor } from '../../../worker/telemetry/otel/vendors.ts';
import type { AdminEnv } from '../../env.ts';
import { baseResource, type OtlpTarget, pairs, resourceJson, text, tracesUrl, urlOf } from './otlp-target.ts';

export { OTLP_VENDORS, type OtlpVendor };

/** The vendors' default endpoints (LiteLLM's; Langtrace's is its SDK's). */
export const DEFAULT_LOGFIRE_BASE_URL = 'https://logfire-api.pydantic.dev';
export const DEFAULT_TRACELOOP_BASE_URL = 'https://api.traceloop.com';
export const DEFAULT_LANGTRACE_ENDPOINT = 'https://langtrace.ai/api/trace';
export const DEFAULT_WEAVE_HOST = 'https://trace.wandb.ai';

type Target = OtlpTarget | { error: string };

const withResource = (env: AdminEnv, url: string, headers: Record<string, string>): OtlpTarget => ({ url, headers, resource: resourceJson(baseResource(env)) });

function logfire(env: AdminEnv): Target {
  const token = text(env.LOGFIRE_TOKEN);
  if (!token) return { error: 'LOGFIRE_TOKEN must be set for the admin Worker' };
  const url = urlOf(text(env.LOGFIRE_BASE_URL) ?? DEFAULT_LOGFIRE_BASE_URL);
  if (!url) return { error: 'LOGFIRE_BASE_URL is not an http(s) URL' };
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return withResource(env, url.toString(), { authorization: token });
}

function traceloop(env: AdminEnv): Target {
  const apiKey = text(env.TRACELOOP_API_KEY);
  const custom = pairs(text(env.TRACELOOP_HEADERS));
  const url = urlOf(text(env.TRACELOOP_BASE_URL) ?? DEFAULT_TRACELOOP_BASE_URL);
  if (!url) return { error: 'TRACELOOP_BASE_URL is not an http(s) URL' };
  // As the Traceloop SDK: a key is needed for Traceloop's own cloud only; a collector of one's own may take spans without.
  if (!apiKey && custom.length === 0 && url.hostname === new URL(DEFAULT_TRACELOOP_BASE_URL).hostname) {
    return { error: 'TRACELOOP_API_KEY (or TRACELOOP_HEADERS) must be set for the admin Worker to send to api.traceloop.com' };
  }
  const headers: Record<string, string> = {};
  if (custom.length) for (const [name, value] of custom) headers[name.toLowerCase()] = value;
  else if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  return withResource(env, tracesUrl(url), headers);
}

function langtrace(env: AdminEnv): Target {
  const apiKey = text(env.LANGTRACE_API_KEY);
  if (!apiKey) return { error: 'LANGTRACE_API_KEY must be set for the admin Worker' };
  const host = text(env.LANGTRACE_API_HOST);
  let endpoint = DEFAULT_LANGTRACE_ENDPOINT;
  if (host) {
    const url = urlOf(host);
    if (!url) return { error: 'LANGTRACE_API_HOST is not an http(s) URL' };
    const path = url.pathname.replace(/\/+$/, '');
    url.pathname = path.endsWith('/api/trace') ? path : `${path}/api/trace`;
    endpoint = url.toString();
  }
  return withResource(env, endpoint, { api_key: apiKey });
}

function levo(env: AdminEnv): Target {
  const missing = ['LEVOAI_API_KEY', 'LEVOAI_ORG_ID', 'LEVOAI_WORKSPACE_ID', 'LEVOAI_COLLECTOR_URL'].filter((name) => !text(env[name]));
  if (missing.length) return { error: `${missing.join(', ')} must be set for the admin Worker (LEVOAI_COLLECTOR_URL from Levo support)` };
  const url = urlOf(text(env.LEVOAI_COLLECTOR_URL)!);
  if (!url) return { error: 'LEVOAI_COLLECTOR_URL is not an http(s) URL' };
  return withResource(env, tracesUrl(url), {
    authorization: `Bearer ${text(env.LEVOAI_API_KEY)}`,
    'x-levo-organization-id': text(env.LEVOAI_ORG_ID)!,
    'x-levo-workspace-id': text(env.LEVOAI_WORKSPACE_ID)!,
  });
}

function weaveOtel(env: AdminEnv): Target {
  const apiKey = text(env.WANDB_API_KEY);
  const project = text(env.WANDB_PROJECT_ID);
  if (!apiKey || !project) return { error: 'WANDB_API_KEY and WANDB_PROJECT_ID (<entity>/<project>) must be set for the admin Worker' };
  const url = urlOf(text(env.WANDB_HOST) ?? DEFAULT_WEAVE_HOST);
  if (!url) return { error: 'WANDB_HOST is not an http(s) URL' };
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/otel/v1/traces`;
  const basic = btoa(String.fromCharCode(...new TextEncoder().encode(`api:${apiKey}`)));
  return withResource(env, url.toString(), { authorization: `Basic ${basic}`, project_id: project });
}

const TARGETS: Record<OtlpVendor, (env: AdminEnv) => Target> = { logfire, traceloop, langtrace, levo, weave_otel: weaveOtel };

/** Where one of these vendors' spans go, or why they cannot (credentials missing, not a URL). */
export function otlpVendorTarget(env: AdminEnv, vendor: OtlpVendor): Target {
  return TARGETS[vendor](env);
}
