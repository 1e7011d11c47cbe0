import type { UsageReport } from '../providers/types.ts';

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The usage of one Realtime response (`response.done`'s `response.usage`): every input token of the
 * conversation so far that the model read for it (cached ones apart) and what it said, text and audio
 * counted apart, as audio tokens cost several times text tokens. Cached audio is priced as cached input.
 */
export function realtimeUsage(usage: unknown): UsageReport | undefined {
  if (!isObject(usage)) return undefined;
  const input = isObject(usage.input_token_details) ? usage.input_token_details : {};
  const output = isObject(usage.output_token_details) ? usage.output_token_details : {};
  const cachedDetails = isObject(input.cached_tokens_details) ? input.cached_tokens_details : {};
  const cached = count(input.cached_tokens);
  return {
    promptTokens: count(usage.input_tokens),
    completionTokens: count(usage.output_tokens),
    cachedPromptTokens: cached,
    cacheCreationTokens: 0,
    audioPromptTokens: Math.max(0, count(input.audio_tokens) - count(cachedDetails.audio_tokens)),
    audioCompletionTokens: count(output.audio_tokens),
    reported: true,
  };
}

/** The session's usage so far, and one more response's. */
export function addUsage(total: UsageReport, more: UsageReport): UsageReport {
  return {
    promptTokens: total.promptTokens + more.promptTokens,
    completionTokens: total.completionTokens + more.completionTokens,
    cachedPromptTokens: total.cachedPromptTokens + more.cachedPromptTokens,
    cacheCreationTokens: total.cacheCreationTokens + more.cacheCreationTokens,
    audioPromptTokens: (total.audioPromptTokens ?? 0) + (more.audioPromptTokens ?? 0),
    audioCompletionTokens: (total.audioCompletionTokens ?? 0) + (more.audioCompletionTokens ?? 0),
    reported: total.reported && more.reported,
  };
}

export const NO_USAGE: UsageReport = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };

/** The usage a server event reports: a `response.done`'s, else none. Read only when the text says it is one. */
export function eventUsage(data: string): UsageReport | undefined {
  if (!data.includes('"response.done"')) return undefined;
  try {
    const event = JSON.parse(data) as { type?: unknown; response?: { usage?: unknown } };
    return event.type === 'response.done' ? realtimeUsage(event.response?.usage) : undefined;
  } catch {
    return undefined;
  }
}
