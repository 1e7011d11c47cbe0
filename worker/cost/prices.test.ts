import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildPriceFile, DEFAULT_INPUT, OUTPUT, serializePriceFile } from '../../scripts/build-prices.ts';
import { findPrice, priceCandidates } from './prices.ts';

const lookup = (provider: string, model: string, baseModel?: string) =>
  findPrice(priceCandidates(provider, model, baseModel));

describe('findPrice', () => {
  it('decodes a row into a ModelPrice, leaving absent values out', () => {
    expect(findPrice(['gpt-4o'])).toEqual({
      inputCostPerToken: 2.5e-6,
      outputCostPerToken: 1e-5,
      cacheReadCostPerToken: 1.25e-6,
      maxInputTokens: 128000,
      maxOutputTokens: 16384,
      provider: 'openai',
      mode: 'chat',
    });
  });

  it('takes the first name that is a key, and memoises the decoded row', () => {
    const first = findPrice(['no-such-model', 'claude-sonnet-4-5-20250929', 'gpt-4o']);
    expect(first?.provider).toBe('anthropic');
    expect(first?.cacheCreationCostPerToken).toBe(3.75e-6);
    expect(findPrice(['claude-sonnet-4-5-20250929'])).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('matches exact keys only', () => {
    expect(findPrice([])).toBeUndefined();
    expect(findPrice(['GPT-4o', 'gpt-4o ', 'gpt-4o-2099', 'openai/gpt-4o-nope'])).toBeUndefined();
    // Object.prototype is not part of the table.
    expect(findPrice(['constructor', '__proto__', 'toString', 'hasOwnProperty'])).toBeUndefined();
  });

  it('keeps only served providers and the modes the gateway serves, with their per-unit prices', () => {
    expect(findPrice(['dall-e-3'])).toMatchObject({ mode: 'image_generation', costPerImage: 0.04, inputCostPerToken: 0 });
    expect(findPrice(['whisper-1'])).toMatchObject({ mode: 'audio_transcription', costPerSecond: 0.0001 });
    expect(findPrice(['tts-1'])).toMatchObject({ mode: 'audio_speech', costPerCharacter: 0.000015 });
    expect(findPrice(['rerank-v3.5'])).toMatchObject({ mode: 'rerank', costPerQuery: 0.002, provider: 'cohere' });
    expect(findPrice(['omni-moderation-latest'])).toMatchObject({ mode: 'moderation', inputCostPerToken: 0 });
    expect(findPrice(['sample_spec', 'last_updated', 'fallback_generalizations'])).toBeUndefined();
    expect(findPrice(['ollama/llama3'])).toBeUndefined(); // provider not bundled
    expect(findPrice(['text-embedding-3-small'])).toMatchObject({ inputCostPerToken: 2e-8, outputCostPerToken: 0, mode: 'embedding' });
  });

  it('prices a row without token prices at 0, as LiteLLM does, but keeps its limits', () => {
    expect(findPrice(['medlm-large'])).toEqual({
      inputCostPerToken: 0, outputCostPerToken: 0, maxInputTokens: 8192, maxOutputTokens: 1024,
      provider: 'vertex_ai-language-models', mode: 'chat',
      // Upstream prices this PaLM model per character; only speech is priced so here.
      costPerCharacter: 0.000005,
    });
    // Embeddings have no output price upstream; max_tokens stands in for max_output_tokens.
    expect(findPrice(['mistral/mistral-embed'])).toMatchObject({ inputCostPerToken: 1e-7, outputCostPerToken: 0, maxOutputTokens: 8192 });
  });
});

describe('priceCandidates', () => {
  it('tries provider/model, then the bare model', () => {
    expect(priceCandidates('openai', 'gpt-4o')).toEqual(['openai/gpt-4o', 'gpt-4o']);
    expect(lookup('openai', 'gpt-4o')?.provider).toBe('openai');
    expect(lookup('gemini', 'gemini-2.5-flash')).toMatchObject({ provider: 'gemini', inputCostPerToken: 3e-7 });
    expect(lookup('groq', 'llama-3.3-70b-versatile')).toMatchObject({ provider: 'groq', inputCostPerToken: 5.9e-7 });
    expect(lookup('text-completion-openai', 'gpt-3.5-turbo-instruct')).toMatchObject({ mode: 'completion', outputCostPerToken: 2e-6 });
    expect(lookup('fireworks_ai', 'nomic-ai/nomic-embed-text-v1.5')).toMatchObject({ provider: 'fireworks_ai-embedding-models', inputCostPerToken: 8e-9 });
  });

  it('prefers the azure/ row, falling back to the bare (OpenAI) row', () => {
    expect(priceCandidates('azure', 'gpt-4o-mini')).toEqual(['azure/gpt-4o-mini', 'gpt-4o-mini']);
    // Azure's own row differs from OpenAI's (1.65e-7 vs 1.5e-7).
    expect(lookup('azure', 'gpt-4o-mini')).toMatchObject({ provider: 'azure', inputCostPerToken: 1.65e-7 });
    expect(lookup('azure', 'gpt-4o')).toMatchObject({ provider: 'azure', inputCostPerToken: 2.5e-6, cacheReadCostPerToken: 1.25e-6 });
    expect(lookup('azure', 'gpt-4o-search-preview')?.provider).toBe('openai');
    expect(lookup('azure', 'gpt-35-turbo-instruct')).toMatchObject({ provider: 'azure_text', mode: 'completion' });
    expect(lookup('azure', 'my-team-deployment')).toBeUndefined();
  });

  it('puts base_model first, with and without its provider prefix', () => {
    expect(priceCandidates('azure', 'my-deployment', 'gpt-4o-mini')).toEqual([
      'azure/gpt-4o-mini', 'gpt-4o-mini', 'azure/my-deployment', 'my-deployment',
    ]);
    expect(priceCandidates('azure', 'my-deployment', 'openai/gpt-4o')).toEqual([
      'openai/gpt-4o', 'gpt-4o', 'azure/my-deployment', 'my-deployment',
    ]);
    expect(lookup('azure', 'my-deployment', 'gpt-4o-mini')?.inputCostPerToken).toBe(1.65e-7);
    expect(lookup('azure', 'my-deployment', 'azure/gpt-4o')?.provider).toBe('azure');
    // A slash that is not a provider stays part of the name.
    expect(priceCandidates('together_ai', 'x', 'meta-llama/Llama-3')[0]).toBe('together_ai/meta-llama/Llama-3');
  });

  it('never gives a self-hosted model a bare-name price, unless base_model asks for one', () => {
    expect(priceCandidates('hosted_vllm', 'gpt-4o')).toEqual(['hosted_vllm/gpt-4o']);
    expect(lookup('hosted_vllm', 'gpt-4o')).toBeUndefined();
    expect(lookup('ollama', 'llama3')).toBeUndefined();
    expect(lookup('mock', 'gpt-4o')).toBeUndefined();
    expect(lookup('hosted_vllm', 'my-llama', 'gpt-4o-mini')?.provider).toBe('openai');
  });

  it('finds Bedrock ids as written before stripping route, ARN, region and geo prefixes', () => {
    // Regional (us.) profiles cost 10% more than the base id: the exact key must win.
    expect(lookup('bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0')).toMatchObject({
      provider: 'bedrock_converse', inputCostPerToken: 3.3e-6, outputCostPerToken: 1.65e-5,
      cacheReadCostPerToken: 3.3e-7, cacheCreationCostPerToken: 4.125e-6,
    });
    expect(lookup('bedrock', 'converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0')?.inputCostPerToken).toBe(3.3e-6);
    expect(lookup('bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0')?.inputCostPerToken).toBe(3e-6);
    expect(lookup('bedrock', 'anthropic.claude-3-5-sonnet-20241022-v2:0')).toMatchObject({ provider: 'bedrock', inputCostPerToken: 3e-6 });
    // No jp. row for this model: the geo prefix is dropped.
    expect(lookup('bedrock', 'jp.anthropic.claude-3-5-sonnet-20241022-v2:0')?.outputCostPerToken).toBe(1.5e-5);
    expect(lookup('bedrock', 'invoke/anthropic.claude-3-5-sonnet-20240620-v1:0')?.maxInputTokens).toBe(200000);
    expect(lookup('bedrock', 'us-east-1/meta.llama3-8b-instruct-v1:0')?.inputCostPerToken).toBe(3e-7);
    expect(lookup('bedrock', 'us-west-1/meta.llama3-8b-instruct-v1:0')?.inputCostPerToken).toBe(3e-7);
    expect(lookup('bedrock', 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0')?.inputCostPerToken).toBe(3.3e-6);
    expect(lookup('bedrock', 'anthropic.claude-3-5-sonnet-20241022-v2:0:51k')?.provider).toBe('bedrock');
    expect(priceCandidates('bedrock', 'converse/eu.meta.llama3-x')).toEqual([
      'bedrock/converse/eu.meta.llama3-x', 'converse/eu.meta.llama3-x', 'bedrock/eu.meta.llama3-x', 'eu.meta.llama3-x',
      'bedrock/meta.llama3-x', 'meta.llama3-x',
    ]);
    expect(lookup('bedrock', 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123')).toBeUndefined();
  });

  it('finds Vertex models with and without the vertex_ai/ prefix and @version', () => {
    expect(lookup('vertex_ai', 'gemini-2.5-flash')).toMatchObject({ provider: 'vertex_ai-language-models', inputCostPerToken: 3e-7, outputCostPerToken: 2.5e-6 });
    expect(lookup('vertex_ai', 'claude-opus-4-1@20250805')).toMatchObject({ provider: 'vertex_ai-anthropic_models', inputCostPerToken: 1.5e-5 });
    expect(lookup('vertex_ai', 'claude-opus-4-1@20990101')?.outputCostPerToken).toBe(7.5e-5);
    expect(lookup('vertex_ai', 'mistral-large')?.provider).toBe('vertex_ai-mistral_models');
    expect(lookup('vertex_ai', 'gemini-0.1-imaginary')).toBeUndefined();
  });
});

describe('prices.json', () => {
  it('is exactly what scripts/build-prices.ts makes of the reference map', () => {
    const written = readFileSync(OUTPUT, 'utf8');
    if (!existsSync(DEFAULT_INPUT)) {
      // Without LiteLLM's map (a checkout without ../shared), check the file is at least the script's canonical form.
      console.warn(`!! ${DEFAULT_INPUT} is absent: checking prices.json's form only, not its content against the map`);
      expect(serializePriceFile(JSON.parse(written))).toBe(written);
      return;
    }
    const upstream = JSON.parse(readFileSync(DEFAULT_INPUT, 'utf8')) as Record<string, unknown>;
    expect(written).toBe(serializePriceFile(buildPriceFile(upstream)));
  });

  it('stays small enough to bundle', () => {
    expect(readFileSync(OUTPUT).byteLength).toBeLessThan(400 * 1024);
  });
});
