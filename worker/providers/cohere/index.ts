import { type OpenAICompatibleFlavor, ENDPOINT_PATHS, envString, openAICompatible } from '../openai-compatible/adapter.ts';
import { upstreamUrl } from '../upstream-url.ts';

export const COHERE_API_BASE = 'https://api.cohere.com/v2';

/**
 * `cohere/<model>`: Cohere's rerank API (`{api_base}/rerank`, v2 by default), Bearer auth with
 * `api_key` or COHERE_API_KEY; the request and answer pass as they are. Cohere's chat API speaks its
 * own format, not served here.
 */
export const cohereFlavor: OpenAICompatibleFlavor = {
  id: 'cohere',
  label: 'Cohere',
  endpoints: ['rerank'],
  // Cohere's rerank fields (v1 and v2) pass on as the client sent them.
  supported: undefined,
  target(deployment, endpoint, env) {
    const key = deployment.params.api_key ?? envString(env, 'COHERE_API_KEY');
    const base = deployment.params.api_base ?? envString(env, 'COHERE_API_BASE') ?? COHERE_API_BASE;
    const headers: Record<string, string> = { ...deployment.params.extra_headers };
    if (key) headers.authorization = `Bearer ${key}`;
    return { url: upstreamUrl(base, ENDPOINT_PATHS[endpoint]), headers, secret: key };
  },
};

export const cohere = openAICompatible(cohereFlavor);
