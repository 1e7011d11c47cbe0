/**
 * The database half of key/team based logging (logger-owners.ts holds the rest, free of Workers types so its
 * rules are unit-tested under node): the owners' metadata read from Postgres when their payloads are posted.
 */
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../../worker/db/client.ts';
import { keyLoggerSettings, teamLoggerSettings } from '../../../worker/telemetry/standard/dynamic-settings.ts';
import type { AdminEnv } from '../../env.ts';
import { type OwnerEnv, ownerEnvOf, type OwnerRef } from './logger-owners.ts';
import type { LoggerEnv } from './loggers/types.ts';

/**
 * Each `<logger>\n<owner>` pair's environment, from the owners' metadata as stored now (one query per kind; a key
 * regenerated since is found through its old hash). A key or team gone, or no longer naming the logger's settings, makes an error: its payloads wait (the
 * dead-letter queue at worst) rather than go to the config's destination.
 */
export async function resolveOwnerEnvs(pairs: readonly { name: string; owner: OwnerRef }[], env: AdminEnv, ctx: ExecutionContext): Promise<Map<string, OwnerEnv>> {
  const out = new Map<string, OwnerEnv>();
  const tokens = new Set<string>();
  const teams = new Set<string>();
  for (const { owner } of pairs) {
    if (owner.startsWith('key:')) tokens.add(owner.slice(4));
    else if (owner.startsWith('team:')) teams.add(owner.slice(5));
  }
  if (tokens.size === 0 && teams.size === 0) return out;
  const keyMeta = new Map<string, unknown>();
  const teamMeta = new Map<string, unknown>();
  const database = openDatabase(env);
  try {
    if (tokens.size) {
      // A key regenerated since the call: its old hash points at the new row (regenerateKey keeps the pair, with or
      // without a grace period), whose settings are the key's. A deleted key is in neither: its payloads are dropped.
      const hashes = sql.param([...tokens]);
      const rows = await database.db.execute<{ token: string; metadata: unknown }>(
        sql`SELECT token, metadata FROM "LiteLLM_VerificationToken" WHERE token = ANY(${hashes}::text[])
            UNION ALL
            SELECT d.token, v.metadata FROM "LiteLLM_DeprecatedVerificationToken" d
            JOIN "LiteLLM_VerificationToken" v ON v.token = d.active_token_id
            WHERE d.token = ANY(${hashes}::text[])`);
      for (const r of rows.rows) keyMeta.set(r.token, r.metadata);
    }
    if (teams.size) {
      const rows = await database.db.execute<{ team_id: string; metadata: unknown }>(
        sql`SELECT team_id, metadata FROM "LiteLLM_TeamTable" WHERE team_id = ANY(${sql.param([...teams])}::text[])`);
      for (const r of rows.rows) teamMeta.set(r.team_id, r.metadata);
    }
  } finally {
    ctx.waitUntil(database.close());
  }
  const lookup = env as unknown as LoggerEnv;
  for (const { name, owner } of pairs) {
    const settings = owner.startsWith('key:') ? keyLoggerSettings(name, keyMeta.get(owner.slice(4))) : teamLoggerSettings(name, teamMeta.get(owner.slice(5)));
    out.set(`${name}\n${owner}`, ownerEnvOf(name, settings, lookup, owner.startsWith('key:') ? 'key' : 'team'));
  }
  return out;
}

