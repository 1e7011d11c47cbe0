import { describe, expect, it } from 'vitest';
import { SLOT_TTL_MS, SlotTable } from './parallel-slots.ts';

const cap = (slot: string, limit: number) => ({ slot, limit });

describe('SlotTable', () => {
  it('lets in `limit` holders, then the first free cap in order, then none', async () => {
    const t = new SlotTable();
    expect(await t.take([cap('a', 2)], 'h1', 0, 0)).toBe('a');
    expect(await t.take([cap('a', 2)], 'h2', 0, 0)).toBe('a');
    expect(await t.take([cap('a', 2)], 'h3', 0, 0)).toBeNull();
    expect(await t.take([cap('a', 2), cap('b', 1)], 'h3', 0, 0)).toBe('b');
    expect(t.inFlight('a', 0)).toBe(2);
  });

  it('hands a freed slot to the first call waiting for it', async () => {
    const t = new SlotTable();
    await t.take([cap('a', 1)], 'h1', 0, 0);
    const waiting = t.take([cap('a', 1)], 'h2', 1_000, 0);
    t.free('a', 'h1', 10);
    t.free('a', 'h1', 10); // twice: counted once
    expect(await waiting).toBe('a');
    expect(t.inFlight('a', 10)).toBe(1);
  });

  it('answers null once the wait is over', async () => {
    const t = new SlotTable();
    await t.take([cap('a', 1)], 'h1', 0, 0);
    expect(await t.take([cap('a', 1)], 'h2', 20, 0)).toBeNull();
  });

  it('frees a slot not renewed for SLOT_TTL_MS (its isolate died), and keeps one renewed', async () => {
    const t = new SlotTable();
    await t.take([cap('a', 1)], 'dead', 0, 0);
    await t.take([cap('b', 1)], 'alive', 0, 0);
    t.renew([{ slot: 'b', holder: 'alive' }], SLOT_TTL_MS - 1);
    expect(t.inFlight('a', SLOT_TTL_MS)).toBe(0);
    expect(t.inFlight('b', SLOT_TTL_MS)).toBe(1);
    expect(await t.take([cap('a', 1)], 'next', 0, SLOT_TTL_MS)).toBe('a');
  });

  it('takes back a renewed hold it does not know (a restarted object), whatever the cap', () => {
    const t = new SlotTable();
    t.renew([{ slot: 'a', holder: 'h1' }, { slot: 'a', holder: 'h2' }], 0);
    expect(t.inFlight('a', 0)).toBe(2);
  });
});
