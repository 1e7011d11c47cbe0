/**
 * OpenAI's answer shapes, filled in from a translated provider (Bedrock,
 * Gemini, Vertex). Provider-neutral: kept here until a shared home for
 * translating adapters exists (see the providers issue).
 */
import type { AnswerToolCall, UsageReport } from '../types.ts';

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export type ToolCall = AnswerToolCall;

export interface AnswerMessage {
  role: 'assistant';
  content: string | null;
  tool_calls?: ToolCall[];
  reasoning_content?: string;
}

export interface AnswerChoice {
  message: AnswerMessage;
  finishReason: FinishReason;
}

/** Provider-specific usage fields LiteLLM adds next to OpenAI's (Anthropic-style cache counts, reasoning). */
export interface UsageExtras {
  reasoningTokens?: number;
  /** Bedrock and Anthropic report cache reads and writes as their own fields too. */
  cacheFields?: boolean;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const chatId = () => `chatcmpl-${crypto.randomUUID()}`;
export const toolCallId = () => `call_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;

export function reportedUsage(promptTokens: number, completionTokens: number, cachedPromptTokens = 0, cacheCreationTokens = 0): UsageReport {
  return { promptTokens, completionTokens, cachedPromptTokens, cacheCreationTokens, reported: true };
}

/** OpenAI's `usage`: prompt_tokens counts cache reads and writes, as LiteLLM reports them. */
export function openaiUsage(usage: UsageReport, extras: UsageExtras = {}) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
    ...(extras.reasoningTokens ? { completion_tokens_details: { reasoning_tokens: extras.reasoningTokens } } : {}),
    ...(extras.cacheFields
      ? { cache_read_input_tokens: usage.cachedPromptTokens, cache_creation_input_tokens: usage.cacheCreationTokens }
      : {}),
  };
}

export function chatCompletion(model: string, choices: AnswerChoice[], usage: UsageReport, extras: UsageExtras = {}) {
  return {
    id: chatId(),
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: choices.map((c, index) => ({ index, message: c.message, logprobs: null, finish_reason: c.finishReason })),
    usage: openaiUsage(usage, extras),
  };
}

/** The text of an answer, for spend logs that keep it. */
export function answerText(choices: AnswerChoice[]): string {
  return choices.map((c) => c.message.content ?? '').join('');
}

/** OpenAI's embeddings list. base64 is little-endian float32, which the official SDKs ask for by default. */
export function embeddingList(model: string, vectors: number[][], promptTokens: number, base64: boolean) {
  return {
    object: 'list',
    data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: base64 ? float32Base64(v) : v })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

function float32Base64(values: number[]): string {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
