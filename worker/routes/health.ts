import { sql } from 'drizzle-orm';
import type { Context } from 'hono';
import pkg from '../../package.json';
import { openDatabase } from '../db/client.ts';
import type { GatewayEnv } from '../env.ts';
import { runtimeConfig } from '../config/runtime.ts';
import { log } from '../telemetry/log.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

const DB_CHECK_TIMEOUT_MS = 3000;

/** `GET /health/liveliness`: the process answers. Public, as in LiteLLM. */
export function liveliness(c: Ctx) {
  return c.json("I'm alive!");
}

/**
 * `GET /health/readiness`: LiteLLM's shape plus Tollgate's version. 503 when
 * the config does not load (nothing could be served); the database's state is
 * reported, since warm traffic does not depend on it.
 */
export async function readiness(c: Ctx) {
  const { config } = runtimeConfig(c.env);
  const db = await databaseStatus(c);
  const callbacks = config.litellm_settings.success_callback ?? [];
  return c.json({
    status: 'connected',
    db,
    cache: config.litellm_settings.cache ? (config.litellm_settings.cache_params?.type ?? 'local') : null,
    litellm_version: pkg.version,
    tollgate_version: pkg.version,
    success_callbacks: callbacks,
    last_updated: new Date().toISOString(),
  });
}

async function databaseStatus(c: Ctx): Promise<string> {
  if (!c.env.DATABASE_URL) return 'Not connected';
  const database = openDatabase(c.env);
  try {
    const query = database.db.execute(sql`select 1`);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), DB_CHECK_TIMEOUT_MS));
    await Promise.race([query, timeout]);
    return 'connected';
  } catch (err) {
    log.warn('readiness: database check failed:', err instanceof Error ? err.message : String(err));
    return 'Not connected';
  } finally {
    c.executionCtx.waitUntil(database.close());
  }
}
