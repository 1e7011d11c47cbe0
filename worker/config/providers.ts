/**
 * Provider ids, as written before the slash in `litellm_params.model`
 * (`azure/gpt-4o`, `bedrock/anthropic.claude-...`). The config accepts every
 * id here; a request to a provider that has no adapter yet fails with a clear
 * 501 instead of the config failing to load.
 */
export const KNOWN_PROVIDERS = [
  'openai', 'azure', 'azure_ai', 'anthropic', 'bedrock', 'vertex_ai', 'gemini',
  'hosted_vllm', 'vllm', 'openai_compatible', 'litellm_proxy', 'text-completion-openai',
  'groq', 'together_ai', 'deepseek', 'mistral', 'fireworks_ai', 'xai', 'perplexity',
  'openrouter', 'deepinfra', 'cerebras', 'ollama', 'ollama_chat', 'cohere', 'mock',
] as const;

export type ProviderId = (typeof KNOWN_PROVIDERS)[number];

/** Providers with an adapter in worker/providers/. A test keeps this equal to the registry. */
export const IMPLEMENTED_PROVIDERS: ReadonlySet<ProviderId> = new Set<ProviderId>([
  'openai', 'text-completion-openai', 'azure', 'anthropic', 'hosted_vllm', 'vllm', 'openai_compatible', 'litellm_proxy', 'mock',
  'groq', 'together_ai', 'deepseek', 'mistral', 'fireworks_ai', 'xai', 'perplexity', 'openrouter', 'deepinfra', 'cerebras',
  'bedrock', 'vertex_ai', 'gemini', 'cohere', 'azure_ai',
]);

const known: ReadonlySet<string> = new Set(KNOWN_PROVIDERS);

// LiteLLM lets well-known model names go without a prefix; these are the families it infers.
const BARE_NAME_PROVIDERS: [RegExp, ProviderId][] = [
  [/^(gpt-|o[1-9](-|$)|chatgpt-|text-embedding-|davinci|babbage|dall-e|whisper|tts-|omni-moderation|text-moderation)/, 'openai'],
  [/^claude-/, 'anthropic'],
];

export type ModelRef =
  | { ok: true; provider: ProviderId; model: string }
  | { ok: false; message: string };

/** Splits `provider/model` (or infers the provider of a bare well-known name). */
export function parseModelRef(ref: string): ModelRef {
  const slash = ref.indexOf('/');
  if (slash > 0) {
    const provider = ref.slice(0, slash);
    const model = ref.slice(slash + 1);
    if (!known.has(provider)) return { ok: false, message: `unknown provider "${provider}"` };
    if (!model) return { ok: false, message: `missing model name after "${provider}/"` };
    return { ok: true, provider: provider as ProviderId, model };
  }
  if (ref === '*') return { ok: true, provider: 'openai', model: '*' };
  for (const [pattern, provider] of BARE_NAME_PROVIDERS) {
    if (pattern.test(ref)) return { ok: true, provider, model: ref };
  }
  return { ok: false, message: `cannot tell the provider of "${ref}"; write it with a provider prefix such as "openai/${ref}"` };
}

/** Azure Document Intelligence (`azure_ai/doc-intelligence/*`): another API than the Mistral OCR azure_ai/ speaks; not served. */
export const AZURE_DOCUMENT_INTELLIGENCE = /doc-intelligence|documentintelligence/i;
