import { describe, expect, it } from 'vitest';
import { cacheTtlOf } from './audio-expiry.ts';

const NOW = 1_760_000_000_000;
const audioAnswer = (audio: unknown) => JSON.stringify({
  id: 'chatcmpl-1', object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: null, audio }, finish_reason: 'stop' }],
});

describe('cacheTtlOf: an answer with audio is cached no longer than its audio id lives', () => {
  it('cuts the ttl to the seconds left before message.audio.expires_at', () => {
    const json = audioAnswer({ id: 'audio_1', expires_at: NOW / 1000 + 3600, data: 'UklGRg==', transcript: 'hi' });
    expect(cacheTtlOf({ endpoint: 'chat', json }, 86_400, NOW)).toBe(3600);
    expect(cacheTtlOf({ endpoint: 'chat', json }, 600, NOW)).toBe(600);
  });

  it('does not store an answer whose audio has expired, or has no expiry to trust', () => {
    expect(cacheTtlOf({ endpoint: 'chat', json: audioAnswer({ id: 'audio_1', expires_at: NOW / 1000 - 1, data: '' }) }, 600, NOW)).toBe(0);
    expect(cacheTtlOf({ endpoint: 'chat', json: audioAnswer({ id: 'audio_1', data: '' }) }, 600, NOW)).toBe(0);
  });

  it('leaves any other answer alone (no audio, a null audio, an answer merely quoting "audio", an "audio" not a message\'s)', () => {
    expect(cacheTtlOf({ endpoint: 'chat', json: audioAnswer(null) }, 600, NOW)).toBe(600);
    // Parsed (its JSON has an "audio" key) but no choice's message carries audio.
    const elsewhere = JSON.stringify({ audio: { id: 'audio_1', expires_at: NOW / 1000 - 1 }, choices: [{ message: { role: 'assistant', content: 'hi', metadata: { audio: { expires_at: 0 } } } }] });
    expect(cacheTtlOf({ endpoint: 'chat', json: elsewhere }, 600, NOW)).toBe(600);
    const quoting = JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'say "audio"' } }] });
    expect(cacheTtlOf({ endpoint: 'chat', json: quoting }, 600, NOW)).toBe(600);
    expect(cacheTtlOf({ endpoint: 'embedding', json: '{"audio":{"expires_at":0}}' }, 600, NOW)).toBe(600);
  });
});
