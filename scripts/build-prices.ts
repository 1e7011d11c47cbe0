/**
 * `npm run prices:build [-- path/to/model_prices_and_context_window.json]`
 *
 * Distils LiteLLM's public price map (MIT licensed, ~3,000 entries, ~1.5 MB)
 * into worker/cost/prices.json, which is checked in so the Workers and CI never
 * need the big file. Default input: /work/shared/reference/model_prices_and_context_window.json.
 *
 * Kept: entries whose `litellm_provider` is one Tollgate serves (see SERVED;
 * every `vertex_ai-*` and `fireworks_ai-*` family counts, as LiteLLM's own
 * provider match does) and whose `mode` is chat, completion, embedding,
 * responses, moderation, image_generation, audio_speech, audio_transcription,
 * rerank, realtime or ocr. Entries without a mode are kept when they carry token prices
 * (Fireworks' size-tier rows); their mode is inferred (see inferMode). Rows
 * priced per image, character, second or query carry those prices after the
 * first eight fields, then image-token, audio-token and per-page (OCR) prices; a row's trailing nulls past those eight are left out.
 *
 * Output format (version 1), one model per line so a price update reads as a diff:
 *
 *   {
 *     "version": 1,
 *     "source": "<upstream URL>", "license": "MIT", "updated": "<upstream last_updated>",
 *     "fields": ["input_cost_per_token", "output_cost_per_token",
 *                "cache_read_input_token_cost", "cache_creation_input_token_cost",
 *                "max_input_tokens", "max_output_tokens", "litellm_provider", "mode"],
 *     "models": {
 *       "gpt-4o": [2.5e-6, 1e-5, 1.25e-6, null, 128000, 16384, "openai", "chat"],
 *       ...
 *     }
 *   }
 *
 * Each row is a fixed-length tuple in `fields` order. Prices are USD per token,
 * written exactly as upstream has them (shortest round-tripping form, so 2.5e-6
 * rather than 0.0000025); null means upstream has no such value (cost code then
 * treats a missing token price as 0, as LiteLLM does). max_output_tokens falls
 * back to the legacy max_tokens. Keys are sorted so reruns are byte-stable.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_INPUT = '/work/shared/reference/model_prices_and_context_window.json';
export const OUTPUT = resolve(ROOT, 'worker/cost/prices.json');
const UPSTREAM = 'https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json';

/** Column order of every row in prices.json; worker/cost/prices.ts decodes by it. */
export const FIELDS = [
  'input_cost_per_token',
  'output_cost_per_token',
  'cache_read_input_token_cost',
  'cache_creation_input_token_cost',
  'max_input_tokens',
  'max_output_tokens',
  'litellm_provider',
  'mode',
  // Per-unit prices (images: LiteLLM's output_cost_per_image, else its per-image input_cost_per_image, as dall-e-3 has it).
  'cost_per_image',
  'input_cost_per_character',
  'input_cost_per_second',
  'input_cost_per_query',
  // Image tokens (gpt-image-1's input images and the images it makes; Gemini's image output), priced apart from text tokens.
  'input_cost_per_image_token',
  'output_cost_per_image_token',
  // Audio tokens (the realtime models'), priced apart from text tokens.
  'input_cost_per_audio_token',
  'output_cost_per_audio_token',
  // OCR models (mode ocr: Mistral OCR, Azure AI's Mistral Document AI), priced per page processed.
  'ocr_cost_per_page',
] as const;

/** `litellm_provider` values of the providers Tollgate serves. */
const SERVED = new Set([
  'openai', 'text-completion-openai', 'azure', 'azure_text', 'azure_ai', 'anthropic',
  'bedrock', 'bedrock_converse', 'vertex_ai', 'gemini', 'mistral', 'groq', 'deepseek',
  'xai', 'together_ai', 'fireworks_ai', 'cohere', 'cohere_chat', 'perplexity',
  'openrouter', 'deepinfra', 'cerebras',
]);
// azure_text is LiteLLM's name for Azure's completion models (keys azure/gpt-35-turbo-instruct...);
// the prefixed families hold Vertex partner models and Fireworks embeddings under the same routes.
const SERVED_FAMILIES = ['vertex_ai-', 'fireworks_ai-'];
const MODES = new Set(['chat', 'completion', 'embedding', 'responses', 'moderation', 'image_generation', 'audio_speech', 'audio_transcription', 'rerank', 'realtime', 'ocr']);

/** One prices.json row, in FIELDS order. */
export type PriceRow = [
  number | null, number | null, number | null, number | null,
  number | null, number | null, string, string,
  ...(number | null)[],
];

/** The whole prices.json document. */
export interface PriceFile {
  version: 1;
  source: string;
  license: string;
  updated: string | null;
  fields: readonly string[];
  models: Record<string, PriceRow>;
}

function served(provider: unknown): provider is string {
  return typeof provider === 'string' && (SERVED.has(provider) || SERVED_FAMILIES.some((p) => provider.startsWith(p)));
}

/** A finite, non-negative number, else null (upstream's sample_spec has prose in number fields). */
function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

// Only Fireworks' size-tier rows lack a mode; the embedding tiers say so in their provider.
function inferMode(provider: string): string {
  return provider.includes('embedding') ? 'embedding' : 'chat';
}

/** Filters and compacts the upstream map (already parsed) into the prices.json document. */
export function buildPriceFile(upstream: Record<string, unknown>): PriceFile {
  const models: Record<string, PriceRow> = {};
  for (const key of Object.keys(upstream).sort()) {
    const entry = upstream[key];
    // Upstream mixes non-model keys in (sample_spec, last_updated, fallback_generalizations).
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) continue;
    const e = entry as Record<string, unknown>;
    if (!served(e.litellm_provider)) continue;
    // Azure Document Intelligence (azure_ai/doc-intelligence/*) is another API than the Mistral OCR azure_ai/ speaks: not served, not priced.
    if (e.litellm_provider === 'azure_ai' && /doc-intelligence|documentintelligence/i.test(key)) continue;
    const input = num(e.input_cost_per_token);
    const output = num(e.output_cost_per_token);
    let mode: string;
    if (typeof e.mode === 'string') {
      if (!MODES.has(e.mode)) continue;
      mode = e.mode;
    } else if (e.mode === undefined && (input !== null || output !== null)) {
      mode = inferMode(e.litellm_provider);
    } else {
      continue;
    }
    models[key] = [
      input,
      output,
      num(e.cache_read_input_token_cost),
      num(e.cache_creation_input_token_cost),
      num(e.max_input_tokens),
      num(e.max_output_tokens) ?? num(e.max_tokens),
      e.litellm_provider,
      mode,
    ];
    const perUnit = [
      num(e.output_cost_per_image) ?? num(e.input_cost_per_image), num(e.input_cost_per_character), num(e.input_cost_per_second), num(e.input_cost_per_query),
      num(e.input_cost_per_image_token), num(e.output_cost_per_image_token), num(e.input_cost_per_audio_token), num(e.output_cost_per_audio_token),
      num(e.ocr_cost_per_page),
    ];
    while (perUnit.length && perUnit[perUnit.length - 1] === null) perUnit.pop();
    models[key]!.push(...perUnit);
  }
  const updated = typeof upstream.last_updated === 'string' ? upstream.last_updated : null;
  return { version: 1, source: UPSTREAM, license: 'MIT', updated, fields: FIELDS, models };
}

/** Shortest text that parses back to exactly `n`: 2.5e-6, not 0.0000025; token counts stay plain. */
function formatNumber(n: number): string {
  const plain = String(n);
  if (Number.isInteger(n)) return plain;
  const exp = n.toExponential().replace('e+', 'e');
  return exp.length < plain.length ? exp : plain;
}

function formatValue(v: number | string | null): string {
  return typeof v === 'number' ? formatNumber(v) : JSON.stringify(v);
}

/** Serialises the document: JSON, header keys first, then one model per line. */
export function serializePriceFile(file: PriceFile): string {
  const { models, ...header } = file;
  const lines = Object.entries(header).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  const rows = Object.entries(models).map(
    ([name, row]) => `    ${JSON.stringify(name)}: [${row.map(formatValue).join(', ')}]`,
  );
  return `{\n${lines.join('\n')}\n  "models": {\n${rows.join(',\n')}\n  }\n}\n`;
}

function main(): void {
  const input = resolve(process.argv[2] ?? DEFAULT_INPUT);
  const upstream = JSON.parse(readFileSync(input, 'utf8')) as Record<string, unknown>;
  const file = buildPriceFile(upstream);
  const text = serializePriceFile(file);
  // Refuse to write something prices.ts could not read back identically.
  if (JSON.stringify(JSON.parse(text)) !== JSON.stringify(file)) throw new Error('prices.json does not round-trip');
  mkdirSync(dirname(OUTPUT), { recursive: true });
  writeFileSync(OUTPUT, text);
  const kept = Object.keys(file.models).length;
  const total = Object.keys(upstream).length;
  const kb = (Buffer.byteLength(text) / 1024).toFixed(1);
  console.log(`Kept ${kept} of ${total} entries; wrote ${OUTPUT} (${kb} KB)`);
}

// Run only as a script, so tests can import buildPriceFile without writing files.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
