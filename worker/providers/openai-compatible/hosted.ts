import type { ProviderId } from '../../config/providers.ts';
import { upstreamUrl } from '../upstream-url.ts';
import { type OpenAICompatibleFlavor, ENDPOINT_PATHS, envString, openAICompatible } from './adapter.ts';

/** Hosted services that speak OpenAI's wire format: only the base URL and the key's env name differ. */
const HOSTED: [ProviderId, string, string, string][] = [
  ['groq', 'Groq', 'https://api.groq.com/openai/v1', 'GROQ_API_KEY'],
  ['together_ai', 'Together_ai', 'https://api.together.xyz/v1', 'TOGETHERAI_API_KEY'],
  ['deepseek', 'Deepseek', 'https://api.deepseek.com/v1', 'DEEPSEEK_API_KEY'],
  ['mistral', 'Mistral', 'https://api.mistral.ai/v1', 'MISTRAL_API_KEY'],
  ['fireworks_ai', 'Fireworks_ai', 'https://api.fireworks.ai/inference/v1', 'FIREWORKS_AI_API_KEY'],
  ['xai', 'Xai', 'https://api.x.ai/v1', 'XAI_API_KEY'],
  ['perplexity', 'Perplexity', 'https://api.perplexity.ai', 'PERPLEXITYAI_API_KEY'],
  ['openrouter', 'Openrouter', 'https://openrouter.ai/api/v1', 'OPENROUTER_API_KEY'],
  ['deepinfra', 'Deepinfra', 'https://api.deepinfra.com/v1/openai', 'DEEPINFRA_API_KEY'],
  ['cerebras', 'Cerebras', 'https://api.cerebras.ai/v1', 'CEREBRAS_API_KEY'],
];

export const hostedOpenAICompatible = HOSTED.map(([id, label, defaultBase, keyEnv]) => {
  const flavor: OpenAICompatibleFlavor = {
    id,
    label,
    // Mistral's OCR API (`{api_base}/ocr`) is LiteLLM's /ocr format.
    endpoints: id === 'mistral' ? ['chat', 'completion', 'embedding', 'ocr'] : ['chat', 'completion', 'embedding'],
    // Their extra sampling fields vary; pass fields through rather than refuse what they may take.
    supported: undefined,
    target(deployment, endpoint, env) {
      const key = deployment.params.api_key ?? envString(env, keyEnv);
      const headers: Record<string, string> = { ...deployment.params.extra_headers };
      if (key) headers.authorization = `Bearer ${key}`;
      return { url: upstreamUrl(deployment.params.api_base ?? defaultBase, ENDPOINT_PATHS[endpoint]), headers, secret: key };
    },
  };
  return openAICompatible(flavor);
});

