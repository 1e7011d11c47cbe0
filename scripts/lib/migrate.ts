import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import { migrate } from 'drizzle-orm/neon-serverless/migrator';
import { useWebSocketProxy } from '../../worker/db/client.ts';
import { startWsProxy } from './wsproxy.ts';

const MIGRATIONS = fileURLToPath(new URL('../../drizzle/migrations', import.meta.url));

/** Neon's own hosts take the driver's WebSocket directly; any other Postgres needs the proxy. */
export function needsWsProxy(databaseUrl: string): boolean {
  return !new URL(databaseUrl).hostname.endsWith('.neon.tech');
}

/**
 * Applies drizzle/migrations to the database, through the same driver the
 * Workers use (`@neondatabase/serverless`). Without `wsProxyUrl`, a plain
 * Postgres is reached through a proxy started for the occasion.
 */
export async function migrateDatabase(databaseUrl: string, wsProxyUrl?: string): Promise<void> {
  neonConfig.webSocketConstructor = createRequire(import.meta.url)('ws');
  let ownProxy: Awaited<ReturnType<typeof startWsProxy>> | undefined;
  if (!wsProxyUrl && needsWsProxy(databaseUrl)) {
    const url = new URL(databaseUrl);
    ownProxy = await startWsProxy({ allow: [`${url.hostname}:${url.port || '5432'}`] });
    wsProxyUrl = ownProxy.url;
  }
  if (wsProxyUrl) useWebSocketProxy(wsProxyUrl);
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  try {
    await migrate(drizzle(pool), { migrationsFolder: MIGRATIONS });
  } finally {
    await pool.end();
    await ownProxy?.close();
  }
}
