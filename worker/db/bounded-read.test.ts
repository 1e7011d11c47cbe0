import { describe, expect, it, vi } from 'vitest';
import type { PoolClient } from '@neondatabase/serverless';
import { boundedRead } from './bounded-read.ts';
import type { Database } from './client.ts';

const ENV = { DATABASE_URL: 'postgres://db.test/litellm' };

/** A database whose one connection answers `answer` (or never), recording how it is released and closed. */
function fakeDatabase(answer: () => Promise<unknown>, connect?: () => Promise<void>) {
  const release = vi.fn();
  const close = vi.fn(async () => undefined);
  const client = { query: vi.fn(answer), release } as unknown as PoolClient;
  const pool = { connect: async () => (await connect?.(), client) };
  return { release, close, client, open: () => ({ pool, close }) as unknown as Database };
}

describe('a bounded database read', () => {
  it('returns the read\'s answer, returns the connection to the pool, then closes the pool', async () => {
    const db = fakeDatabase(async () => ({ rows: [{ n: 1 }] }));
    const rows = await boundedRead(ENV, 1_000, async (client) => (await client.query('SELECT 1 AS n')).rows, db.open);
    expect(rows).toEqual([{ n: 1 }]);
    expect(db.release).toHaveBeenCalledWith(undefined);
    expect(db.close).toHaveBeenCalledTimes(1);
  });

  it('gives a hanging read up after its timeout: the connection ended, the pool closed', async () => {
    const db = fakeDatabase(() => new Promise(() => undefined));
    await expect(boundedRead(ENV, 20, (client) => client.query('SELECT pg_sleep(60)'), db.open)).rejects.toThrow('timed out after 20 ms');
    // Released with an error, pg ends the connection rather than keep it.
    expect(db.release).toHaveBeenCalledWith(expect.any(Error));
    expect(db.close).toHaveBeenCalledTimes(1);
  });

  it('gives a hanging connect up after its timeout, closing the pool, and reads nothing once connected late', async () => {
    let connected!: () => void;
    const db = fakeDatabase(async () => ({ rows: [] }), () => new Promise((resolve) => (connected = resolve)));
    await expect(boundedRead(ENV, 20, (client) => client.query('SELECT 1'), db.open)).rejects.toThrow('timed out after 20 ms');
    expect(db.close).toHaveBeenCalledTimes(1);
    connected();
    await vi.waitFor(() => expect(db.release).toHaveBeenCalledWith(expect.any(Error)));
    expect(db.client.query).not.toHaveBeenCalled();
  });
});
