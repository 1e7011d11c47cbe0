import { describe, expect, it } from 'vitest';
import { requestPool } from './pool.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('requestPool', () => {
  it('runs at most its limit at once, starting each task only when a place is free, in order', async () => {
    const run = requestPool(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await sleep(5 + (i % 4) * 3);
      running--;
      return i * 2;
    })));
    expect(most).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  });

  it('frees the place of a task that throws', async () => {
    const run = requestPool(1);
    await expect(run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(run(async () => 'next')).resolves.toBe('next');
    const sync = run(() => {
      throw new Error('sync');
    });
    await expect(sync).rejects.toThrow('sync');
    await expect(run(async () => 'after')).resolves.toBe('after');
  });
});
