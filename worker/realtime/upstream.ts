import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { envString } from '../providers/openai-compatible/adapter.ts';
import { OPENAI_API_BASE } from '../providers/openai/index.ts';
import { displayBase, upstreamUrl } from '../providers/upstream-url.ts';

/** Azure's Realtime API version when none is configured (its WebSocket route's first). */
export const AZURE_REALTIME_API_VERSION = '2024-10-01-preview';

export interface RealtimeTarget {
  /** http(s): a Worker opens a WebSocket with fetch and `Upgrade: websocket`. */
  url: URL;
  headers: Record<string, string>;
  apiBase: string;
  /** The credential, kept out of any error the upstream's answer becomes. */
  secret: string | undefined;
}

// Azure's GA Realtime API (`/openai/v1/realtime?model=`) is asked for with these versions, as LiteLLM's realtime_protocol does.
const AZURE_GA_VERSIONS = new Set(['v1', 'preview', 'latest', 'GA']);

/** Providers whose deployments serve the Realtime API over a WebSocket. */
export const REALTIME_PROVIDERS: ReadonlySet<string> = new Set(['openai', 'azure']);

/**
 * Where a deployment's Realtime session opens: OpenAI's `{api_base}/realtime?model=` with its key as a
 * bearer token, or Azure OpenAI's `{api_base}/openai/realtime?api-version=&deployment=` with `api-key`.
 */
export function realtimeTarget(d: DeploymentRef, env: Record<string, unknown>, extra: Record<string, string> = {}): RealtimeTarget {
  const headers: Record<string, string> = {};
  let url: URL;
  let key: string | undefined;
  if (d.provider === 'azure') {
    const base = d.params.api_base ?? envString(env, 'AZURE_API_BASE');
    if (!base) throw misconfigured(`azure/${d.model} needs api_base (or AZURE_API_BASE)`);
    // Only the deployment's own api_version: AZURE_API_VERSION is usually a chat version, which Azure's realtime route does not know.
    const version = d.params.api_version ?? AZURE_REALTIME_API_VERSION;
    url = AZURE_GA_VERSIONS.has(version)
      ? upstreamUrl(base, 'openai/v1/realtime', { model: d.model, ...extra })
      : upstreamUrl(base, 'openai/realtime', { 'api-version': version, deployment: d.model, ...extra });
    key = d.params.api_key ?? envString(env, 'AZURE_API_KEY');
    if (key) headers['api-key'] = key;
  } else {
    url = upstreamUrl(d.params.api_base ?? envString(env, 'OPENAI_API_BASE') ?? OPENAI_API_BASE, 'realtime', { model: d.model, ...extra });
    key = d.params.api_key ?? envString(env, 'OPENAI_API_KEY');
    if (key) headers.authorization = `Bearer ${key}`;
    if (d.params.organization) headers['openai-organization'] = d.params.organization;
  }
  for (const [name, value] of Object.entries(d.params.extra_headers ?? {})) headers[name.toLowerCase()] = value;
  return { url, headers, apiBase: displayBase(url), secret: key };
}

function misconfigured(message: string): GatewayError {
  return new GatewayError(`Deployment misconfigured: ${message}`, { status: 500, type: 'internal_server_error' });
}
