import { afterAll, beforeAll } from 'vitest';
import { migrateDatabase } from '../../scripts/lib/migrate.ts';
import { startWsProxy, type WsProxy } from '../../scripts/lib/wsproxy.ts';
import { freshDatabase, type TestDatabase } from './database.ts';
import { query } from './pg-client.ts';

/** What a Worker module needs to reach the database: the URL and the WebSocket proxy in front of it. */
export type WorkerDbEnv = { DATABASE_URL: string; DATABASE_WSPROXY: string };

/**
 * A Worker module, by its path from the repository root. The Worker modules are typed against
 * @cloudflare/workers-types, which the Node-side tsconfig does not load; they are imported by a computed
 * path (so tsc does not follow them), and the caller types what it uses.
 */
export const workerModule = <T>(fromRoot: string): Promise<T> => import(/* @vite-ignore */ new URL(`../../${fromRoot}`, import.meta.url).href);

export interface WorkerDatabase {
  readonly url: string;
  readonly proxyUrl: string;
  /** The env a Worker module is called with. */
  readonly env: WorkerDbEnv;
  /** The first row of a query (an empty object when none). */
  one(sql: string, params?: unknown[]): Promise<Record<string, unknown>>;
}

/**
 * A fresh, migrated database behind the WebSocket proxy, for a file whose tests call Worker modules
 * directly in Node through the driver the Workers use: set up before its tests, dropped after them.
 */
export function useWorkerDatabase(): WorkerDatabase {
  let db: TestDatabase | undefined;
  let proxy: WsProxy | undefined;
  beforeAll(async () => {
    db = await freshDatabase();
    proxy = await startWsProxy({ allow: [db.address] });
    // Also points the Neon driver at `ws` (Node), as the Workers' runtime has WebSocket built in.
    await migrateDatabase(db.url, proxy.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await db?.drop().catch(() => undefined);
  });
  const started = () => {
    if (!db || !proxy) throw new Error('the worker database is used before its beforeAll ran');
    return { db, proxy };
  };
  return {
    get url() {
      return started().db.url;
    },
    get proxyUrl() {
      return started().proxy.url;
    },
    get env() {
      const { db: d, proxy: p } = started();
      return { DATABASE_URL: d.url, DATABASE_WSPROXY: p.url };
    },
    one: async (sql, params = []) => (await query(started().db.url, sql, params))[0] ?? {},
  };
}

/** A numeric column as a number (Postgres sums and bigints come back as strings). */
export const num = (v: unknown) => Number(v ?? 0);
