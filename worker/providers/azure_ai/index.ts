import { GatewayError } from '../../errors.ts';
import { type OpenAICompatibleFlavor, envString, openAICompatible } from '../openai-compatible/adapter.ts';
import { upstreamUrl } from '../upstream-url.ts';

/**
 * `azure_ai/<model>`: Azure AI Foundry's Mistral Document AI (`azure_ai/mistral-document-ai-2505`), LiteLLM's
 * OCR API at `{api_base}/providers/mistral/azure/ocr`, Bearer auth with `api_key` or AZURE_AI_API_KEY, base
 * `api_base` or AZURE_AI_API_BASE. Mistral's request and answer, with the document inline (ocr.ts). Azure AI's
 * chat models are not served here.
 */
export const azureAiFlavor: OpenAICompatibleFlavor = {
  id: 'azure_ai',
  label: 'Azure_ai',
  endpoints: ['ocr'],
  supported: undefined,
  target(deployment, _endpoint, env) {
    const key = deployment.params.api_key ?? envString(env, 'AZURE_AI_API_KEY');
    const base = deployment.params.api_base ?? envString(env, 'AZURE_AI_API_BASE');
    if (!base) {
      throw new GatewayError(`Deployment misconfigured: azure_ai/${deployment.model} needs api_base (or AZURE_AI_API_BASE)`, {
        status: 500, type: 'internal_server_error', provider: 'azure_ai',
      });
    }
    const headers: Record<string, string> = { ...deployment.params.extra_headers };
    if (key) headers.authorization = `Bearer ${key}`;
    return { url: upstreamUrl(base, 'providers/mistral/azure/ocr'), headers, secret: key };
  },
};

export const azureAi = openAICompatible(azureAiFlavor);
