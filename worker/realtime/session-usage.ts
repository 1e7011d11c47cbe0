import type { UsageReport } from '../providers/types.ts';
import { NO_USAGE } from '../providers/openai-compatible/usage.ts';
import { isObject } from '../json.ts';

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

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


/** A server event's `type`, read from the start of its text (where OpenAI puts it) without parsing the rest. */
export function eventType(data: string): string | undefined {
  return /"type"\s*:\s*"([^"]+)"/.exec(data.slice(0, 256))?.[1];
}

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

/**
 * The model a session transcribes its input audio with, as the server's `session.created` / `session.updated`
 * says it (GA: `session.audio.input.transcription.model`; beta: `session.input_audio_transcription.model`);
 * null when the event says transcription is off, undefined when it is another event.
 */
export function transcriptionModel(data: string): string | null | undefined {
  if (!data.includes('"session.created"') && !data.includes('"session.updated"')) return undefined;
  try {
    const event = JSON.parse(data) as { type?: unknown; session?: Record<string, unknown> };
    if (event.type !== 'session.created' && event.type !== 'session.updated') return undefined;
    const session = isObject(event.session) ? event.session : {};
    const audio = isObject(session.audio) && isObject(session.audio.input) ? session.audio.input : undefined;
    const settings = audio && 'transcription' in audio ? audio.transcription : session.input_audio_transcription;
    if (!isObject(settings)) return null;
    return typeof settings.model === 'string' && settings.model ? settings.model.slice(0, 128) : null;
  } catch {
    return undefined;
  }
}

/**
 * What transcribing one input item used (`conversation.item.input_audio_transcription.completed`'s `usage`):
 * tokens (gpt-4o-transcribe's audio in, text out) or seconds of audio (whisper-1's).
 */
export function transcriptionUsage(data: string): UsageReport | undefined {
  if (!data.includes('"conversation.item.input_audio_transcription.completed"')) return undefined;
  try {
    const event = JSON.parse(data) as { type?: unknown; usage?: unknown };
    if (event.type !== 'conversation.item.input_audio_transcription.completed' || !isObject(event.usage)) return undefined;
    const usage = event.usage;
    if (usage.type === 'duration') {
      return { ...NO_USAGE, seconds: typeof usage.seconds === 'number' && usage.seconds > 0 ? usage.seconds : 0 };
    }
    const input = isObject(usage.input_token_details) ? usage.input_token_details : {};
    return { ...NO_USAGE, promptTokens: count(usage.input_tokens), completionTokens: count(usage.output_tokens), audioPromptTokens: count(input.audio_tokens) };
  } catch {
    return undefined;
  }
}
