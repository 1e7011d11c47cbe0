/** Shared pieces of the OpenAI/Azure wire fakes: flavours, ids, the fingerprint, usage and Azure's filter verdicts. */

/** 'azure' adds the content-filter annotations Azure puts on chat and text completions and drops `service_tier`. */
export type Flavor = 'openai' | 'azure';
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ToolCallInput {
  id?: string;
  name: string;
  /** JSON text, exactly as the model emits it. */
  arguments: string;
}

export const SYSTEM_FINGERPRINT = 'fp_f00dfa4e11';

let sequence = 0;
/** Unique and recognisable ids with OpenAI's prefixes ('chatcmpl-', 'cmpl-', 'call_', 'req_'). */
export function fakeId(prefix: string): string {
  return `${prefix}FAKE${String(++sequence).padStart(6, '0')}${Math.random().toString(36).slice(2, 12)}`;
}

export function now(): number {
  return Math.floor(Date.now() / 1000);
}

export function chatUsage(promptTokens: number, completionTokens: number, cachedTokens = 0, reasoningTokens = 0) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** Azure's per-category verdicts when nothing was flagged. */
export function azureSafeFilterResults(withPromptShields = false) {
  const safe = { filtered: false, severity: 'safe' };
  const shields = withPromptShields ? { jailbreak: { filtered: false, detected: false } } : {};
  return { hate: safe, ...shields, self_harm: safe, sexual: safe, violence: safe };
}

export function azurePromptFilterResults() {
  return [{ prompt_index: 0, content_filter_results: azureSafeFilterResults(true) }];
}
