/**
 * Bedrock embeddings through InvokeModel (`/model/{id}/invoke`), whose body
 * is the model's own format: Titan takes one text per call, Cohere a batch.
 */
import { z } from 'zod';
import { badRequest } from '../../errors.ts';

export const EMBEDDING_PARAMS: ReadonlySet<string> = new Set(['input', 'encoding_format', 'dimensions', 'user']);

export type EmbeddingFamily = 'titan' | 'cohere';

/** Cohere on Bedrock takes at most 96 texts a call. */
export const COHERE_BATCH = 96;

export function embeddingFamily(modelId: string): EmbeddingFamily {
  // Cross-region profiles (us.cohere.embed-v4:0) name the model after the geography.
  const id = modelId.replace(/^(?:global|us|eu|apac|jp|au|us-gov)\./, '');
  if (id.startsWith('amazon.titan-embed-text')) return 'titan';
  if (id.startsWith('cohere.embed')) return 'cohere';
  throw badRequest(`Bedrock embeddings are served for Titan text (amazon.titan-embed-text-*) and Cohere (cohere.embed-*) models, not ${modelId}`, 'model');
}

export function titanRequest(text: string, dimensions: number | undefined): Record<string, unknown> {
  return dimensions === undefined ? { inputText: text } : { inputText: text, dimensions };
}

export const titanResponseSchema = z.looseObject({
  embedding: z.array(z.number()),
  inputTextTokenCount: z.number().int().nonnegative().optional(),
});

export function cohereRequest(texts: string[]): Record<string, unknown> {
  return { texts, input_type: 'search_document' };
}

/** Cohere v3 answers a list of vectors; v4 may key them by type (`{"float": [...]}`). */
export const cohereResponseSchema = z.looseObject({
  embeddings: z.union([z.array(z.array(z.number())), z.looseObject({ float: z.array(z.array(z.number())) })]),
});

export function cohereVectors(response: z.output<typeof cohereResponseSchema>): number[][] {
  return Array.isArray(response.embeddings) ? response.embeddings : response.embeddings.float;
}
