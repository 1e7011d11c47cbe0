import type { ProviderId } from '../config/providers.ts';
import { azure } from './azure/index.ts';
import { hostedVllm, litellmProxy, openaiCompatible, vllm } from './hosted_vllm/index.ts';
import { mock } from './mock/index.ts';
import { openai, textCompletionOpenai } from './openai/index.ts';
import { hostedOpenAICompatible } from './openai-compatible/hosted.ts';
import type { ProviderAdapter } from './types.ts';

/** Every provider with an adapter. `IMPLEMENTED_PROVIDERS` in config/providers.ts must name the same set (a test checks). */
export const PROVIDERS: ReadonlyMap<ProviderId, ProviderAdapter> = new Map(
  [openai, textCompletionOpenai, azure, hostedVllm, vllm, openaiCompatible, litellmProxy, mock, ...hostedOpenAICompatible]
    .map((adapter) => [adapter.id, adapter]),
);
