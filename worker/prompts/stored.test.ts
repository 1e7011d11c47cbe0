import { describe, expect, it } from 'vitest';
import { storedPromptLookup } from './stored.ts';

const state = { masterKey: 'sk-master-0001' };
/** A request's waitUntil: a read of the table is handed to it (db/refreshed.ts), so none handed means none started. */
const request = () => {
  const handed: Promise<unknown>[] = [];
  return { handed, waitUntil: (p: Promise<unknown>) => void handed.push(p.catch(() => undefined)) };
};

describe('stored prompts as chat calls find them', () => {
  it('a gateway without a database has no lookup: nothing is read, and no refusal speaks of stored prompts', () => {
    expect(storedPromptLookup(state, {}, request())).toBeUndefined();
    expect(storedPromptLookup(state, { DATABASE_URL: '' }, request())).toBeUndefined();
  });

  it("a call that would wait for a read has its key checked first: a refused key's 401, and no read started", async () => {
    const ctx = request();
    const lookup = storedPromptLookup(state, { DATABASE_URL: 'postgres://tollgate@127.0.0.1:1/none' }, ctx)!;
    const refused = Object.assign(new Error('Authentication Error'), { status: 401 });
    let checks = 0;
    await expect(lookup('rand-1', undefined, async () => { checks++; throw refused; })).rejects.toBe(refused);
    expect([checks, ctx.handed.length]).toEqual([1, 0]);
  });
});
