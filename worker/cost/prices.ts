/**
 * The bundled price table (prices.json, distilled from LiteLLM's price map by
 * scripts/build-prices.ts) and the order in which a deployment's names are
 * looked up in it.
 */
import table from './prices.json';
import { KNOWN_PROVIDERS } from '../config/providers.ts';

/** One model's prices (USD per token) and limits, as LiteLLM's price map has them. */
export interface ModelPrice {
  inputCostPerToken: number;
  outputCostPerToken: number;
  cacheReadCostPerToken?: number;
  cacheCreationCostPerToken?: number;
  maxInputTokens?: number;
  maxOutputTokens?: number;
  /** LiteLLM's `litellm_provider`, e.g. `azure`, `bedrock_converse`, `vertex_ai-anthropic_models`. */
  provider: string;
  /** `chat`, `completion`, `embedding`, `responses`, `moderation`, `image_generation`, `audio_speech`, `audio_transcription`, `rerank`, `realtime` or `ocr`. */
  mode: string;
  /** USD per image, character of speech, second of audio, rerank query (models priced so). */
  costPerImage?: number;
  costPerCharacter?: number;
  costPerSecond?: number;
  costPerQuery?: number;
  /** USD per page an OCR model processes (`ocr_cost_per_page`). */
  costPerPage?: number;
  /** USD per image token in and out (gpt-image-1, Gemini's image output), where they differ from text tokens. */
  inputCostPerImageToken?: number;
  outputCostPerImageToken?: number;
  /** USD per audio token in and out (the realtime models). */
  inputCostPerAudioToken?: number;
  outputCostPerAudioToken?: number;
}

// Row layout fixed by scripts/build-prices.ts (its `fields` list); null = not in upstream.
type Row = readonly (number | string | null)[];
const models = (table as unknown as { models: Record<string, Row> }).models;

// Rows are decoded on first use only: a Worker isolate prices a handful of models,
// not 1,600. Misses are not memoised, so arbitrary client names cannot grow the map.
const decoded = new Map<string, ModelPrice>();

function optional(value: number | string | null | undefined): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function decode(row: Row): ModelPrice {
  const price: ModelPrice = {
    // LiteLLM prices a missing token price as 0 (e.g. per-second or per-character models).
    inputCostPerToken: optional(row[0]) ?? 0,
    outputCostPerToken: optional(row[1]) ?? 0,
    provider: String(row[6]),
    mode: String(row[7]),
  };
  const cacheRead = optional(row[2]);
  const cacheCreation = optional(row[3]);
  const maxInput = optional(row[4]);
  const maxOutput = optional(row[5]);
  if (cacheRead !== undefined) price.cacheReadCostPerToken = cacheRead;
  if (cacheCreation !== undefined) price.cacheCreationCostPerToken = cacheCreation;
  if (maxInput !== undefined) price.maxInputTokens = maxInput;
  if (maxOutput !== undefined) price.maxOutputTokens = maxOutput;
  const perUnit = [['costPerImage', row[8]], ['costPerCharacter', row[9]], ['costPerSecond', row[10]], ['costPerQuery', row[11]],
    ['inputCostPerImageToken', row[12]], ['outputCostPerImageToken', row[13]], ['inputCostPerAudioToken', row[14]], ['outputCostPerAudioToken', row[15]], ['costPerPage', row[16]]] as const;
  for (const [field, value] of perUnit) if (typeof value === 'number') price[field] = value;
  // Shared between requests, so nobody may change it in place.
  return Object.freeze(price);
}

/**
 * The price of the first name in `candidates` that is a key of the table
 * (exact, case-sensitive), or undefined. See priceCandidates for the names.
 */
export function findPrice(candidates: string[]): ModelPrice | undefined {
  for (const name of candidates) {
    const known = decoded.get(name);
    if (known) return known;
    // hasOwn: names such as "constructor" or "__proto__" must not hit Object.prototype.
    if (!Object.hasOwn(models, name)) continue;
    const row = models[name];
    if (!row) continue;
    const price = decode(row);
    decoded.set(name, price);
    return price;
  }
  return undefined;
}

const knownProviders: ReadonlySet<string> = new Set(KNOWN_PROVIDERS);

// Servers the operator runs: a bare-name hit (a local model called "gpt-4o") would
// bill OpenAI's price for free compute; LiteLLM's provider match rejects it too.
const SELF_HOSTED = new Set(['hosted_vllm', 'vllm', 'openai_compatible', 'ollama', 'ollama_chat', 'mock']);

// Bedrock cross-region inference profiles prefix the model id with a geography.
const BEDROCK_GEO = /^(?:global|us|eu|apac|jp|au|us-gov)\./;
// LiteLLM's route prefixes inside a Bedrock model name (bedrock/converse/<id>).
const BEDROCK_ROUTE = /^(?:converse|invoke|converse_like|openai)\//;
// An AWS region path segment (bedrock/us-east-1/<id>), priced per region in places.
const AWS_REGION = /^[a-z]{2}(?:-gov)?-[a-z]+-\d+\//;

/** Bedrock id forms, most specific first: exact, then without route, ARN, throughput, region, geo. */
function bedrockNames(model: string): string[] {
  const names = [`bedrock/${model}`, model];
  let id = model;
  while (BEDROCK_ROUTE.test(id)) id = id.slice(id.indexOf('/') + 1);
  // An ARN (application inference profile, provisioned model) names the model after its last slash.
  if (id.startsWith('arn:')) id = id.slice(id.lastIndexOf('/') + 1);
  // Throughput tier (":0:51k") and context-window ("[1m]") suffixes do not change the price key.
  id = id.replace(/(:\d+):\d+k$/, '$1').replace(/\[\w+\]$/, '');
  names.push(`bedrock/${id}`, id);
  if (AWS_REGION.test(id)) {
    id = id.slice(id.indexOf('/') + 1);
    names.push(`bedrock/${id}`, id);
  }
  // The geo profile is tried as written first: regional profiles can cost more than global ones.
  if (BEDROCK_GEO.test(id)) {
    id = id.slice(id.indexOf('.') + 1);
    names.push(`bedrock/${id}`, id);
  }
  return names;
}

/** Vertex AI forms: as written, without the `@version` pin, then LiteLLM's `@latest` default. */
function vertexNames(model: string): string[] {
  const names = [`vertex_ai/${model}`, model];
  const at = model.indexOf('@');
  if (at > 0) {
    const unpinned = model.slice(0, at);
    names.push(`vertex_ai/${unpinned}`, unpinned);
  } else {
    names.push(`vertex_ai/${model}@latest`);
  }
  return names;
}

function namesFor(provider: string, model: string, allowBare: boolean): string[] {
  if (provider === 'bedrock') return bedrockNames(model);
  if (provider === 'vertex_ai') return vertexNames(model);
  if (!allowBare && SELF_HOSTED.has(provider)) return [`${provider}/${model}`];
  return [`${provider}/${model}`, model];
}

/**
 * The table keys to try for a deployment, in LiteLLM's order: `base_model`
 * (model_info.base_model) first, with and without a provider prefix, then
 * `${provider}/${model}`, then `model`, plus provider-specific forms:
 * Bedrock route/ARN/region/geo-profile stripping, Vertex `@version` stripping.
 * `model` is the part after `provider/` in litellm_params.model.
 *
 * Unlike LiteLLM, a bare name is accepted whatever its table provider (azure
 * falling back to OpenAI's row for `gpt-4o`), except for self-hosted providers,
 * which only match through base_model.
 */
export function priceCandidates(provider: string, model: string, baseModel?: string): string[] {
  const names: string[] = [];
  if (baseModel) {
    const slash = baseModel.indexOf('/');
    const prefix = slash > 0 ? baseModel.slice(0, slash) : '';
    // base_model may carry its own provider ("azure/gpt-4-1106-preview") or not ("gpt-4o").
    if (knownProviders.has(prefix)) names.push(...namesFor(prefix, baseModel.slice(slash + 1), true));
    else names.push(...namesFor(provider, baseModel, true));
  }
  names.push(...namesFor(provider, model, false));
  return [...new Set(names.filter((n) => n.length > 0))];
}
