import { estimateTokens } from '../openai-compatible/usage.ts';
import type { UsageReport } from '../types.ts';

/** OpenAI's response shapes, filled in by the mock provider. */

const now = () => Math.floor(Date.now() / 1000);

function openaiUsage(u: UsageReport) {
  return { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens };
}

export function chatCompletion(id: string, model: string, text: string, usage: UsageReport, finish = 'stop') {
  return {
    id, object: 'chat.completion', created: now(), model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finish }],
    usage: openaiUsage(usage),
  };
}

export function textCompletion(id: string, model: string, text: string, usage: UsageReport, finish = 'stop') {
  return {
    id, object: 'text_completion', created: now(), model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
    usage: openaiUsage(usage),
  };
}

const words = (text: string) => text.match(/\S+\s*/g) ?? [''];

/** Chunks a word at a time, then the finish chunk (`finish`: a guardrail's answer says content_filter), then (when asked) the usage chunk. */
export function chatChunks(id: string, model: string, text: string, usage?: UsageReport, finish = 'stop'): unknown[] {
  const base = { id, object: 'chat.completion.chunk', created: now(), model };
  return [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] },
    ...words(text).map((w) => ({ ...base, choices: [{ index: 0, delta: { content: w }, logprobs: null, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finish }] },
    ...(usage ? [{ ...base, choices: [], usage: openaiUsage(usage) }] : []),
  ];
}

export function textCompletionChunks(id: string, model: string, text: string, usage?: UsageReport, finish = 'stop'): unknown[] {
  const base = { id, object: 'text_completion', created: now(), model };
  return [
    ...words(text).map((w) => ({ ...base, choices: [{ index: 0, text: w, logprobs: null, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: finish }] },
    ...(usage ? [{ ...base, choices: [], usage: openaiUsage(usage) }] : []),
  ];
}

const MOCK_DIMENSIONS = 8;

/** A deterministic unit-ish vector per input text, so equal inputs embed equally. */
function vector(text: string): number[] {
  const out: number[] = [];
  let h = 2166136261;
  for (let i = 0; i < MOCK_DIMENSIONS; i++) {
    for (const ch of `${i}:${text}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    out.push(((h >>> 0) % 2000) / 1000 - 1);
  }
  return out;
}

/** OpenAI's embeddings list; base64 is little-endian float32, as the official SDKs request by default. */
export function embeddingList(model: string, input: unknown, base64: boolean) {
  const inputs = Array.isArray(input) ? input.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))) : [String(input ?? '')];
  const data = inputs.map((text, index) => {
    const v = vector(text);
    const embedding = base64 ? toBase64(new Float32Array(v)) : v;
    return { object: 'embedding', index, embedding };
  });
  const tokens = inputs.reduce((n, t) => n + estimateTokens(t.length), 0);
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function toBase64(floats: Float32Array): string {
  const bytes = new Uint8Array(floats.buffer);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}
