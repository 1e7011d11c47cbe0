import type { UsageReport } from '../types.ts';

/** Chat and completions say prompt/completion tokens; the Responses API input/output tokens. */
interface OpenAIUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown; image_tokens?: unknown } | null;
  completion_tokens_details?: { image_tokens?: unknown; reasoning_tokens?: unknown } | null;
  input_tokens?: unknown;
  output_tokens?: unknown;
  input_tokens_details?: { cached_tokens?: unknown; image_tokens?: unknown } | null;
  output_tokens_details?: { image_tokens?: unknown; reasoning_tokens?: unknown } | null;
}

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** OpenAI's `usage` object as the gateway counts it. */
export function readOpenAIUsage(given: unknown): UsageReport | undefined {
  if (!given || typeof given !== 'object') return undefined;
  const usage = given as OpenAIUsage;
  const report: UsageReport = {
    promptTokens: count(usage.prompt_tokens ?? usage.input_tokens),
    completionTokens: count(usage.completion_tokens ?? usage.output_tokens),
    cachedPromptTokens: count(usage.prompt_tokens_details?.cached_tokens ?? usage.input_tokens_details?.cached_tokens),
    cacheCreationTokens: 0,
    reported: true,
  };
  // Image tokens (gpt-image-1's input images and output; a chat model's image output), priced apart where the model says.
  const imageIn = count(usage.prompt_tokens_details?.image_tokens ?? usage.input_tokens_details?.image_tokens);
  const imageOut = count(usage.completion_tokens_details?.image_tokens ?? usage.output_tokens_details?.image_tokens);
  if (imageIn) report.imagePromptTokens = imageIn;
  if (imageOut) report.imageCompletionTokens = imageOut;
  const reasoning = count(usage.completion_tokens_details?.reasoning_tokens ?? usage.output_tokens_details?.reasoning_tokens);
  if (reasoning) report.reasoningTokens = reasoning;
  return report;
}

/** No tokens, as reported: an answer that is not billed (a list, a file, an error), or a session before its first response. */
export const NO_USAGE: UsageReport = Object.freeze({ promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true });

/** About four characters a token: the stand-in when a provider never said (a stream cut short). */
export function estimateTokens(chars: number): number {
  return chars > 0 ? Math.ceil(chars / 4) : 0;
}

export function estimatedUsage(promptTokens: number, completionChars: number): UsageReport {
  return { promptTokens, completionTokens: estimateTokens(completionChars), cachedPromptTokens: 0, cacheCreationTokens: 0, reported: false };
}
