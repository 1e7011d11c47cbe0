// The bounded TTL memo behind the per-isolate caches (admin roles, JWT mappings and team choices, unanswered
// logger destinations): an entry counts for its own TTL only, and a flood of keys never grows it past its cap.
import { describe, expect, it } from 'vitest';
import { BoundedTtlMap } from './bounded-map.ts';

describe('BoundedTtlMap', () => {
  it('returns a value until its own deadline, and nothing from then on', () => {
    const map = new BoundedTtlMap<string>(10);
    map.set('a', 'first', 1_000, 5_000);
    map.set('b', 'second', 10_000, 5_000);
    expect(map.get('a', 5_000)).toBe('first');
    expect(map.get('a', 5_999)).toBe('first');
    expect(map.get('a', 6_000)).toBeUndefined();
    expect(map.get('b', 6_000)).toBe('second');
    expect(map.get('missing', 5_000)).toBeUndefined();
    // A falsy value is a value.
    map.set('zero', '', 1_000, 0);
    expect(map.get('zero', 10)).toBe('');
  });

  it('a write renews the deadline and replaces the value', () => {
    const map = new BoundedTtlMap<number>(10);
    map.set('k', 1, 1_000, 0);
    map.set('k', 2, 1_000, 900);
    expect(map.get('k', 1_500)).toBe(2);
    expect(map.size).toBe(1);
    expect(map.delete('k')).toBe(true);
    expect(map.get('k', 1_500)).toBeUndefined();
  });

  it('holds at most its cap, dropping the key written longest ago (a re-written one stays)', () => {
    const map = new BoundedTtlMap<number>(3);
    map.set('a', 1, 60_000, 0);
    map.set('b', 2, 60_000, 0);
    map.set('c', 3, 60_000, 0);
    // `a` re-written: `b` is now the oldest write.
    map.set('a', 10, 60_000, 1);
    map.set('d', 4, 60_000, 2);
    expect(map.size).toBe(3);
    expect(map.get('b', 3)).toBeUndefined();
    expect([map.get('a', 3), map.get('c', 3), map.get('d', 3)]).toEqual([10, 3, 4]);
    for (let i = 0; i < 1_000; i++) map.set(`flood-${i}`, i, 60_000, 4);
    expect(map.size).toBe(3);
    expect(map.get('flood-999', 5)).toBe(999);
    expect(map.get('a', 5)).toBeUndefined();
  });
});
