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
    const entries = ['a', 'b', 'c'].map(bulky);
    let packed = 0;
    const sends: { id: string; packedBefore: number }[] = [];
    const queue = {
      send: async (body: Uint8Array) => {
        const id = firstId(body);
        sends.push({ id, packedBefore: packed });
        if (id === 'b') throw new Error('queue down');
      },
    };
    const errors = await capturingErrors(() => shipPacks(queue, entries, (joined) => {
      packed++;
      return `{"records":[${joined}]}`;
    }, { noun: 'spend log', idOf: (e) => e.id, messageChars: 100_000 }));
    // b was tried four times (sendWithRetry), and c still sent after it; each message packed just before its send.
    expect(sends.map((s) => s.id)).toEqual(['a', 'b', 'b', 'b', 'b', 'c']);
    expect(sends.map((s) => s.packedBefore)).toEqual([1, 2, 2, 2, 2, 3]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('spend log send failed 4 times for 1 (b)');
  });

  it('log every id it gives up on: an entry too large, the rest once packing fails, the rest once the flush\'s time is spent', async () => {
    const sent: string[] = [];
    const queue = { send: async (body: Uint8Array) => void sent.push(firstId(body)) };
    const noise = (n: number) => randomBytes(n / 2).toString('hex');
    const huge = { id: 'huge', json: JSON.stringify({ id: 'huge', text: noise(300_000) }) };
    let wraps = 0;
    const packingFails = await capturingErrors(() => shipPacks(queue, [bulky('a'), huge, bulky('b'), bulky('c')], (joined) => {
      if (++wraps === 3) throw new Error('out of memory');
      return `{"records":[${joined}]}`;
    }, { noun: 'spend log', idOf: (e) => e.id, messageChars: 100_000 }));
    expect(sent).toEqual(['a']);
    expect(packingFails).toEqual([
      expect.stringContaining('spend log: 1 (huge) too large for a queue message even compressed; not sent'),
      expect.stringContaining('spend log send failed: 2 (b, c) could not be packed: out of memory'),
    ]);

    const down = { send: () => Promise.reject(new Error('queue down')) };
    const timedOut = await capturingErrors(() => shipPacks(down, ['a', 'b', 'c'].map(bulky), (joined) => `{"records":[${joined}]}`, {
      noun: 'spend log', idOf: (e) => e.id, messageChars: 100_000, budgetMs: 50,
    }));
    expect(timedOut).toEqual([
      expect.stringContaining('spend log send failed 4 times for 1 (a)'),
      expect.stringContaining('spend log send given up: 2 (b, c) not sent'),
    ]);
  });
});

/** An entry that nearly fills a message alone (150 K characters that hardly compress). */
function bulky(id: string) {
  return { id, json: JSON.stringify({ id, text: randomBytes(75_000).toString('hex') }) };
}

/** The first record's id in a message body. */
function firstId(body: Uint8Array): string {
  return (decodePack(body) as { records: { id: string }[] }).records[0]!.id;
}

/** What `fn` wrote with console.error, one string a call. */
async function capturingErrors(fn: () => Promise<void>): Promise<string[]> {
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void errors.push(args.join(' '));
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return errors;
}
