/**
 * How long a chat answer carrying OpenAI audio output may stay cached: its `message.audio.id` is what a client
 * sends back to refer to the audio in the next turn, and OpenAI forgets it at `message.audio.expires_at` (about an
 * hour after the answer). A replay after that would hand out an id the next turn fails on, so such an answer is
 * kept no longer than its audio lives (and not at all once it has expired).
 */
import { isObject } from '../json.ts';

/** The earliest `expires_at` (epoch seconds) of the answer's audio, or undefined when it carries none. */
function audioExpiry(json: string): number | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(json);
  } catch {
    return undefined;
  }
  const choices = isObject(answer) && Array.isArray(answer.choices) ? answer.choices : [];
  let earliest: number | undefined;
  for (const choice of choices) {
    const audio = isObject(choice) && isObject(choice.message) ? choice.message.audio : undefined;
    if (!isObject(audio)) continue;
    // Audio without a usable expiry is treated as expiring now: its id cannot be trusted past the answer.
    const at = typeof audio.expires_at === 'number' && Number.isFinite(audio.expires_at) ? audio.expires_at : 0;
    earliest = earliest === undefined ? at : Math.min(earliest, at);
  }
  return earliest;
}

/**
 * The seconds an answer is cached for: `ttlSeconds`, cut to what is left of its audio's life for a chat answer
 * with audio (0: not stored). Only an answer whose JSON names `"audio"` is parsed.
 */
export function cacheTtlOf(answer: { endpoint: string; json: string }, ttlSeconds: number, nowMs = Date.now()): number {
  if (answer.endpoint !== 'chat' || !answer.json.includes('"audio"')) return ttlSeconds;
  const expiry = audioExpiry(answer.json);
  if (expiry === undefined) return ttlSeconds;
  return Math.max(0, Math.min(ttlSeconds, Math.floor(expiry - nowMs / 1000)));
}
