import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STORED_TAGS_REFRESH_MS, type StoredTags, storedTagsReader } from './stored-tags.ts';

const tagSet = (...names: string[]): StoredTags => ({ budgeted: new Set(names), byModel: new Map() });

const env = { DATABASE_URL: 'postgres://nowhere.invalid/db' };
const ctx = { waitUntil: () => undefined };

describe('the budgeted tags an isolate knows', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('does not hold a call longer than 2 s for a read that hangs, and starts another once that one is taken for lost', async () => {
    let reads = 0;
    const tags = storedTagsReader(() => {
      reads++;
      return new Promise(() => undefined);
    });
    const first = tags(env, ctx);
    await vi.advanceTimersByTimeAsync(2_000);
    expect((await first).budgeted).toEqual(new Set());
    await vi.advanceTimersByTimeAsync(14_000);
    const second = tags(env, ctx);
    expect(reads).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect((await second).budgeted).toEqual(new Set());
  });

  it('answers a busy isolate from what it has while it reads again, and makes a quiet one wait for the read', async () => {
    let answer = tagSet('a');
    const tags = storedTagsReader(async () => answer);
    expect((await tags(env, ctx)).budgeted).toEqual(new Set(['a']));
    answer = tagSet('a', 'b');
    // Within the interval: the set as read.
    await vi.advanceTimersByTimeAsync(STORED_TAGS_REFRESH_MS - 1);
    expect((await tags(env, ctx)).budgeted).toEqual(new Set(['a']));
    // Just past it: the call goes on with the set it had; the read lands for the next.
    await vi.advanceTimersByTimeAsync(2);
    expect((await tags(env, ctx)).budgeted).toEqual(new Set(['a']));
    expect((await tags(env, ctx)).budgeted).toEqual(new Set(['a', 'b']));
    // A quiet isolate (no tagged call for minutes) reads before admitting the call that finds it so.
    answer = tagSet('c');
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect((await tags(env, ctx)).budgeted).toEqual(new Set(['c']));
  });

  it('keeps the last set when a read fails', async () => {
    let fail = false;
    const tags = storedTagsReader(async () => {
      if (fail) throw new Error('connection refused');
      return tagSet('kept');
    });
    expect((await tags(env, ctx)).budgeted).toEqual(new Set(['kept']));
    fail = true;
    await vi.advanceTimersByTimeAsync(60_000);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect((await tags(env, ctx)).budgeted).toEqual(new Set(['kept']));
    expect(errors).toHaveBeenCalledWith('reading the budgeted tags failed:', 'connection refused');
    errors.mockRestore();
  });
});
