import { GatewayError } from '../../errors.ts';
import { type OpenAICompatibleFlavor, ENDPOINT_PATHS, envString, openAICompatible } from '../openai-compatible/adapter.ts';
import { OPENAI_PARAMS } from '../openai-compatible/params.ts';
import { upstreamUrl } from '../upstream-url.ts';

/** Used when neither the deployment nor AZURE_API_VERSION names one (a GA version). */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

/**
 * `azure/<deployment>`: `{api_base}/openai/deployments/{deployment}/{path}?api-version=...`
 * with the key in an `api-key` header, as Azure OpenAI expects.
 */
export const azureFlavor: OpenAICompatibleFlavor = {
  id: 'azure',
  label: 'Azure',
  endpoints: ['chat', 'completion', 'embedding'],
  supported: OPENAI_PARAMS,
  target(deployment, endpoint, env) {
    const base = deployment.params.api_base ?? envString(env, 'AZURE_API_BASE');
    if (!base) {
      throw new GatewayError(`Deployment misconfigured: azure/${deployment.model} needs api_base (or AZURE_API_BASE)`, {
        status: 500, type: 'internal_server_error', provider: 'azure',
      });
    }
    const key = deployment.params.api_key ?? envString(env, 'AZURE_API_KEY');
    const version = deployment.params.api_version ?? envString(env, 'AZURE_API_VERSION') ?? DEFAULT_AZURE_API_VERSION;
    const path = `openai/deployments/${encodeURIComponent(deployment.model)}/${ENDPOINT_PATHS[endpoint]}`;
    const headers: Record<string, string> = { ...deployment.params.extra_headers };
    if (key) headers['api-key'] = key;
    return { url: upstreamUrl(base, path, { 'api-version': version }), headers, secret: key };
  },
};

export const azure = openAICompatible(azureFlavor);
