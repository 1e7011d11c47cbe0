/**
 * LiteLLM's MCP server management (`/v1/mcp/server`, with `store_model_in_db`): servers stored in
 * LiteLLM_MCPServerTable beside config.yaml's `mcp_servers`, served by the gateway's MCP routes within
 * seconds (worker/mcp/servers.ts, which also lists them: `GET /v1/mcp/server` is the gateway's). The
 * server's credential (`auth_value`, auth-like `static_headers`) is sealed and never returned.
 */
import { eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { type McpServerRow, mcpServers } from '../../drizzle/schema/admin.ts';
import { collectEnvRefs, resolveEnvRefs } from '../../worker/config/env-ref.ts';
import { GatewayError } from '../../worker/errors.ts';
import { isObject, type Json } from '../../worker/json.ts';
import { isSealed } from '../../worker/models/db-models.ts';
import { isSensitiveHeader } from '../../worker/models/public-params.ts';
import { AUTH_TYPES, MCP_SERVER_NAME, mcpServerSchema } from '../../worker/mcp/schema.ts';
import { sealServer } from '../../worker/mcp/servers.ts';
import { gatewayState, type GatewayState } from '../../worker/state.ts';
import { requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { writeKey } from '../lib/crypto.ts';
import { refuseGatewaySecretRefs } from '../lib/env-refs.ts';
import { describeRoute } from '../lib/openapi.ts';
import { badRequest, notFound, parseBody } from '../lib/validation.ts';
import { requireStoreModelInDb } from './models/store.ts';
import { actorName, commit, type Tx } from './principals/mutation.ts';

export const mcpServersRoutes = new Hono<AdminBindings>();

const TABLE = 'LiteLLM_MCPServerTable';
const str = z.string({ error: 'expected a string' });
const list = z.array(str, { error: 'expected a list of strings' });

const serverFields = {
  alias: str.nullish(),
  description: str.nullish(),
  url: str.optional(),
  transport: z.enum(['http', 'sse'], { error: 'expected http or sse' }).optional(),
  auth_type: z.enum(AUTH_TYPES, { error: `expected one of ${AUTH_TYPES.join(', ')}` }).nullish(),
  /** The server's own credential: here or as LiteLLM's `credentials.auth_value`; `null` removes it. */
  auth_value: str.nullish(),
  credentials: z.object({ auth_value: str.nullish() }).nullish(),
  /** Headers sent with every request to the server; on update merged one by one, `null` removing one. */
  static_headers: z.record(str, str.nullable(), { error: 'expected a mapping of header names to strings' }).nullish(),
  mcp_info: z.record(str, z.unknown(), { error: 'expected an object' }).nullish(),
  mcp_access_groups: list.nullish(),
  allowed_tools: list.nullish(),
  disallowed_tools: list.nullish(),
  allow_all_keys: z.boolean({ error: 'expected true or false' }).nullish(),
};
const newServerBody = z.object({ server_id: z.uuid({ error: 'expected a UUID' }).optional(), server_name: str.optional(), ...serverFields });
const updateServerBody = z.object({ server_id: str.min(1, 'server_id is required'), server_name: str.optional(), ...serverFields });

/** A row as the API shows it: LiteLLM's fields, without the credential and auth headers. */
function publicServer(row: McpServerRow) {
  const headers = Object.fromEntries(Object.entries((row.static_headers ?? {}) as Json).filter(([h, v]) => !isSensitiveHeader(h) && !isSealed(v)));
  return {
    server_id: row.server_id, server_name: row.server_name, alias: row.alias ?? row.server_name, description: row.description, url: row.url,
    transport: row.transport, auth_type: row.auth_type ?? 'none', static_headers: headers, mcp_info: row.mcp_info ?? {},
    mcp_access_groups: row.mcp_access_groups, allowed_tools: row.allowed_tools, disallowed_tools: row.disallowed_tools, allow_all_keys: row.allow_all_keys,
    created_at: row.created_at, created_by: row.created_by, updated_at: row.updated_at, updated_by: row.updated_by,
  };
}

const invalid = (param: string, message: string) => new GatewayError(`Invalid request body: ${param}: ${message}`, { status: 422, type: 'validation_error', param });

/**
 * `os.environ/NAME` only in the credential and headers (any other field is shown to keys), naming a variable
 * the gateway has and not one of its own secrets.
 */
function checkEnvRefs(body: Json, env: Record<string, unknown>): void {
  const { auth_value: authValue, credentials, static_headers: headers, ...rest } = body;
  for (const [field, value] of Object.entries(rest)) if (collectEnvRefs(value).size) throw invalid(field, 'os.environ/ references are read only in auth_value and static_headers');
  const secrets = [authValue, isObject(credentials) ? credentials.auth_value : undefined, ...Object.values(isObject(headers) ? headers : {})];
  refuseGatewaySecretRefs(secrets, 'auth_value');
  for (const name of collectEnvRefs(secrets)) if (env[name] === undefined || env[name] === '') throw invalid('auth_value', `os.environ/${name} is not set`);
}

/** The server a stored row would be, checked as config.yaml's are (`os.environ/` resolved only to check): a 422 naming each bad field. */
function checkServer(name: string, candidate: Json, env: Record<string, unknown>): void {
  if (!MCP_SERVER_NAME.test(name)) {
    throw new GatewayError("Invalid request body: server_name: a server name is 1-64 letters, digits, _ or . (no -, which separates it from its tools' names)", { status: 422, type: 'validation_error', param: 'server_name' });
  }
  const parsed = mcpServerSchema.safeParse(resolveEnvRefs(candidate, env).value);
  if (parsed.success) return;
  const problems = parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`);
  throw new GatewayError(`Invalid request body: ${problems.join('; ')}`, { status: 422, type: 'validation_error', param: parsed.error.issues[0]?.path.map(String).join('.') ?? null });
}

/** What a stored row (or one about to be) is as config.yaml would write it, credentials left out. */
const asConfig = (row: Pick<McpServerRow, 'url' | 'transport' | 'auth_type' | 'mcp_info' | 'mcp_access_groups' | 'allowed_tools' | 'disallowed_tools' | 'allow_all_keys'>): Json => ({
  url: row.url, transport: row.transport, ...(row.auth_type ? { auth_type: row.auth_type } : {}), ...(row.mcp_info ? { mcp_info: row.mcp_info } : {}),
  access_groups: row.mcp_access_groups, allowed_tools: row.allowed_tools, disallowed_tools: row.disallowed_tools, allow_all_keys: row.allow_all_keys,
});

async function writable(c: AdminContext, what: string): Promise<GatewayState> {
  requireProxyAdmin(c, what);
  const state = await gatewayState(c.env);
  requireStoreModelInDb(state, c.env);
  return state;
}

/** A name config.yaml has (in any case: a user's own credential header names a server case-insensitively). */
function refuseConfigName(state: GatewayState, name: string): void {
  const taken = Object.keys(state.config.mcp_servers ?? {}).find((n) => n.toLowerCase() === name.toLowerCase());
  if (taken) throw badRequest(`MCP server ${taken} is defined in config.yaml's mcp_servers; change it there`, 'server_name');
}

/** A stored server of the name in another case (the unique index holds the exact name). */
async function refuseStoredTwin(tx: Tx, name: string, except?: string): Promise<void> {
  const [twin] = await tx.select({ id: mcpServers.server_id, name: mcpServers.server_name }).from(mcpServers)
    .where(sql`lower(${mcpServers.server_name}) = ${name.toLowerCase()}`);
  if (twin && twin.id !== except && twin.name !== name) throw badRequest(`An MCP server named ${twin.name} already exists (names differ only in case)`, 'server_name');
}

const authValueOf = (body: { auth_value?: string | null | undefined; credentials?: { auth_value?: string | null | undefined } | null | undefined }) =>
  body.auth_value !== undefined ? body.auth_value : body.credentials?.auth_value;

describeRoute({ method: 'post', path: '/v1/mcp/server', summary: 'Add an MCP server (served by /mcp within seconds); its credential is stored sealed', tag: 'mcp', body: newServerBody });
mcpServersRoutes.post('/v1/mcp/server', async (c) => {
  const state = await writable(c, 'add MCP servers');
  const body = await parseBody(c, newServerBody);
  checkEnvRefs(body, c.env);
  const name = body.server_name ?? body.alias ?? '';
  refuseConfigName(state, name);
  if (!body.url) throw new GatewayError('Invalid request body: url: is required', { status: 422, type: 'validation_error', param: 'url' });
  const authValue = authValueOf(body) ?? undefined;
  const headers = Object.fromEntries(Object.entries(body.static_headers ?? {}).filter((e): e is [string, string] => e[1] !== null));
  const columns = {
    url: body.url, transport: body.transport ?? 'http', auth_type: body.auth_type ?? null, mcp_info: body.mcp_info ?? null,
    mcp_access_groups: body.mcp_access_groups ?? [], allowed_tools: body.allowed_tools ?? [], disallowed_tools: body.disallowed_tools ?? [], allow_all_keys: body.allow_all_keys ?? false,
  };
  checkServer(name, { ...asConfig(columns), ...(authValue ? { auth_value: authValue } : {}), ...(Object.keys(headers).length ? { static_headers: headers } : {}) }, c.env);
  const sealed = await sealServer(await writeKey(c.env, state.masterKey), authValue, headers);
  const actor = actorName(c);
  const row = await commit(c, async (tx, changes) => {
    await refuseStoredTwin(tx, name);
    const [inserted] = await tx.insert(mcpServers).values({
      ...(body.server_id ? { server_id: body.server_id } : {}), server_name: name, alias: body.alias ?? null, description: body.description ?? null, ...columns,
      credentials: sealed.credentials, static_headers: sealed.static_headers, created_by: actor, updated_by: actor,
    }).returning();
    await changes.audit({ action: 'created', table: TABLE, objectId: inserted!.server_id, after: publicServer(inserted!) });
    return inserted!;
  }, { onDuplicate: () => badRequest(`An MCP server named ${name} (or with id ${body.server_id ?? ''}) already exists`, 'server_name') });
  return c.json(publicServer(row));
});

describeRoute({ method: 'put', path: '/v1/mcp/server', summary: 'Change a stored MCP server (by server_id): fields given replace, null clears, headers merge one by one', tag: 'mcp', body: updateServerBody });
mcpServersRoutes.put('/v1/mcp/server', async (c) => {
  const state = await writable(c, 'update MCP servers');
  const body = await parseBody(c, updateServerBody);
  checkEnvRefs(body, c.env);
  const key = await writeKey(c.env, state.masterKey);
  const actor = actorName(c);
  const row = await commit(c, async (tx, changes) => {
    const [existing] = await tx.select().from(mcpServers).where(eq(mcpServers.server_id, body.server_id)).for('update');
    if (!existing) throw notFound(`MCP server ${body.server_id} not found`);
    const name = body.server_name ?? existing.server_name;
    if (name !== existing.server_name) {
      refuseConfigName(state, name);
      await refuseStoredTwin(tx, name, existing.server_id);
    }
    const columns = {
      url: body.url ?? existing.url, transport: body.transport ?? existing.transport,
      auth_type: body.auth_type === undefined ? existing.auth_type : body.auth_type, mcp_info: body.mcp_info === undefined ? existing.mcp_info : body.mcp_info,
      mcp_access_groups: body.mcp_access_groups === undefined ? existing.mcp_access_groups : body.mcp_access_groups ?? [],
      allowed_tools: body.allowed_tools === undefined ? existing.allowed_tools : body.allowed_tools ?? [],
      disallowed_tools: body.disallowed_tools === undefined ? existing.disallowed_tools : body.disallowed_tools ?? [],
      allow_all_keys: body.allow_all_keys === undefined ? existing.allow_all_keys : body.allow_all_keys ?? false,
    };
    // The stored credential and headers stay sealed unless the request replaces them.
    const given = authValueOf(body);
    const storedCredentials = (existing.credentials ?? {}) as Json;
    const credentials = given === undefined ? storedCredentials : given === null ? {} : (await sealServer(key, given, {})).credentials;
    // Header names are case-insensitive: a header given replaces (or, null, removes) the stored one of any case.
    const headers: Json = { ...(existing.static_headers ?? {}) as Json };
    const newHeaders: Record<string, string> = {};
    for (const [h, v] of Object.entries(body.static_headers ?? {})) {
      for (const stored of Object.keys(headers)) if (stored.toLowerCase() === h.toLowerCase()) delete headers[stored];
      if (v !== null) newHeaders[h] = v;
    }
    Object.assign(headers, (await sealServer(key, undefined, newHeaders)).static_headers);
    // Checked as a whole, the stored secrets standing in as placeholders.
    checkServer(name, { ...asConfig(columns), ...(credentials.auth_value !== undefined ? { auth_value: 'x' } : {}) }, c.env);
    const [updated] = await tx.update(mcpServers).set({
      server_name: name, alias: body.alias === undefined ? existing.alias : body.alias, description: body.description === undefined ? existing.description : body.description,
      ...columns, credentials, static_headers: headers, updated_by: actor, updated_at: new Date(),
    }).where(eq(mcpServers.server_id, existing.server_id)).returning();
    await changes.audit({ action: 'updated', table: TABLE, objectId: existing.server_id, before: publicServer(existing), after: publicServer(updated!) });
    return updated!;
  }, { onDuplicate: () => badRequest(`An MCP server named ${body.server_name ?? ''} already exists`, 'server_name') });
  return c.json(publicServer(row));
});

describeRoute({ method: 'delete', path: '/v1/mcp/server/:server_id', summary: 'Delete a stored MCP server', tag: 'mcp' });
mcpServersRoutes.delete('/v1/mcp/server/:server_id', async (c) => {
  await writable(c, 'delete MCP servers');
  const id = c.req.param('server_id');
  await commit(c, async (tx, changes) => {
    const [deleted] = await tx.delete(mcpServers).where(eq(mcpServers.server_id, id)).returning();
    if (!deleted) throw notFound(`MCP server ${id} not found`);
    await changes.audit({ action: 'deleted', table: TABLE, objectId: id, before: publicServer(deleted) });
  });
  return c.json({ message: `MCP server ${id} deleted` }, 202);
});
