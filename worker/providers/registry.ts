import type { ProviderId } from '../config/providers.ts';
import { anthropic } from './anthropic/index.ts';
import { azure } from './azure/index.ts';
import { bedrock } from './bedrock/index.ts';
import { gemini } from './gemini/index.ts';
import { hostedVllm, litellmProxy, openaiCompatible, vllm } from './hosted_vllm/index.ts';
import { mock } from './mock/index.ts';
import { openai, textCompletionOpenai } from './openai/index.ts';
import { hostedOpenAICompatible } from './openai-compatible/hosted.ts';
import type { ProviderAdapter } from './types.ts';
import { vertexAi } from './vertex_ai/index.ts';

/** Every provider with an adapter. `IMPLEMENTED_PROVIDERS` in config/providers.ts must name the same set (a test checks). */
export const PROVIDERS: ReadonlyMap<ProviderId, ProviderAdapter> = new Map(
  [openai, textCompletionOpenai, azure, anthropic, hostedVllm, vllm, openaiCompatible, litellmProxy, mock, ...hostedOpenAICompatible, bedrock, vertexAi, gemini]
    .map((adapter) => [adapter.id, adapter]),
);
