import type { ProviderAnswer, ProviderCall } from '../types.ts';
import { readOpenAIUsage } from './usage.ts';

const decoder = new TextDecoder();

/**
 * Whisper prices by the second, which only its verbose_json answer says: asked for in place of json,
 * text, srt or vtt (`fields` changed so), and the format the client asked for is made from it
 * (transcriptionAnswer). Whisper only: the gpt-4o transcribe models take no verbose_json. Returns the
 * format asked for, or undefined where the request goes as it came.
 */
export function askWhisperForVerbose(call: ProviderCall, fields: Record<string, unknown>): string | undefined {
  const asked = String(fields.response_format ?? 'json');
  const whisper = /whisper/i.test(`${call.deployment.model} ${call.deployment.info.base_model ?? ''}`);
  if (call.endpoint !== 'transcription' || !whisper || asked === 'verbose_json' || !UPGRADABLE.has(asked)) return undefined;
  fields.response_format = 'verbose_json';
  // Subtitles are made from segments: asked for when the client named only word timestamps.
  const granularities = fields.timestamp_granularities;
  if (Array.isArray(granularities) && !granularities.includes('segment')) fields.timestamp_granularities = [...granularities, 'segment'];
  return asked;
}

/** The formats made from a verbose_json answer when the gateway asked for it in their place. */
const UPGRADABLE = new Set(['json', 'text', 'srt', 'vtt']);

interface Segment { start?: unknown; end?: unknown; text?: unknown }

/** `{text}` (and usage), plain text, or subtitles (SubRip, WebVTT) from a verbose_json answer's segments. */
function fromVerbose(format: string, parsed: { text?: unknown; duration?: unknown; segments?: unknown; usage?: unknown }): { body: string; contentType: string } {
  const text = typeof parsed.text === 'string' ? parsed.text : '';
  if (format === 'json') return { body: JSON.stringify({ text, ...(parsed.usage ? { usage: parsed.usage } : {}) }), contentType: 'application/json' };
  if (format === 'text') return { body: `${text}\n`, contentType: 'text/plain; charset=utf-8' };
  // As whisper's own SRT and WebVTT writers make them: each cue its text stripped, `-->` escaped, and a blank line after it.
  const segments = Array.isArray(parsed.segments) ? parsed.segments as Segment[] : [];
  const time = (seconds: unknown, separator: string) => {
    const ms = Math.round((typeof seconds === 'number' ? seconds : 0) * 1000);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
  };
  const cue = (s: Segment, sep: string) => `${time(s.start, sep)} --> ${time(s.end, sep)}\n${String(s.text ?? '').trim().replaceAll('-->', '->')}\n\n`;
  if (format === 'srt') return { body: segments.map((s, i) => `${i + 1}\n${cue(s, ',')}`).join(''), contentType: 'text/plain; charset=utf-8' };
  return { body: `WEBVTT\n\n${segments.map((s) => cue(s, '.')).join('')}`, contentType: 'text/plain; charset=utf-8' };
}

/**
 * A transcription's answer: its text kept, its usage read (gpt-4o-transcribe's tokens, or the seconds
 * of audio a verbose_json answer or a `duration` usage gives), and, where the gateway asked for
 * verbose_json in place of another format (`upgraded`), that format made from it.
 */
export function transcriptionAnswer(bytes: ArrayBuffer, contentType: string, upgraded: string | undefined): Pick<ProviderAnswer, 'body' | 'outcome' | 'contentType'> {
  const text = decoder.decode(bytes);
  const none = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
  let parsed: { text?: unknown; duration?: unknown; segments?: unknown; usage?: { type?: unknown; seconds?: unknown } | null } | undefined;
  if (/json/i.test(contentType)) {
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // a 200 that is not JSON: passed on, counted as no usage
    }
  }
  if (!parsed) return { body: bytes, contentType, outcome: Promise.resolve({ usage: none, finishedAt: Date.now(), responseText: text }) };
  const seconds = typeof parsed.duration === 'number' ? parsed.duration
    : parsed.usage?.type === 'duration' && typeof parsed.usage.seconds === 'number' ? parsed.usage.seconds : undefined;
  const tokens = parsed.usage?.type === 'duration' ? undefined : readOpenAIUsage(parsed.usage);
  const usage = { ...(tokens ?? none), ...(seconds !== undefined ? { seconds } : {}) };
  const answer = typeof parsed.text === 'string' ? parsed.text : undefined;
  const made = upgraded ? fromVerbose(upgraded, parsed) : undefined;
  return { body: made?.body ?? bytes, contentType: made?.contentType ?? 'application/json', outcome: Promise.resolve({ usage, finishedAt: Date.now(), ...(answer !== undefined ? { responseText: answer } : {}) }) };
}
