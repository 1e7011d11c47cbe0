import { sql } from 'drizzle-orm';
import { resolveEnvRef } from '../../../worker/config/env-ref.ts';
import { gatewaySecretValues, runtimeConfig } from '../../../worker/config/runtime.ts';
import { openDatabase } from '../../../worker/db/client.ts';
import { type DynamicLangfuse, keyLangfuse, teamLoggingSettings } from '../../../worker/telemetry/langfuse/logging-settings.ts';
import { DEFAULT_LANGFUSE_HOST, normaliseLangfuseHost, parsedLangfuseHost, takesEnvKeys } from '../../../worker/telemetry/langfuse/host.ts';
import { destinationKey } from '../../../worker/telemetry/langfuse/message.ts';
import type { LangfuseDestination } from '../../../worker/telemetry/langfuse/types.ts';
import type { AdminEnv } from '../../env.ts';

export interface LangfuseCredentials {
  /** Base URL without a trailing slash. */
  host: string;
  publicKey: string;
  secretKey: string;
}

export type Resolved = { ok: true; credentials: LangfuseCredentials } | { ok: false; reason: string };

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** A stored value, or the variable an `os.environ/NAME` value names (worker/config/env-ref.ts resolveEnvRef). */
const fromEnv = (value: string | undefined, env: AdminEnv): string | undefined => resolveEnvRef(value, env).value;

/**
 * Values no key's or team's Langfuse settings may have sent anywhere: the master key (wherever the config
 * takes it from), the salt and the database URL; and the environment's Langfuse keys unless the host is the
 * environment's own.
 */
function withheldValues(env: AdminEnv, envHost: boolean): Set<string> {
  const values = gatewaySecretValues(env);
  if (!envHost) {
    for (const v of [env.LANGFUSE_SECRET_KEY, env.LANGFUSE_PUBLIC_KEY]) if (typeof v === 'string' && v) values.add(v);
  }
  return values;
}

/**
 * Credentials from a key's or team's Langfuse settings, each missing one
 * taken from the admin Worker's LANGFUSE_* variables, as LiteLLM's
 * `LangFuseLogger` falls back to the environment: but only when the host is
 * the environment's own, so a metadata host never receives its secret.
 */
export function credentialsOf(vars: DynamicLangfuse['vars'] | undefined, env: AdminEnv): Resolved {
  const envHost = text(env.LANGFUSE_HOST) ?? DEFAULT_LANGFUSE_HOST;
  const host = fromEnv(vars?.host, env) ?? envHost;
  const url = parsedLangfuseHost(host);
  // The value as stored (an os.environ/ name stays a name): what it resolves to is never echoed.
  if (!url) return { ok: false, reason: `invalid Langfuse host ${vars?.host !== undefined ? JSON.stringify(vars.host.slice(0, 200)) : 'in LANGFUSE_HOST'}` };
  if (url.username || url.password || url.search || url.hash) return { ok: false, reason: 'the Langfuse host must be a plain http(s) URL' };
  // The environment's keys go only to the environment's host: a key's or team's metadata naming another
  // host without a secret of its own would otherwise be sent the proxy's Langfuse secret.
  const envKeysApply = takesEnvKeys(host, envHost);
  const ownPublic = fromEnv(vars?.publicKey, env);
  const ownSecret = fromEnv(vars?.secretKey, env);
  // Whatever a key's or team's settings name (a variable written before such names were refused, or one the
  // config names for the master key), the gateway's own secrets are never sent, nor the environment's Langfuse
  // keys to another host.
  const withheld = withheldValues(env, envKeysApply);
  const named = (v: string | undefined) => v !== undefined && (withheld.has(v) || withheld.has(v.trim()));
  if (named(ownPublic) || named(ownSecret)) {
    return { ok: false, reason: 'its Langfuse credentials name one of the gateway\'s own secrets; not sent' };
  }
  const publicKey = ownPublic ?? (envKeysApply ? text(env.LANGFUSE_PUBLIC_KEY) : undefined);
  const secretKey = ownSecret ?? (envKeysApply ? text(env.LANGFUSE_SECRET_KEY) : undefined);
  if (!publicKey || !secretKey) {
    return {
      ok: false,
      reason: envKeysApply
        ? 'no Langfuse public and secret key (LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY)'
        : 'no Langfuse public and secret key of its own for its langfuse_host (the environment\'s are sent only to LANGFUSE_HOST)',
    };
  }
  return { ok: true, credentials: { host: normaliseLangfuseHost(host), publicKey, secretKey } };
}

/**
 * Credentials for each destination of a batch: the environment's, or those
 * the key's or team's metadata holds now (one query per kind; a team without
 * stored settings takes its `default_team_settings` entry). The secret
 * never travels on the Queue; a key or team that no longer names Langfuse
 * credentials resolves to a failure, so its events wait (and end in the dead
 * letter queue) rather than go to the default project.
 */
export async function resolveDestinations(destinations: LangfuseDestination[], env: AdminEnv, ctx: ExecutionContext): Promise<Map<string, Resolved>> {
  const out = new Map<string, Resolved>();
  const tokens = new Set<string>();
  const teams = new Set<string>();
  for (const d of destinations) {
    if (d.source === 'env') out.set(destinationKey(d), credentialsOf(undefined, env));
    else if (d.source === 'key') tokens.add(d.token);
    else teams.add(d.teamId);
  }
  if (tokens.size === 0 && teams.size === 0) return out;
  const database = openDatabase(env);
  try {
    if (tokens.size) {
      const rows = await database.db.execute<{ token: string; metadata: unknown }>(
        sql`SELECT token, metadata FROM "LiteLLM_VerificationToken" WHERE token = ANY(${sql.param([...tokens])}::text[])`);
      const found = new Map(rows.rows.map((r) => [r.token, keyLangfuse(r.metadata)]));
      for (const token of tokens) out.set(destinationKey({ source: 'key', token }), fromSettings(found.get(token), env, 'key'));
    }
    if (teams.size) {
      const rows = await database.db.execute<{ team_id: string; metadata: unknown }>(
        sql`SELECT team_id, metadata FROM "LiteLLM_TeamTable" WHERE team_id = ANY(${sql.param([...teams])}::text[])`);
      const stored = new Map(rows.rows.map((r) => [r.team_id, r.metadata]));
      // Stored settings first, else config.yaml's default_team_settings entry (its os.environ/ values read from this env).
      const entries = runtimeConfig(env).config.litellm_settings.default_team_settings;
      for (const id of teams) {
        out.set(destinationKey({ source: 'team', teamId: id }), fromSettings(teamLoggingSettings(entries, id, stored.get(id)), env, 'team'));
      }
    }
  } finally {
    ctx.waitUntil(database.close());
  }
  return out;
}

function fromSettings(settings: DynamicLangfuse | undefined, env: AdminEnv, kind: 'key' | 'team'): Resolved {
  if (!settings || Object.keys(settings.vars).length === 0) return { ok: false, reason: `the ${kind} no longer names Langfuse credentials` };
  return credentialsOf(settings.vars, env);
}
