/**
 * How the telemetry producers pack what an isolate gathered into Queue messages
 * (worker/telemetry/queue-packing.ts): compressed, within Cloudflare's limits, in order.
 * Langfuse items' own packing is in langfuse-events; the consumers' decoding in telemetry-spend.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePack, packForQueue } from '../worker/telemetry/queue-packing.ts';

describe('queue packing', () => {
  it('split what does not compress until each message fits, and leave out an entry too large alone', () => {
    // Text that does not compress: each entry ~60 KB of random hex.
    const noise = (n: number) => randomBytes(n / 2).toString('hex');
    const entries = Array.from({ length: 12 }, (_, i) => ({ id: `e${i}`, json: JSON.stringify({ id: `e${i}`, text: noise(60_000) }) }));
    const huge = { id: 'huge', json: JSON.stringify({ id: 'huge', text: noise(300_000) }) };
    const { batches, tooLarge } = packForQueue([...entries.slice(0, 6), huge, ...entries.slice(6)], (joined) => `{"records":[${joined}]}`);
    expect(tooLarge.map((e) => e.id)).toEqual(['huge']);
    const messages = batches.flat();
    for (const m of messages) expect(m.body.byteLength).toBeLessThanOrEqual(100 * 1024);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(100);
      expect(batch.reduce((n, m) => n + m.body.byteLength, 0)).toBeLessThanOrEqual(240 * 1024);
    }
    expect(batches.length).toBeGreaterThan(1);
    const ids = messages.flatMap((m) => (decodePack(m.body) as { records: { id: string }[] }).records.map((r) => r.id));
    expect(ids).toEqual(entries.map((e) => e.id));
    expect(messages.flatMap((m) => m.entries.map((e) => e.id))).toEqual(ids);
  });
});
