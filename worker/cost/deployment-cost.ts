import type { DeploymentRef } from '../models/deployments.ts';
import type { UsageReport } from '../providers/types.ts';
import { computeCost, type PriceOverride, type TokenRates, tokenRates } from './cost.ts';
import { findPrice, type ModelPrice, priceCandidates } from './prices.ts';

/** Providers whose models are the operator's own: they cost what the config says, 0 by default. */
const SELF_PRICED: ReadonlySet<string> = new Set(['mock', 'hosted_vllm', 'vllm', 'openai_compatible', 'litellm_proxy']);

// Keyed by the deployment object: a model changed through the admin API is a new object, so a new lookup.
const priceByDeployment = new WeakMap<DeploymentRef, ModelPrice | undefined>();

/** The bundled price of a deployment (its `base_model` first), looked up once per isolate. */
export function deploymentPrice(deployment: DeploymentRef): ModelPrice | undefined {
  if (priceByDeployment.has(deployment)) return priceByDeployment.get(deployment);
  const base = deployment.info.base_model;
  const price = SELF_PRICED.has(deployment.provider) && !base
    ? undefined
    : findPrice(priceCandidates(deployment.provider, deployment.model, base));
  priceByDeployment.set(deployment, price);
  return price;
}

/**
 * USD cost of one call: the bundled price table, with per-token prices from
 * `litellm_params` and then `model_info` in config.yaml overriding it.
 */
export function costOfCall(deployment: DeploymentRef, usage: UsageReport): number {
  // A rerank is priced per query where its model is, else by its tokens (LiteLLM's calculate_rerank_cost).
  if (usage.searches) {
    const perQuery = unitPrice(deployment, 'input_cost_per_query');
    if (perQuery !== undefined) return usage.searches * perQuery;
  }
  const tokens = computeCost({
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    cachedPromptTokens: usage.cachedPromptTokens,
    cacheCreationTokens: usage.cacheCreationTokens,
    imagePromptTokens: usage.imagePromptTokens,
    imageCompletionTokens: usage.imageCompletionTokens,
    audioPromptTokens: usage.audioPromptTokens,
    audioCompletionTokens: usage.audioCompletionTokens,
  }, deploymentPrice(deployment), priceOverrides(deployment));
  if (!usage.images && !usage.characters && !usage.seconds && !usage.pages) return tokens;
  const price = (field: UnitPriceField) => unitPrice(deployment, field) ?? 0;
  return tokens + (usage.images ?? 0) * price('output_cost_per_image') + (usage.characters ?? 0) * price('input_cost_per_character') + (usage.seconds ?? 0) * price('input_cost_per_second')
    // An OCR call: the pages it processed at `ocr_cost_per_page` (LiteLLM's OCR cost).
    + (usage.pages ?? 0) * price('ocr_cost_per_page');
}

/** The per-token prices a call of this deployment is billed at (what costOfCall prices tokens with). */
export function deploymentTokenRates(deployment: DeploymentRef): TokenRates {
  return tokenRates(deploymentPrice(deployment), priceOverrides(deployment));
}

/** Config's per-token prices of a deployment: `litellm_params`', then `model_info`'s over them. */
function priceOverrides(deployment: DeploymentRef): PriceOverride {
  const overrides: PriceOverride = {};
  for (const source of [deployment.params, deployment.info] as Record<string, unknown>[]) {
    for (const field of ['input_cost_per_token', 'output_cost_per_token', 'cache_read_input_token_cost', 'cache_creation_input_token_cost', 'input_cost_per_image_token', 'output_cost_per_image_token', 'input_cost_per_audio_token', 'output_cost_per_audio_token'] as const) {
      if (typeof source[field] === 'number') overrides[field] = source[field] as number;
    }
  }
  // A deployment priced in config is priced so throughout (LiteLLM's custom pricing replaces the table's entry):
  // its token prices stand for image tokens too, unless it prices those itself.
  overrides.input_cost_per_image_token ??= overrides.input_cost_per_token;
  overrides.output_cost_per_image_token ??= overrides.output_cost_per_token;
  overrides.input_cost_per_audio_token ??= overrides.input_cost_per_token;
  overrides.output_cost_per_audio_token ??= overrides.output_cost_per_token;
  return overrides;
}

export type UnitPriceField = 'output_cost_per_image' | 'input_cost_per_character' | 'input_cost_per_second' | 'input_cost_per_query' | 'ocr_cost_per_page';
const TABLE_FIELD = {
  output_cost_per_image: 'costPerImage', input_cost_per_character: 'costPerCharacter', input_cost_per_second: 'costPerSecond', input_cost_per_query: 'costPerQuery', ocr_cost_per_page: 'costPerPage',
} as const;

/**
 * A price per image, character, second, query or OCR page: model_info's, else litellm_params', as token prices
 * are, else the price table's (dall-e-3, tts-1, whisper-1, rerank-v3.5, ...); undefined where none.
 */
export function unitPrice(deployment: DeploymentRef, field: UnitPriceField): number | undefined {
  const configured = [deployment.info, deployment.params].map((s) => (s as Record<string, unknown>)[field]).find((v) => typeof v === 'number') as number | undefined;
  return configured ?? deploymentPrice(deployment)?.[TABLE_FIELD[field]];
}
