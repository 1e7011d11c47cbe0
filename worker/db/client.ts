import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import { GatewayError } from '../errors.ts';
import { log } from '../telemetry/log.ts';

export interface DatabaseEnv {
  DATABASE_URL?: string;
  DATABASE_WSPROXY?: string;
}

export interface Database {
  db: NeonDatabase;
  pool: Pool;
  /** Closes the pool's socket; call it from `ctx.waitUntil` when the request is done. */
  close(): Promise<void>;
}

/**
 * Opens a pool for one request: a Worker may not reuse a socket across
 * requests. On Neon the driver goes straight to Neon's WebSocket endpoint; a
 * plain Postgres (local, in-region) sits behind the WebSocket-to-TCP proxy
 * named by `DATABASE_WSPROXY` (`ws://host:port/v1`).
 */
export function openDatabase(env: DatabaseEnv): Database {
  if (!env.DATABASE_URL) {
    throw new GatewayError('No database configured (DATABASE_URL is not set)', { status: 503, type: 'no_db_connection' });
  }
  if (env.DATABASE_WSPROXY) useWebSocketProxy(env.DATABASE_WSPROXY);
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 4, connectionTimeoutMillis: 5000 });
  let closing = false;
  // An idle client's socket error must not become an unhandled rejection; once we close, the socket's end is expected.
  pool.on('error', (err: Error) => closing || log.error('database pool error:', err.message));
  return {
    db: drizzle(pool),
    pool,
    close: () => {
      closing = true;
      return pool.end().catch(() => undefined);
    },
  };
}

/** Points the Neon driver at a WebSocket-to-TCP proxy (`ws://host:port/v1`) in front of a plain Postgres. */
export function useWebSocketProxy(proxyUrl: string): void {
  const proxy = new URL(proxyUrl);
  const base = `${proxy.host}${proxy.pathname === '/' ? '' : proxy.pathname}`;
  neonConfig.wsProxy = (host, port) => `${base}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = proxy.protocol === 'wss:';
  // A plain Postgres speaks neither Neon's pipelined startup nor TLS inside the socket.
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}
