import { describe, expect, it } from 'vitest';
import { PromptCache } from './prompt-cache.ts';

describe('the remote prompt cache', () => {
  it('counts a parsed answer as three times its JSON, so a cap of 3 KB holds one answer of 1 KB', () => {
    const cache = new PromptCache<string>(100, 3 * 1024);
    cache.set('a', 'A', 1024, 60_000, 0);
    cache.set('b', 'B', 1024, 60_000, 0);
    expect([cache.get('a', 1), cache.get('b', 1), cache.bytes]).toEqual([undefined, 'B', 3 * 1024]);
  });

  it('drops the oldest answers once their weight passes the cap, however few entries there are', () => {
    const cache = new PromptCache<string>(100, 30);
    cache.set('a', 'A', 4, 60_000, 0);
    cache.set('b', 'B', 4, 60_000, 0);
    cache.set('c', 'C', 4, 60_000, 0);
    expect([cache.get('a', 1), cache.get('b', 1), cache.get('c', 1)]).toEqual([undefined, 'B', 'C']);
    expect([cache.size, cache.bytes]).toEqual([2, 24]);
  });

  it('drops the oldest past the entry cap, counts a rewritten key once, and keeps nothing larger than the cap', () => {
    const cache = new PromptCache<string>(2, 300);
    cache.set('a', 'A', 1, 60_000, 0);
    cache.set('b', 'B', 1, 60_000, 0);
    cache.set('a', 'A2', 5, 60_000, 0);
    cache.set('c', 'C', 1, 60_000, 0);
    expect([cache.get('a', 1), cache.get('b', 1), cache.get('c', 1), cache.bytes]).toEqual(['A2', undefined, 'C', 18]);
    cache.set('c', 'huge', 101, 60_000, 0);
    expect([cache.get('c', 1), cache.size, cache.bytes]).toEqual([undefined, 1, 15]);
  });

  it('returns an entry only until its own deadline', () => {
    const cache = new PromptCache<string>(10, 100);
    cache.set('short', 'S', 1, 10_000, 0);
    cache.set('long', 'L', 1, 60_000, 0);
    expect([cache.get('short', 9_999), cache.get('short', 10_000), cache.get('long', 59_999)]).toEqual(['S', undefined, 'L']);
  });
});
