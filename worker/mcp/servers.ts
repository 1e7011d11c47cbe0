/**
 * The MCP servers a request may use: config.yaml's `mcp_servers`, plus (with `store_model_in_db`) those
 * added through `/v1/mcp/server` (LiteLLM_MCPServerTable). The stored ones are re-read (in the background, by
 * a request arriving 2 s or more after the last read began) as DB models are (models/catalog.ts), and at once
 * when a request names one this isolate does not know yet or its list is old. Their credentials are sealed as models' are; the admin Worker writes them with
 * `sealServer` below, so both read one format.
 */
import { mcpServers as mcpServerTable, type McpServerRow } from '../../drizzle/schema/admin.ts';
import { resolveEnvRefs } from '../config/env-ref.ts';
import { openDatabase, type DatabaseEnv } from '../db/client.ts';
import { Refreshed, type WaitUntil } from '../db/refreshed.ts';
import { StampedRows } from '../db/stamped.ts';
import { pgCode, UNDEFINED_TABLE } from '../db/pg-code.ts';
import { isObject, type Json } from '../json.ts';
import { openValues, sealingKey, sealingSecret, sealValues, storeModelInDb } from '../models/db-models.ts';
import { isSensitiveHeader } from '../models/public-params.ts';
import type { GatewayState } from '../state.ts';
import { type McpServer, mcpServerSchema, MCP_SERVER_NAME } from './schema.ts';
import { log } from '../telemetry/log.ts';

export type McpServers = Readonly<Record<string, McpServer>>;

/** A list older than this (an isolate idle a while) is read afresh before it is used: a revoked server stays revoked. */
const STALE_AFTER_MS = 15_000;

let cached: { state: GatewayState; servers: Refreshed<McpServers> } | undefined;

/** Whether the list holds a server of this name, or a stored server of this id. */
const knows = (servers: McpServers, name: string) => Object.hasOwn(servers, name) || Object.values(servers).some((s) => s.server_id === name);

/**
 * config.yaml's servers and the stored ones, kept as db/refreshed.ts keeps a value: a request waits for a
 * fresh read when the isolate's first read has not ended yet, or, while the last read succeeded, when its list
 * is older than STALE_AFTER_MS or the request names a server (or stored server id) it does not know. For
 * REFRESH_EVERY_MS after a read failed no request waits (it would only wait for another failure); after that
 * they wait again, sharing one read.
 */
export async function mcpServers(state: GatewayState, env: Record<string, unknown>, ctx: WaitUntil, names: readonly string[] = []): Promise<McpServers> {
  const configured = state.config.mcp_servers ?? {};
  if (!storeModelInDb(state.config, env)) return configured;
  if (cached?.state !== state) {
    const load = async (scope: WaitUntil) => {
      // config.yaml's first, then the stored ones (a stored server never takes a config server's name).
      const stored = await storedServers(env as Record<string, unknown> & DatabaseEnv, sealingSecret(env, state.masterKey), scope);
      const all: Record<string, McpServer> = { ...configured };
      for (const [name, server] of Object.entries(stored)) if (!Object.hasOwn(all, name)) all[name] = server;
      return all;
    };
    cached = { state, servers: new Refreshed<McpServers>(configured, 'stored MCP servers', load) };
  }
  const { servers } = cached;
  // Within REFRESH_EVERY_MS (2 s) of a failed read (Postgres down) requests answer from the list the isolate has
  // (config.yaml's alone until a read lands) and the first one after that window starts the next read; once it has
  // expired the rule below applies again (waits share the read in flight): at most one read per 2 s, not one per
  // request every 500 ms, and an idle isolate's old list is never served unwaited.
  const mustWait = servers.settledAt === 0 || (!servers.backingOff
    && (Date.now() - servers.loadedAt >= STALE_AFTER_MS || names.some((n) => !knows(servers.value, n))));
  return servers.current(ctx, mustWait);
}

async function storedServers(env: Record<string, unknown> & DatabaseEnv, secret: string | undefined, ctx: WaitUntil): Promise<Record<string, McpServer>> {
  const database = openDatabase(env);
  let rows: McpServerRow[];
  try {
    rows = await database.db.select().from(mcpServerTable).catch((err: unknown) => {
      // A database not yet migrated to 0008 has no stored servers.
      if (pgCode(err) === UNDEFINED_TABLE) return [];
      throw err;
    });
  } finally {
    ctx.waitUntil(database.close());
  }
  const key = secret ? await sealingKey(secret) : undefined;
  const out: Record<string, McpServer> = {};
  for (const row of rows) {
    // An unchanged row keeps its server object: its tool list (cached by that object) and session live on.
    const server = await opened.get(row.server_id, JSON.stringify([row, secret !== undefined]), () => openedServer(row, key, env));
    if (server) out[row.server_name] = server;
  }
  opened.forgetUnseen();
  return out;
}

/** Opened rows by server_id, reused while the row is unchanged. */
const opened = new StampedRows<McpServer | undefined>();

/** A stored row as the gateway calls it: credentials opened, `os.environ/` resolved; undefined (logged) when it cannot be. */
async function openedServer(row: McpServerRow, key: CryptoKey | undefined, env: Record<string, unknown>): Promise<McpServer | undefined> {
  const what = `MCP server ${row.server_name} (${row.server_id})`;
  let credentials: Json;
  try {
    credentials = await openValues(key, isObject(row.credentials) ? row.credentials : {}, 'mcp.credentials');
    const headers = await openValues(key, isObject(row.static_headers) ? row.static_headers : {}, 'mcp.static_headers');
    credentials = { ...credentials, static_headers: headers };
  } catch {
    log.error(`${what}: credentials do not open with this LITELLM_SALT_KEY (or there is none); not served`);
    return undefined;
  }
  // `os.environ/NAME` is read in the credential and headers only: any other field is shown to keys (GET /v1/mcp/server).
  const secrets = resolveEnvRefs({ auth_value: credentials.auth_value, static_headers: credentials.static_headers }, env).value as Json;
  const parsed = mcpServerSchema.safeParse({
    server_id: row.server_id, url: row.url, transport: row.transport, description: row.description ?? undefined,
    ...(row.auth_type ? { auth_type: row.auth_type } : {}),
    ...(typeof secrets.auth_value === 'string' ? { auth_value: secrets.auth_value } : {}),
    ...(isObject(secrets.static_headers) && Object.keys(secrets.static_headers).length ? { static_headers: secrets.static_headers } : {}),
    ...(row.allowed_tools.length ? { allowed_tools: row.allowed_tools } : {}),
    ...(row.disallowed_tools.length ? { disallowed_tools: row.disallowed_tools } : {}),
    ...(row.mcp_access_groups.length ? { access_groups: row.mcp_access_groups } : {}),
    allow_all_keys: row.allow_all_keys,
    ...(row.mcp_info ? { mcp_info: row.mcp_info } : {}),
  });
  if (!parsed.success || !MCP_SERVER_NAME.test(row.server_name)) {
    log.error(`${what}: invalid in the database; not served`);
    return undefined;
  }
  return parsed.data;
}

/**
 * What the admin Worker stores of a server's secrets: `auth_value` and auth-like `static_headers` sealed
 * (an `os.environ/NAME` reference is stored as given), other headers as they are.
 */
export async function sealServer(key: CryptoKey, authValue: string | undefined, headers: Record<string, string> | undefined): Promise<{ credentials: Json; static_headers: Json }> {
  return {
    credentials: authValue === undefined ? {} : await sealValues(key, { auth_value: authValue }, 'mcp.credentials', () => true),
    static_headers: await sealValues(key, headers ?? {}, 'mcp.static_headers', isSensitiveHeader),
  };
}
