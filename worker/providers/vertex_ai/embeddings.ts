/** Vertex AI text embeddings: `:predict` with `instances[{content}]` → `predictions[].embeddings`. */
import { z } from 'zod';

export const EMBEDDING_PARAMS: ReadonlySet<string> = new Set(['input', 'encoding_format', 'dimensions', 'user']);

/** Texts per `:predict` call: gemini-embedding models take one instance a call, the text-embedding ones up to 250. */
export function instancesPerCall(model: string): number {
  return model.startsWith('gemini-embedding') ? 1 : 250;
}

export function predictRequest(texts: string[], dimensions: number | undefined): Record<string, unknown> {
  return {
    instances: texts.map((content) => ({ content })),
    ...(dimensions !== undefined ? { parameters: { outputDimensionality: dimensions } } : {}),
  };
}

export const predictResponseSchema = z.looseObject({
  predictions: z.array(z.looseObject({
    embeddings: z.looseObject({
      values: z.array(z.number()),
      statistics: z.looseObject({ token_count: z.number().nonnegative().catch(0).optional() }).optional(),
    }),
  })),
});

export function predictVectors(response: z.output<typeof predictResponseSchema>): { vectors: number[][]; tokens: number } {
  return {
    vectors: response.predictions.map((p) => p.embeddings.values),
    tokens: response.predictions.reduce((n, p) => n + Math.floor(p.embeddings.statistics?.token_count ?? 0), 0),
  };
}
