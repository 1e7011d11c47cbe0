/**
 * How the telemetry producers pack what an isolate gathered into Queue messages
 * (worker/telemetry/queue-packing.ts): compressed, within Cloudflare's limits, in order.
 * Langfuse items' own packing is in langfuse-events; the consumers' decoding in telemetry-spend.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePack, packMessages, shipPacks } from '../worker/telemetry/queue-packing.ts';

describe('queue packing', () => {
  it('split what does not compress until each message fits, and leave out an entry too large alone', () => {
    // Text that does not compress: each entry ~60 KB of random hex.
    const noise = (n: number) => randomBytes(n / 2).toString('hex');
    const entries = Array.from({ length: 12 }, (_, i) => ({ id: `e${i}`, json: JSON.stringify({ id: `e${i}`, text: noise(60_000) }) }));
    const huge = { id: 'huge', json: JSON.stringify({ id: 'huge', text: noise(300_000) }) };
    const packed = [...packMessages([...entries.slice(0, 6), huge, ...entries.slice(6)], (joined) => `{"records":[${joined}]}`)];
    expect(packed.flatMap((p) => ('tooLarge' in p ? [p.tooLarge.id] : []))).toEqual(['huge']);
    const messages = packed.flatMap((p) => ('body' in p ? [p] : []));
    for (const m of messages) expect(m.body.byteLength).toBeLessThanOrEqual(100 * 1024);
    expect(messages.length).toBeGreaterThan(1);
    const ids = messages.flatMap((m) => (decodePack(m.body) as { records: { id: string }[] }).records.map((r) => r.id));
    expect(ids).toEqual(entries.map((e) => e.id));
    expect(messages.flatMap((m) => m.entries.map((e) => e.id))).toEqual(ids);
  });

  it('send each message on its own, packing the next only once the last is sent, and carry on past a failed one', async () => {
    const noise = (n: number) => randomBytes(n / 2).toString('hex');
    // Three messages' worth (each entry alone nearly fills one), the second's send failing every time.
    const entries = ['a', 'b', 'c'].map((id) => ({ id, json: JSON.stringify({ id, text: noise(150_000) }) }));
    let packed = 0;
    const sends: { id: string; packedBefore: number }[] = [];
    const queue = {
      send: async (body: Uint8Array) => {
        const [record] = (decodePack(body) as { records: { id: string }[] }).records;
        sends.push({ id: record!.id, packedBefore: packed });
        if (record!.id === 'b') throw new Error('queue down');
      },
    };
    const errors: string[] = [];
    const onError = (...args: unknown[]) => void errors.push(args.join(' '));
    const original = console.error;
    console.error = onError;
    try {
      await shipPacks(queue, entries, (joined) => {
        packed++;
        return `{"records":[${joined}]}`;
      }, { noun: 'spend log', idOf: (e) => e.id, messageChars: 100_000 });
    } finally {
      console.error = original;
    }
    // b was tried four times (sendWithRetry), and c still sent after it; each message packed just before its send.
    expect(sends.map((s) => s.id)).toEqual(['a', 'b', 'b', 'b', 'b', 'c']);
    expect(sends.map((s) => s.packedBefore)).toEqual([1, 2, 2, 2, 2, 3]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('spend log send failed 4 times for 1 (b)');
  });
});
