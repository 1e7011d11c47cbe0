import type { DeploymentRef } from '../models/deployments.ts';
import type { UpstreamTarget } from '../providers/openai-compatible/adapter.ts';
import { openaiFlavor } from '../providers/openai/index.ts';
import { azureTarget } from '../providers/azure/index.ts';
import { displayBase } from '../providers/upstream-url.ts';

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
  let target: UpstreamTarget;
  if (d.provider === 'azure') {
    // Only the deployment's own api_version: AZURE_API_VERSION is usually a chat version, which Azure's realtime route does not know.
    const version = d.params.api_version ?? AZURE_REALTIME_API_VERSION;
    const ga = AZURE_GA_VERSIONS.has(version);
    target = azureTarget(d, ga ? 'openai/v1/realtime' : 'openai/realtime', version, env);
    if (ga) target.url.searchParams.delete('api-version');
    target.url.searchParams.set(ga ? 'model' : 'deployment', d.model);
  } else {
    target = openaiFlavor.objectTarget!(d, 'realtime', env);
    target.url.searchParams.set('model', d.model);
  }
  for (const [name, value] of Object.entries(extra)) target.url.searchParams.set(name, value);
  const headers = Object.fromEntries(Object.entries(target.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { url: target.url, headers, apiBase: displayBase(target.url), secret: target.secret };
}
