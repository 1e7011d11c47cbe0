/**
 * What a request cost, from its token usage and the model's price (the
 * bundled table, with config.yaml's per-deployment overrides on top).
 */
import type { ModelPrice } from './prices.ts';

/**
 * Token counts of one request, in LiteLLM's (OpenAI's) convention: promptTokens
 * counts every input token, cached or not.
 */
export interface TokenUsage {
  /** All input tokens, including cachedPromptTokens and cacheCreationTokens. */
  promptTokens: number;
  completionTokens: number;
  /** Read from the prompt cache; part of promptTokens (OpenAI's prompt_tokens_details.cached_tokens, Anthropic's cache_read_input_tokens). */
  cachedPromptTokens?: number;
  /**
   * Written to the prompt cache (Anthropic's cache_creation_input_tokens); part of
   * promptTokens, as LiteLLM adds Anthropic's cache reads and writes to prompt_tokens.
   */
  cacheCreationTokens?: number;
  /** Image tokens among promptTokens (an edit's input images; OpenAI's input_tokens_details.image_tokens). */
  imagePromptTokens?: number;
  /** Image tokens among completionTokens (the images gpt-image-1 or Gemini make). */
  imageCompletionTokens?: number;
  /** Uncached audio tokens among promptTokens, and audio tokens among completionTokens (the realtime models'). */
  audioPromptTokens?: number;
  audioCompletionTokens?: number;
}

/** Per-deployment prices from config.yaml (`model_info` or `litellm_params`), USD per token. */
export interface PriceOverride {
  input_cost_per_token?: number;
  output_cost_per_token?: number;
  cache_read_input_token_cost?: number;
  cache_creation_input_token_cost?: number;
  input_cost_per_image_token?: number;
  output_cost_per_image_token?: number;
  input_cost_per_audio_token?: number;
  output_cost_per_audio_token?: number;
}

/** A usable count or price: finite and not negative. Anything else (NaN, -1, a string) is no value. */
function valid(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function tokens(value: number | undefined): number {
  return valid(value) ? value : 0;
}

// Results are rounded to 1e-12 USD. The cheapest token in the table costs 1.3e-10,
// so nothing real is lost, and sums like 800 × 2.5e-6 come out as 0.002 rather
// than 0.0020000000000000005 in spend logs and x-litellm-response-cost.
const PICO = 1e12;

/** USD per token of each kind, as computeCost prices them. */
export interface TokenRates {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  imageInput: number;
  imageOutput: number;
  audioInput: number;
  audioOutput: number;
}

/**
 * The per-token prices a call is billed at: each override field replaces the table's field of the same
 * name; cache, image and audio prices fall back to the text prices; no price at all is 0.
 */
export function tokenRates(price: ModelPrice | undefined, overrides?: PriceOverride): TokenRates {
  const pick = (override: number | undefined, fromTable: number | undefined): number | undefined =>
    valid(override) ? override : valid(fromTable) ? fromTable : undefined;
  const input = pick(overrides?.input_cost_per_token, price?.inputCostPerToken) ?? 0;
  const output = pick(overrides?.output_cost_per_token, price?.outputCostPerToken) ?? 0;
  return {
    input,
    output,
    cacheRead: pick(overrides?.cache_read_input_token_cost, price?.cacheReadCostPerToken) ?? input,
    cacheCreation: pick(overrides?.cache_creation_input_token_cost, price?.cacheCreationCostPerToken) ?? input,
    // Image tokens at their own prices where the model has them (as LiteLLM's generic_cost_per_token), else as text tokens.
    imageInput: pick(overrides?.input_cost_per_image_token, price?.inputCostPerImageToken) ?? input,
    imageOutput: pick(overrides?.output_cost_per_image_token, price?.outputCostPerImageToken) ?? output,
    audioInput: pick(overrides?.input_cost_per_audio_token, price?.inputCostPerAudioToken) ?? input,
    audioOutput: pick(overrides?.output_cost_per_audio_token, price?.outputCostPerAudioToken) ?? output,
  };
}

/**
 * Cost in USD: uncached text input × input price + cache reads × cache-read price
 * + cache writes × cache-creation price + input image and audio tokens × their prices
 * + text completion × output price + image and audio completion tokens × their prices. Cache
 * prices fall back to the input price when the model has none. Each override
 * field replaces the table's field of the same name. No price and no override
 * costs 0 (self-hosted and mock models). Negative or NaN counts count as 0.
 */
export function computeCost(usage: TokenUsage, price: ModelPrice | undefined, overrides?: PriceOverride): number {
  const { input, output, cacheRead, cacheCreation, imageInput, imageOutput, audioInput, audioOutput } = tokenRates(price, overrides);
  const prompt = tokens(usage.promptTokens);
  const cached = tokens(usage.cachedPromptTokens);
  const created = tokens(usage.cacheCreationTokens);
  const completion = tokens(usage.completionTokens);
  // Clamped: a provider reporting more cached (or image) than prompt tokens must not earn a credit.
  const imageIn = Math.min(tokens(usage.imagePromptTokens), Math.max(0, prompt - cached - created));
  const audioIn = Math.min(tokens(usage.audioPromptTokens), Math.max(0, prompt - cached - created - imageIn));
  const uncached = Math.max(0, prompt - cached - created - imageIn - audioIn);
  const imageOut = Math.min(tokens(usage.imageCompletionTokens), completion);
  const audioOut = Math.min(tokens(usage.audioCompletionTokens), completion - imageOut);

  const total = uncached * input + cached * cacheRead + created * cacheCreation + imageIn * imageInput + audioIn * audioInput
    + (completion - imageOut - audioOut) * output + imageOut * imageOutput + audioOut * audioOutput;
  return Math.round(total * PICO) / PICO;
}

/**
 * The model's context window as LiteLLM's pre-call checks use it: its maximum
 * input tokens, or undefined when unknown.
 */
export function contextWindow(price?: ModelPrice): number | undefined {
  return price?.maxInputTokens;
}
