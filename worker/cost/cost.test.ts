import { describe, expect, it } from 'vitest';
import { computeCost, contextWindow } from './cost.ts';
import { findPrice, priceCandidates, type ModelPrice } from './prices.ts';

function price(provider: string, model: string, baseModel?: string): ModelPrice {
  const found = findPrice(priceCandidates(provider, model, baseModel));
  if (!found) throw new Error(`no price for ${provider}/${model}`);
  return found;
}

describe('computeCost', () => {
  it('prices gpt-4o prompt, cached and completion tokens from the table', () => {
    const gpt4o = price('openai', 'gpt-4o'); // 2.5e-6 in, 1e-5 out, 1.25e-6 cache read
    // 800 × 2.5e-6 + 200 × 1.25e-6 + 500 × 1e-5
    expect(computeCost({ promptTokens: 1000, completionTokens: 500, cachedPromptTokens: 200 }, gpt4o)).toBe(0.00725);
    expect(computeCost({ promptTokens: 1000, completionTokens: 500 }, gpt4o)).toBe(0.0075);
  });

  it('prices azure/gpt-4o through the azure candidates', () => {
    expect(computeCost({ promptTokens: 1000, completionTokens: 500, cachedPromptTokens: 200 }, price('azure', 'gpt-4o'))).toBe(0.00725);
    // Azure's gpt-4o-mini row: 1.65e-7 in, 6.6e-7 out, 7.5e-8 cache read.
    expect(computeCost({ promptTokens: 1_000_000, completionTokens: 1_000_000, cachedPromptTokens: 400_000 }, price('azure', 'gpt-4o-mini')))
      .toBe(0.099 + 0.03 + 0.66);
  });

  it('prices Anthropic cache reads and writes, both counted inside promptTokens', () => {
    const sonnet = price('anthropic', 'claude-sonnet-4-5-20250929'); // 3e-6 in, 1.5e-5 out, 3e-7 read, 3.75e-6 write
    // 1500 × 3e-6 + 1000 × 3e-7 + 500 × 3.75e-6 + 200 × 1.5e-5
    const usage = { promptTokens: 3000, completionTokens: 200, cachedPromptTokens: 1000, cacheCreationTokens: 500 };
    expect(computeCost(usage, sonnet)).toBe(0.009675);
  });

  it('prices a Bedrock cross-region Claude at its regional row', () => {
    const usage = { promptTokens: 10_000, completionTokens: 1000, cachedPromptTokens: 4000, cacheCreationTokens: 2000 };
    // us.: 4000 × 3.3e-6 + 4000 × 3.3e-7 + 2000 × 4.125e-6 + 1000 × 1.65e-5
    expect(computeCost(usage, price('bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'))).toBe(0.03927);
    // global.: 4000 × 3e-6 + 4000 × 3e-7 + 2000 × 3.75e-6 + 1000 × 1.5e-5
    expect(computeCost(usage, price('bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'))).toBe(0.0357);
  });

  it('prices a Vertex Gemini and a Gemini API model', () => {
    // 3e-7 in, 2.5e-6 out, 3e-8 cache read on both.
    const usage = { promptTokens: 20_000, completionTokens: 2000, cachedPromptTokens: 10_000 };
    expect(computeCost(usage, price('vertex_ai', 'gemini-2.5-flash'))).toBe(0.003 + 0.0003 + 0.005);
    expect(computeCost(usage, price('gemini', 'gemini-2.5-flash'))).toBe(0.0083);
  });

  it('bills cache tokens at the input price when the model has no cache price', () => {
    const llama = price('groq', 'llama-3.3-70b-versatile'); // 5.9e-7 in, 7.9e-7 out
    expect(computeCost({ promptTokens: 1000, completionTokens: 1000, cachedPromptTokens: 300, cacheCreationTokens: 100 }, llama))
      .toBe(computeCost({ promptTokens: 1000, completionTokens: 1000 }, llama));
    expect(computeCost({ promptTokens: 1000, completionTokens: 1000 }, llama)).toBe(0.00138);
  });

  it('prices embeddings on input only', () => {
    expect(computeCost({ promptTokens: 1_000_000, completionTokens: 0 }, price('openai', 'text-embedding-3-small'))).toBe(0.02);
  });

  it('costs nothing for an unknown self-hosted model', () => {
    expect(findPrice(priceCandidates('hosted_vllm', 'meta-llama/Llama-3.1-8B-Instruct'))).toBeUndefined();
    expect(computeCost({ promptTokens: 5000, completionTokens: 5000, cachedPromptTokens: 100 }, undefined)).toBe(0);
    expect(computeCost({ promptTokens: 5000, completionTokens: 5000 }, undefined, {})).toBe(0);
  });

  it('lets overrides win field by field', () => {
    const gpt4o = price('openai', 'gpt-4o');
    const usage = { promptTokens: 1000, completionTokens: 500, cachedPromptTokens: 200 };
    // Input overridden; the table's cache-read and output prices stay: 800 × 1e-6 + 200 × 1.25e-6 + 500 × 1e-5
    expect(computeCost(usage, gpt4o, { input_cost_per_token: 1e-6 })).toBe(0.00605);
    expect(computeCost(usage, gpt4o, {
      input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, cache_read_input_token_cost: 0,
    })).toBe(0.0018);
    // A free deployment of a priced model.
    expect(computeCost(usage, gpt4o, { input_cost_per_token: 0, output_cost_per_token: 0, cache_read_input_token_cost: 0 })).toBe(0);
    // Overrides price a model the table does not know; cache reads fall back to the overridden input price.
    expect(computeCost(usage, undefined, { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 })).toBe(0.002);
    expect(computeCost({ promptTokens: 100, completionTokens: 0, cacheCreationTokens: 100 }, undefined, {
      input_cost_per_token: 1e-6, cache_creation_input_token_cost: 1.25e-6,
    })).toBe(0.000125);
  });

  it('ignores invalid override values', () => {
    const gpt4o = price('openai', 'gpt-4o');
    const usage = { promptTokens: 1000, completionTokens: 500 };
    const bad = { input_cost_per_token: Number.NaN, output_cost_per_token: -1, cache_read_input_token_cost: '1' as unknown as number };
    expect(computeCost(usage, gpt4o, bad)).toBe(0.0075);
  });

  it('treats negative, NaN and infinite counts as 0', () => {
    const gpt4o = price('openai', 'gpt-4o');
    expect(computeCost({ promptTokens: -100, completionTokens: Number.NaN }, gpt4o)).toBe(0);
    expect(computeCost({ promptTokens: 1000, completionTokens: Infinity, cachedPromptTokens: -5 }, gpt4o)).toBe(0.0025);
    expect(computeCost({ promptTokens: 1000, completionTokens: 0, cachedPromptTokens: Number.NaN, cacheCreationTokens: -1 }, gpt4o)).toBe(0.0025);
  });

  it('never credits uncached input when cache counts exceed the prompt', () => {
    const gpt4o = price('openai', 'gpt-4o');
    // 0 uncached + 300 × 1.25e-6
    expect(computeCost({ promptTokens: 100, completionTokens: 0, cachedPromptTokens: 300 }, gpt4o)).toBe(0.000375);
  });

  it('prices image tokens at the model\'s image-token prices, text tokens at its token prices', () => {
    const image = price('openai', 'gpt-image-1'); // 5e-6 text in, 1e-5 image in, 4e-5 image out, no text-out price
    // 50 text × 5e-6 + 250 image × 1e-5 + 1000 image out × 4e-5
    expect(computeCost({ promptTokens: 300, completionTokens: 1000, imagePromptTokens: 250, imageCompletionTokens: 1000 }, image)).toBe(0.04275);
    // Gemini's image output: text out at its token price, image tokens at 3e-5.
    const gemini = price('gemini', 'gemini-2.5-flash-image'); // 3e-7 in, 2.5e-6 out, 3e-5 image out
    expect(computeCost({ promptTokens: 10, completionTokens: 1300, imageCompletionTokens: 1290 }, gemini)).toBe(10 * 3e-7 + 10 * 2.5e-6 + 1290 * 3e-5);
    // A model without image-token prices bills them as text; an override wins as for any other field.
    const gpt4o = price('openai', 'gpt-4o');
    expect(computeCost({ promptTokens: 1000, completionTokens: 500, imagePromptTokens: 600 }, gpt4o)).toBe(0.0075);
    expect(computeCost({ promptTokens: 0, completionTokens: 100, imageCompletionTokens: 100 }, image, { output_cost_per_image_token: 1e-4 })).toBe(0.01);
  });

  it('prices a realtime model\'s audio tokens at its audio prices, its text and cached tokens at theirs', () => {
    const realtime = price('openai', 'gpt-realtime'); // 4e-6 text in, 1.6e-5 text out, 4e-7 cached, 3.2e-5 audio in, 6.4e-5 audio out
    // 1000 prompt: 200 cached, 500 audio, 300 text; 400 out: 300 audio, 100 text.
    expect(computeCost({ promptTokens: 1000, completionTokens: 400, cachedPromptTokens: 200, audioPromptTokens: 500, audioCompletionTokens: 300 }, realtime))
      .toBe(Math.round((300 * 4e-6 + 200 * 4e-7 + 500 * 3.2e-5 + 100 * 1.6e-5 + 300 * 6.4e-5) * 1e12) / 1e12);
    // More audio reported than there were tokens bills no more than the tokens.
    expect(computeCost({ promptTokens: 10, completionTokens: 5, audioPromptTokens: 99, audioCompletionTokens: 99 }, realtime)).toBe(Math.round((10 * 3.2e-5 + 5 * 6.4e-5) * 1e12) / 1e12);
  });

  it('never bills more image tokens than the call had', () => {
    const image = price('openai', 'gpt-image-1');
    // 300 image-in reported of 100 prompt tokens (20 cached): 80 at the image price, 20 at the cache price; 50 out, all image.
    expect(computeCost({ promptTokens: 100, completionTokens: 50, cachedPromptTokens: 20, imagePromptTokens: 300, imageCompletionTokens: 900 }, image))
      .toBe(Math.round((80 * 1e-5 + 20 * 1.25e-6 + 50 * 4e-5) * 1e12) / 1e12);
  });

  it('rounds away binary noise at 1e-12 USD', () => {
    const gpt4o = price('openai', 'gpt-4o');
    expect(3 * 2.5e-6 + 7 * 1e-5).not.toBe(0.0000775); // the float sum is noisy…
    expect(computeCost({ promptTokens: 3, completionTokens: 7 }, gpt4o)).toBe(0.0000775); // …the cost is not
    const embed = price('fireworks_ai', 'nomic-ai/nomic-embed-text-v1.5'); // 8e-9 per token
    expect(computeCost({ promptTokens: 1, completionTokens: 0 }, embed)).toBe(8e-9);
  });
});

describe('contextWindow', () => {
  it('is the maximum input tokens, when known', () => {
    expect(contextWindow(price('openai', 'gpt-4o'))).toBe(128000);
    expect(contextWindow(price('gemini', 'gemini-2.5-flash'))).toBe(1048576);
    expect(contextWindow(price('bedrock', 'anthropic.claude-sonnet-4-5-20250929-v1:0'))).toBe(200000);
    expect(contextWindow(findPrice(['fireworks-ai-up-to-4b']))).toBeUndefined();
    expect(contextWindow(undefined)).toBeUndefined();
    expect(contextWindow()).toBeUndefined();
  });
});
