/**
 * One read on a database connection of its own, bounded in time: for reads off the request path (the metrics
 * shard's user email and email event switches) that must neither hang their caller nor leave a socket open. When
 * `timeoutMs` passes first, the call rejects at once, the read's connection is ended (released with an error, so
 * pg's pool closes it rather than keep it, a query still running with it) and the pool closed.
 */
import type { PoolClient } from '@neondatabase/serverless';
import { type Database, type DatabaseEnv, openDatabase } from './client.ts';

export async function boundedRead<T>(
  env: DatabaseEnv,
  timeoutMs: number,
  read: (client: PoolClient) => Promise<T>,
  open: (env: DatabaseEnv) => Database = openDatabase,
): Promise<T> {
  const database = open(env);
  let expired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<never>((_, reject) => (timer = setTimeout(() => {
    expired = true;
    reject(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs)));
  const reading = (async () => {
    const client = await database.pool.connect();
    try {
      // Connected only after the call gave up: read nothing.
      if (expired) return await expiry;
      return await Promise.race([read(client), expiry]);
    } finally {
      client.release(expired ? new Error(`timed out after ${timeoutMs} ms`) : undefined);
    }
  })();
  try {
    return await Promise.race([reading, expiry]);
  } finally {
    if (timer) clearTimeout(timer);
    // Past the timeout, a connection may still be opening (pg gives it up after its own connect timeout): not waited for.
    const closing = database.close();
    if (!expired) await closing;
  }
}
