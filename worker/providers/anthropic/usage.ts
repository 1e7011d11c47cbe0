import type { UsageReport } from '../types.ts';
import type { AnthropicUsage } from './schemas.ts';

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** Anthropic's counts, merged: a stream reports input at message_start and cumulative totals at message_delta. */
export interface AnthropicTokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

export const NO_TOKENS: AnthropicTokenCounts = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 };

/** Overlays the counts a usage object carries (absent and null fields keep what was known). */
export function mergeUsage(known: AnthropicTokenCounts, usage: AnthropicUsage | null | undefined): AnthropicTokenCounts {
  if (!usage) return known;
  return {
    input: usage.input_tokens == null ? known.input : count(usage.input_tokens),
    output: usage.output_tokens == null ? known.output : count(usage.output_tokens),
    cacheRead: usage.cache_read_input_tokens == null ? known.cacheRead : count(usage.cache_read_input_tokens),
    cacheCreation: usage.cache_creation_input_tokens == null ? known.cacheCreation : count(usage.cache_creation_input_tokens),
  };
}

/**
 * As the gateway counts it (worker/cost/cost.ts): prompt tokens include the
 * cache reads and the cache writes, each priced at its own rate.
 */
export function usageReport(tokens: AnthropicTokenCounts, reported: boolean): UsageReport {
  return {
    promptTokens: tokens.input + tokens.cacheRead + tokens.cacheCreation,
    completionTokens: tokens.output,
    cachedPromptTokens: tokens.cacheRead,
    cacheCreationTokens: tokens.cacheCreation,
    reported,
  };
}

/**
 * OpenAI's `usage` object, with LiteLLM's additions: Anthropic's cache counts
 * as top-level fields, cache reads also as `prompt_tokens_details.cached_tokens`.
 */
export function openAIUsage(tokens: AnthropicTokenCounts) {
  const prompt = tokens.input + tokens.cacheRead + tokens.cacheCreation;
  return {
    prompt_tokens: prompt,
    completion_tokens: tokens.output,
    total_tokens: prompt + tokens.output,
    prompt_tokens_details: { cached_tokens: tokens.cacheRead },
    cache_creation_input_tokens: tokens.cacheCreation,
    cache_read_input_tokens: tokens.cacheRead,
  };
}
