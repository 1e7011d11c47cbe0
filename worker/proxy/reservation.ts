/**
 * What a call holds against budgets and tpm limits while it runs (admission's reservation), and which
 * models hold nothing: shared by model calls, pass-through and Realtime.
 */
import type { TollgateConfig } from '../config/schema.ts';
import { costOfCall, deploymentPrice, unitPrice } from '../cost/deployment-cost.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { Endpoint } from '../providers/types.ts';

/** The pages held against budgets while an OCR call without `pages` runs: a PDF may bill hundreds; the answer's count settles it. */
export const OCR_DEFAULT_HELD_PAGES = 50;

/** What an image, speech, rerank or OCR call is priced by besides tokens: the images asked for, the characters to speak, the pages to read. */
function extraUnits(endpoint: Endpoint, body: Record<string, unknown>): { images?: number; characters?: number; searches?: number; pages?: number } {
  if (endpoint === 'image_generation' || endpoint === 'image_edit') return { images: typeof body.n === 'number' ? body.n : 1 };
  if (endpoint === 'rerank') return { searches: 1 };
  // An OCR call's pages are known once read: the ones it names, else OCR_DEFAULT_HELD_PAGES.
  if (endpoint === 'ocr') return { pages: Array.isArray(body.pages) && body.pages.length ? body.pages.length : OCR_DEFAULT_HELD_PAGES };
  if (endpoint === 'speech') return { characters: typeof body.input === 'string' ? body.input.length : 0 };
  return {};
}

/** Output tokens reserved when a request names no `max_tokens`, and the most ever reserved: a huge `max_tokens` cannot lock a budget. */
export const DEFAULT_RESERVED_OUTPUT_TOKENS = 512;
export const MAX_RESERVED_OUTPUT_TOKENS = 4096;

/** The output tokens a generating call's reservation holds: what it asks for at most, bounded (also a charged failure's estimate, pass-through-answer.ts). */
export function reservedOutputTokens(body: Record<string, unknown>): number {
  const asked = Number(body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens ?? DEFAULT_RESERVED_OUTPUT_TOKENS);
  return Math.min(Number.isFinite(asked) && asked > 0 ? asked : DEFAULT_RESERVED_OUTPUT_TOKENS, MAX_RESERVED_OUTPUT_TOKENS);
}

/** What admission reserves: the prompt (estimated from its text) plus the answer it may get, at the deployment's prices. */
export function reservationEstimate(
  deployment: DeploymentRef | undefined, promptTokens: number, body: Record<string, unknown>, endpoint: Endpoint, tokenType?: TokenType,
): { estCost: number; estTokens: number } {
  const output = endpoint !== 'chat' && endpoint !== 'completion' && endpoint !== 'responses' ? 0 : reservedOutputTokens(body);
  const estCost = deployment
    ? costOfCall(deployment, { promptTokens, completionTokens: output, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: false, ...extraUnits(endpoint, body) })
    : 0;
  return { estCost, estTokens: countedTokens(tokenType, promptTokens, output) };
}

export type TokenType = TollgateConfig['general_settings']['token_rate_limit_type'];

/**
 * The tokens of a call that count against tpm limits (keys', teams', users', ...):
 * `general_settings.token_rate_limit_type` `input`, `output`, or `total` (both; the default), as LiteLLM counts them.
 */
export function countedTokens(type: TokenType, input: number, output: number): number {
  return type === 'output' ? output : type === 'input' ? input : input + output;
}

/**
 * Whether every deployment is known to be free: its input and output prices are set to 0 (in
 * litellm_params or model_info, else the price table). LiteLLM holds calls to such a model to no
 * budget; a model with no known price (a self-hosted one priced nowhere) is not free.
 */
export function freeModel(deployments: readonly DeploymentRef[]): boolean {
  const priced = (d: DeploymentRef, field: 'input_cost_per_token' | 'output_cost_per_token', table: number | undefined) => {
    const set = [d.info, d.params].map((s) => (s as Record<string, unknown>)[field]).find((v) => typeof v === 'number');
    return set ?? table;
  };
  // Priced per image, character, second, query or page: not free, whatever its token prices.
  const perUnit = (d: DeploymentRef) => (['output_cost_per_image', 'input_cost_per_character', 'input_cost_per_second', 'input_cost_per_query', 'ocr_cost_per_page'] as const)
    .some((field) => (unitPrice(d, field) ?? 0) > 0);
  return deployments.length > 0 && deployments.every((d) => {
    const price = deploymentPrice(d);
    return priced(d, 'input_cost_per_token', price?.inputCostPerToken) === 0 && priced(d, 'output_cost_per_token', price?.outputCostPerToken) === 0 && !perUnit(d);
  });
}
