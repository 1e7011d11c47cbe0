import { GatewayError } from '../../errors.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import { type OpenAICompatibleFlavor, ENDPOINT_PATHS, openAICompatible, type UpstreamTarget } from '../openai-compatible/adapter.ts';
import { VLLM_PARAMS } from '../openai-compatible/params.ts';
import { upstreamUrl } from '../upstream-url.ts';

/** `hosted_vllm/<model>`: a self-hosted vLLM (OpenAI-compatible) server at `api_base`; the key is optional. */
export const hostedVllmFlavor: OpenAICompatibleFlavor = {
  id: 'hosted_vllm',
  label: 'Hosted_vllm',
  endpoints: ['chat', 'completion', 'embedding', 'responses', 'rerank'],
  supported: VLLM_PARAMS,
  target: (deployment, endpoint) => serverTarget(deployment, ENDPOINT_PATHS[endpoint]),
};

function serverTarget(deployment: DeploymentRef, path: string): UpstreamTarget {
  const base = deployment.params.api_base;
  if (!base) {
    throw new GatewayError(`Deployment misconfigured: ${deployment.provider}/${deployment.model} needs api_base`, {
      status: 500, type: 'internal_server_error', provider: deployment.provider,
    });
  }
  const key = deployment.params.api_key;
  const headers: Record<string, string> = { ...deployment.params.extra_headers };
  if (key) headers.authorization = `Bearer ${key}`;
  return { url: upstreamUrl(base, path), headers, secret: key };
}

export const hostedVllm = openAICompatible(hostedVllmFlavor);
export const vllm = openAICompatible({ ...hostedVllmFlavor, id: 'vllm' });
/** `openai_compatible/` and `litellm_proxy/`: any OpenAI-wire server at `api_base`, every field passed on. */
// vLLM's server has no Files or Batch API; any other OpenAI-wire server may (another LiteLLM proxy does).
export const openaiCompatible = openAICompatible({ ...hostedVllmFlavor, id: 'openai_compatible', label: 'OpenAICompatible', supported: undefined, objectTarget: serverTarget });
export const litellmProxy = openAICompatible({ ...hostedVllmFlavor, id: 'litellm_proxy', label: 'LiteLLMProxy', supported: undefined, objectTarget: serverTarget });
