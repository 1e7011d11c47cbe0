import { GatewayError } from '../../errors.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import { type OpenAICompatibleFlavor, ENDPOINT_PATHS, envString, openAICompatible, type UpstreamTarget } from '../openai-compatible/adapter.ts';
import { OPENAI_PARAMS } from '../openai-compatible/params.ts';
import { upstreamUrl } from '../upstream-url.ts';

/** Used when neither the deployment nor AZURE_API_VERSION names one (a GA version). */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

/** The Responses API's first api-version on Azure: the default when none is configured (DEFAULT_AZURE_API_VERSION predates it). */
export const AZURE_RESPONSES_API_VERSION = '2025-03-01-preview';

/** Image edits' api-version when none is configured (earlier versions have no images/edits route). */
export const AZURE_IMAGE_EDIT_API_VERSION = '2025-04-01-preview';

/**
 * `azure/<deployment>`: `{api_base}/openai/deployments/{deployment}/{path}?api-version=...`
 * with the key in an `api-key` header, as Azure OpenAI expects; the Responses API at
 * `{api_base}/openai/responses?api-version=...`, the deployment named in the body's `model`.
 */
export const azureFlavor: OpenAICompatibleFlavor = {
  id: 'azure',
  label: 'Azure',
  endpoints: ['chat', 'completion', 'embedding', 'responses', 'image_generation', 'speech', 'transcription', 'image_edit'],
  supported: OPENAI_PARAMS,
  target(deployment, endpoint, env) {
    const configured = deployment.params.api_version ?? envString(env, 'AZURE_API_VERSION');
    // The Responses API and image edits (gpt-image-1) came with 2025 preview versions: the default for them.
    const version = configured ?? (endpoint === 'responses' ? AZURE_RESPONSES_API_VERSION : endpoint === 'image_edit' ? AZURE_IMAGE_EDIT_API_VERSION : DEFAULT_AZURE_API_VERSION);
    const path = endpoint === 'responses' ? 'openai/responses' : `openai/deployments/${encodeURIComponent(deployment.model)}/${ENDPOINT_PATHS[endpoint]}`;
    return azureTarget(deployment, path, version, env);
  },
  // Files and batches belong to the resource, not a deployment: `{api_base}/openai/files`, `/openai/batches` (GA in 2024-10-21).
  // The Videos API is only on Azure's v1 API (`/openai/v1/videos`), which takes no dated api-version.
  objectTarget: (deployment, path, env) => (path.startsWith('v1/')
    ? azureTarget(deployment, `openai/${path}`, '', env)
    : azureTarget(deployment, `openai/${path}`, deployment.params.api_version ?? envString(env, 'AZURE_API_VERSION') ?? DEFAULT_AZURE_API_VERSION, env)),
};

/** `{api_base}/{path}?api-version=` with the deployment's `api-key` (the Realtime API's socket too). */
export function azureTarget(deployment: DeploymentRef, path: string, version: string, env: Record<string, unknown>): UpstreamTarget {
  const base = deployment.params.api_base ?? envString(env, 'AZURE_API_BASE');
  if (!base) {
    throw new GatewayError(`Deployment misconfigured: azure/${deployment.model} needs api_base (or AZURE_API_BASE)`, {
      status: 500, type: 'internal_server_error', provider: 'azure',
    });
  }
  const key = deployment.params.api_key ?? envString(env, 'AZURE_API_KEY');
  const headers: Record<string, string> = { ...deployment.params.extra_headers };
  if (key) headers['api-key'] = key;
  return { url: upstreamUrl(base, path, version ? { 'api-version': version } : {}), headers, secret: key };
}

export const azure = openAICompatible(azureFlavor);
