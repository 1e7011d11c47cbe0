/** Legacy `/completions` answers (`text_completion`), streamed and not, as OpenAI/Azure put them on the wire. */

import { azurePromptFilterResults, azureSafeFilterResults, fakeId, now, SYSTEM_FINGERPRINT, type FinishReason, type Flavor } from './openai-format-common.ts';

export interface TextCompletionInput {
  model: string;
  /** One choice per text (a prompt array gets one answer per prompt). */
  text: string | string[];
  promptTokens: number;
  completionTokens: number;
  finishReason?: FinishReason;
  id?: string;
  created?: number;
  flavor?: Flavor;
}

function textUsage(promptTokens: number, completionTokens: number) {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/** A legacy `/completions` answer (object `text_completion`). */
export function openaiTextCompletion(input: TextCompletionInput) {
  const azure = input.flavor === 'azure';
  const texts = Array.isArray(input.text) ? input.text : [input.text];
  return {
    id: input.id ?? fakeId('cmpl-'),
    object: 'text_completion',
    created: input.created ?? now(),
    model: input.model,
    ...(azure ? { prompt_filter_results: azurePromptFilterResults() } : {}),
    choices: texts.map((text, index) => ({ text, index, logprobs: null, finish_reason: input.finishReason ?? 'stop', ...(azure ? { content_filter_results: azureSafeFilterResults() } : {}) })),
    usage: textUsage(input.promptTokens, input.completionTokens),
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

export interface TextChunksInput {
  model: string;
  pieces: string[];
  promptTokens: number;
  completionTokens: number;
  includeUsage: boolean;
  finishReason?: FinishReason;
  id?: string;
  created?: number;
}

/** Streamed `/completions`: every chunk is also `text_completion`; no role chunk; the last has text '' and the finish reason. */
export function openaiTextCompletionChunks(input: TextChunksInput): Record<string, unknown>[] {
  const head = { id: input.id ?? fakeId('cmpl-'), object: 'text_completion', created: input.created ?? now(), model: input.model, system_fingerprint: SYSTEM_FINGERPRINT };
  const usageNull = input.includeUsage ? { usage: null } : {};
  const chunk = (text: string, finish: FinishReason | null) => ({ ...head, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }], ...usageNull });
  const out: Record<string, unknown>[] = input.pieces.map((p) => chunk(p, null));
  out.push(chunk('', input.finishReason ?? 'stop'));
  if (input.includeUsage) out.push({ ...head, choices: [], usage: textUsage(input.promptTokens, input.completionTokens) });
  return out;
}
