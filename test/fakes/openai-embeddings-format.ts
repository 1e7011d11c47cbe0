/** OpenAI embeddings answers and the fake's deterministic vectors (float and base64 forms). */

export const DEFAULT_EMBEDDING_DIMS = 8;

/** FNV-1a: a stable seed from the input text. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The deterministic unit vector for one input; components are float32 values already, so float and base64 forms decode equal. */
export function embeddingVector(input: string, dims = DEFAULT_EMBEDDING_DIMS): number[] {
  let state = hash(input) || 1;
  const raw: number[] = [];
  for (let i = 0; i < dims; i++) {
    // xorshift32: cheap, deterministic, platform independent
    state ^= state << 13;
    state ^= state >>> 17;
    state = (state ^ (state << 5)) >>> 0;
    raw.push(state / 0xffffffff - 0.5);
  }
  const norm = Math.hypot(...raw) || 1;
  return raw.map((v) => Math.fround(v / norm));
}

/** What OpenAI sends for `encoding_format: 'base64'`: the little-endian float32 bytes, base64. */
export function encodeFloat32Base64(vector: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  vector.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return Buffer.from(view.buffer).toString('base64');
}

export interface EmbeddingsInput {
  model: string;
  /** Token-array inputs are hashed by their JSON text. */
  inputs: string[];
  dims?: number;
  promptTokens: number;
  encodingFormat?: 'float' | 'base64';
}

export function openaiEmbeddings(input: EmbeddingsInput) {
  return {
    object: 'list',
    data: input.inputs.map((text, index) => {
      const vector = embeddingVector(text, input.dims);
      return { object: 'embedding', index, embedding: input.encodingFormat === 'base64' ? encodeFloat32Base64(vector) : vector };
    }),
    model: input.model,
    usage: { prompt_tokens: input.promptTokens, total_tokens: input.promptTokens },
  };
}
