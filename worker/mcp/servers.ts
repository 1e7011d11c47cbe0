/**
 * The MCP servers a request may use: config.yaml's `mcp_servers`, plus (with `store_model_in_db`) those
 * added through `/v1/mcp/server` (LiteLLM_MCPServerTable). The stored ones are re-read in the background
 * every few seconds, as DB models are (models/catalog.ts), and at once when a request names one this
 * isolate does not know yet. Their credentials are sealed as models' are; the admin Worker writes them with
 * `sealServer` below, so both read one format.
 */
import { mcpServers as mcpServerTable, type McpServerRow } from '../../drizzle/schema/admin.ts';
import { resolveEnvRefs } from '../config/env-ref.ts';
import { envRefName } from '../config/env-ref.ts';
import { openDatabase, type DatabaseEnv } from '../db/client.ts';
import { pgCode } from '../db/pg-code.ts';
import { isObject, type Json } from '../json.ts';
import { isSealed, isSensitiveHeader, seal, sealingKey, sealingSecret, storeModelInDb, unseal } from '../models/db-models.ts';
import type { GatewayState } from '../state.ts';
import { type McpServer, mcpServerSchema, MCP_SERVER_NAME } from './schema.ts';

export type McpServers = Readonly<Record<string, McpServer>>;

const REFRESH_EVERY_MS = 2_000;
const MISSING_REFRESH_AFTER_MS = 500;
const UNDEFINED_TABLE = '42P01';

interface WaitUntil {
  waitUntil(p: Promise<unknown>): void;
}

let cached: { state: GatewayState; servers: McpServers; startedAt: number; inFlight: Promise<void> | undefined } | undefined;

/** config.yaml's servers and the stored ones; `names` a request asks for, read afresh when this isolate does not know them. */
export async function mcpServers(state: GatewayState, env: Record<string, unknown>, ctx: WaitUntil, names: readonly string[] = []): Promise<McpServers> {
  const configured = state.config.mcp_servers ?? {};
  if (!storeModelInDb(state.config, env)) return configured;
  if (cached?.state !== state) cached = { state, servers: configured, startedAt: 0, inFlight: undefined };
  const entry = cached;
  const arrived = Date.now();
  if (entry.startedAt === 0) {
    await refresh(entry, env, ctx);
  } else if (names.some((n) => !Object.hasOwn(entry.servers, n))) {
    // A server this isolate does not know: one read at most every MISSING_REFRESH_AFTER_MS, whoever asks (names are the client's).
    if (arrived - entry.startedAt >= MISSING_REFRESH_AFTER_MS) await refresh(entry, env, ctx);
    else if (entry.inFlight) await entry.inFlight;
  } else if (arrived - entry.startedAt >= REFRESH_EVERY_MS) {
    void refresh(entry, env, ctx);
  }
  return entry.servers;
}

function refresh(entry: NonNullable<typeof cached>, env: Record<string, unknown>, ctx: WaitUntil): Promise<void> {
  if (entry.inFlight) return entry.inFlight;
  entry.startedAt = Date.now();
  const read = (async () => {
    try {
      // config.yaml's first, then the stored ones (a stored server never takes a config server's name).
      const stored = await storedServers(env as Record<string, unknown> & DatabaseEnv, sealingSecret(env, entry.state.masterKey), ctx);
      const servers: Record<string, McpServer> = { ...(entry.state.config.mcp_servers ?? {}) };
      for (const [name, server] of Object.entries(stored)) if (!Object.hasOwn(servers, name)) servers[name] = server;
      entry.servers = servers;
    } catch (err) {
      console.error(`reading stored MCP servers failed, serving the last list: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      entry.inFlight = undefined;
    }
  })();
  entry.inFlight = read;
  ctx.waitUntil(read);
  return read;
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
    const server = await openedServer(row, key, env);
    if (server) out[row.server_name] = server;
  }
  return out;
}

/** A stored row as the gateway calls it: credentials opened, `os.environ/` resolved; undefined (logged) when it cannot be. */
async function openedServer(row: McpServerRow, key: CryptoKey | undefined, env: Record<string, unknown>): Promise<McpServer | undefined> {
  const what = `MCP server ${row.server_name} (${row.server_id})`;
  let credentials: Json;
  try {
    credentials = await openValues(key, 'mcp.credentials', isObject(row.credentials) ? row.credentials : {});
    const headers = await openValues(key, 'mcp.static_headers', isObject(row.static_headers) ? row.static_headers : {});
    credentials = { ...credentials, static_headers: headers };
  } catch {
    console.error(`${what}: credentials do not open with this LITELLM_SALT_KEY (or there is none); not served`);
    return undefined;
  }
  const parsed = mcpServerSchema.safeParse(resolveEnvRefs({
    server_id: row.server_id, url: row.url, transport: row.transport, description: row.description ?? undefined,
    ...(row.auth_type ? { auth_type: row.auth_type } : {}),
    ...(typeof credentials.auth_value === 'string' ? { auth_value: credentials.auth_value } : {}),
    ...(Object.keys(credentials.static_headers as Json).length ? { static_headers: credentials.static_headers } : {}),
    ...(row.allowed_tools.length ? { allowed_tools: row.allowed_tools } : {}),
    ...(row.disallowed_tools.length ? { disallowed_tools: row.disallowed_tools } : {}),
    ...(row.mcp_access_groups.length ? { access_groups: row.mcp_access_groups } : {}),
    allow_all_keys: row.allow_all_keys,
    ...(row.mcp_info ? { mcp_info: row.mcp_info } : {}),
  }, env).value);
  if (!parsed.success || !MCP_SERVER_NAME.test(row.server_name)) {
    console.error(`${what}: invalid in the database; not served`);
    return undefined;
  }
  return parsed.data;
}

async function openValues(key: CryptoKey | undefined, prefix: string, values: Json): Promise<Json> {
  const out: Json = {};
  for (const [name, value] of Object.entries(values)) {
    if (!isSealed(value)) out[name] = value;
    else if (!key) throw new Error('no key');
    else out[name] = await unseal(key, `${prefix}.${name}`, value);
  }
  return out;
}

/**
 * What the admin Worker stores of a server's secrets: `auth_value` and auth-like `static_headers` sealed
 * (an `os.environ/NAME` reference is stored as given), other headers as they are.
 */
export async function sealServer(key: CryptoKey, authValue: string | undefined, headers: Record<string, string> | undefined): Promise<{ credentials: Json; static_headers: Json }> {
  const sealIf = (prefix: string, name: string, value: string, secret: boolean) =>
    secret && envRefName(value) === undefined && !isSealed(value) ? seal(key, `${prefix}.${name}`, value) : Promise.resolve(value);
  const credentials: Json = authValue === undefined ? {} : { auth_value: await sealIf('mcp.credentials', 'auth_value', authValue, true) };
  const sealedHeaders: Json = {};
  for (const [h, v] of Object.entries(headers ?? {})) sealedHeaders[h] = await sealIf('mcp.static_headers', h, v, isSensitiveHeader(h));
  return { credentials, static_headers: sealedHeaders };
}
