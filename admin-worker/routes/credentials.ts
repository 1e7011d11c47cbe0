/**
 * `/credentials`, LiteLLM's reusable credentials: a name and a set of
 * `litellm_params` values (api_key, api_base, api_version, aws_*, vertex_*)
 * that DB models take by naming it in `litellm_credential_name`
 * (worker/config/credentials.ts; the gateway re-reads them with the models,
 * worker/models/db-models.ts). Secret values are sealed as models' are and
 * never leave the Worker but masked (credentials/values.ts). config.yaml's
 * `credential_list` entries are listed beside them and changed only in config.yaml.
 */
import { eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { type CredentialRow, credentials, proxyModels } from '../../drizzle/schema/admin.ts';
import { CREDENTIAL_FIELDS } from '../../worker/config/credentials.ts';
import { ownParamsOf } from '../../worker/config/default-params.ts';
import { GatewayError } from '../../worker/errors.ts';
import { isObject, type Json } from '../../worker/json.ts';
import { currentCatalog } from '../../worker/models/catalog.ts';
import { isSealed, unsealParams } from '../../worker/models/db-models.ts';
import { gatewayState, type GatewayState } from '../../worker/state.ts';
import { requireAdminReader, requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { sealCredentials, writeKey } from '../lib/crypto.ts';
import { refuseGatewaySecretRefs } from '../lib/env-refs.ts';
import { describeRoute } from '../lib/openapi.ts';
import { badRequest, notFound, parseBody } from '../lib/validation.ts';
import { auditRow, checkValues, mergedValues, newCredentialBody, patchCredentialBody, publicCredential, refuseMasks } from './credentials/values.ts';
import { actorName, commit, type Tx } from './principals/mutation.ts';

export const credentialsRoutes = new Hono<AdminBindings>();

const TABLE = 'LiteLLM_CredentialsTable';

/** config.yaml's credential_list, by name. */
function configCredential(state: GatewayState, credentialName: string) {
  return state.config.credential_list?.find((c) => c.credential_name === credentialName);
}

function refuseConfigCredential(state: GatewayState, credentialName: string): void {
  if (configCredential(state, credentialName)) throw badRequest(`Credential ${credentialName} is defined in config.yaml's credential_list; change it there`, 'credential_name');
}

/** A stored row's values opened (sealed ones decrypted) with the key new ones are sealed with; undefined when they do not open. */
async function openedValues(c: AdminContext, state: GatewayState, row: CredentialRow): Promise<Json | undefined> {
  const sealed = Object.values(row.credential_values).some(isSealed) || Object.values(isObject(row.credential_values.extra_headers) ? row.credential_values.extra_headers : {}).some(isSealed);
  if (!sealed) return row.credential_values;
  try {
    return await unsealParams(await writeKey(c.env, state.masterKey), row.credential_values);
  } catch {
    return undefined;
  }
}

/** openedValues, or the 500 a change of a credential that does not open is. */
async function openedForChange(c: AdminContext, state: GatewayState, row: CredentialRow): Promise<Json> {
  const opened = await openedValues(c, state, row);
  if (opened) return opened;
  throw new GatewayError(`Credential ${row.credential_name} does not open with this LITELLM_SALT_KEY`, { status: 500, type: 'internal_server_error' });
}

/** How a stored credential is listed: one that does not open shows no values and says so in its info. */
async function listedCredential(c: AdminContext, state: GatewayState, row: CredentialRow) {
  const opened = await openedValues(c, state, row);
  if (opened) return publicCredential(row.credential_name, opened, row.credential_info);
  return publicCredential(row.credential_name, {}, { ...row.credential_info, error: 'does not open with this LITELLM_SALT_KEY' });
}

/**
 * The credential values of a deployment (config.yaml's or the database's), as the gateway calls it; with `own`,
 * only those it (or its credential) gives, never router_settings.default_litellm_params' (a copy must not store them).
 */
async function deploymentCredentials(c: AdminContext, state: GatewayState, modelId: string, opts: { own?: boolean } = {}): Promise<{ group: string; values: Json }> {
  const catalog = await currentCatalog(state, c.env, c.executionCtx);
  for (const list of catalog.groups.values()) {
    const d = list.find((x) => x.id === modelId);
    if (!d) continue;
    const params = opts.own ? ownParamsOf(d.params) : d.params as Json;
    const picked: Json = {};
    for (const field of CREDENTIAL_FIELDS) if (params[field] !== undefined) picked[field] = params[field];
    return { group: d.group, values: picked };
  }
  throw notFound('Model not found');
}

describeRoute({ method: 'post', path: '/credentials', summary: "Store a reusable credential (its values, or a model's with model_id); secrets are sealed", tag: 'credentials', body: newCredentialBody });
credentialsRoutes.post('/credentials', async (c) => {
  requireProxyAdmin(c, 'create credentials');
  const body = await parseBody(c, newCredentialBody);
  const state = await gatewayState(c.env);
  refuseConfigCredential(state, body.credential_name);
  let given: Json;
  if (body.model_id) {
    given = (await deploymentCredentials(c, state, body.model_id, { own: true })).values;
    // A model calling only with the router's defaults has nothing of its own to copy.
    if (!Object.keys(given).length) throw badRequest('Credential values are required. Unable to infer credential values from model ID.', 'model_id');
  } else if (body.credential_values) given = body.credential_values;
  else throw badRequest('Credential values are required. Unable to infer credential values from model ID.', 'credential_values');
  refuseMasks(given);
  refuseGatewaySecretRefs(given, 'credential_values');
  checkValues(given, c.env);
  const sealedValues = await sealCredentials(await writeKey(c.env, state.masterKey), given);
  const actor = actorName(c);
  await commit(c, async (tx, changes) => {
    const [row] = await tx.insert(credentials).values({
      credential_name: body.credential_name,
      credential_values: sealedValues,
      credential_info: body.credential_info ?? {},
      created_by: actor,
      updated_by: actor,
    }).returning();
    await changes.audit({ action: 'created', table: TABLE, objectId: row!.credential_id, after: auditRow(row!, given) });
  }, { onDuplicate: () => badRequest(`Credential ${body.credential_name} already exists`, 'credential_name') });
  return c.json({ success: true, message: 'Credential created successfully' });
});

describeRoute({ method: 'get', path: '/credentials', summary: "Every credential (the database's and config.yaml's credential_list), secrets masked", tag: 'credentials' });
credentialsRoutes.get('/credentials', async (c) => {
  requireAdminReader(c, 'list credentials');
  const state = await gatewayState(c.env);
  const rows = await c.get('db')().db.select().from(credentials).orderBy(credentials.credential_name);
  const stored = await Promise.all(rows.map((row) => listedCredential(c, state, row)));
  const fromConfig = (state.config.credential_list ?? [])
    .filter((cfg, i, all) => all.findIndex((x) => x.credential_name === cfg.credential_name) === i)
    .map((cfg) => publicCredential(cfg.credential_name, cfg.credential_values, cfg.credential_info));
  return c.json({ success: true, credentials: [...fromConfig, ...stored] });
});

describeRoute({ method: 'get', path: '/credentials/by_name/:credential_name', summary: 'One credential by name, secrets masked', tag: 'credentials' });
credentialsRoutes.get('/credentials/by_name/:credential_name{.+}', async (c) => {
  requireAdminReader(c, 'read credentials');
  const credentialName = c.req.param('credential_name');
  const state = await gatewayState(c.env);
  const [row] = await c.get('db')().db.select().from(credentials).where(eq(credentials.credential_name, credentialName));
  if (row) return c.json(await listedCredential(c, state, row));
  const cfg = configCredential(state, credentialName);
  if (cfg) return c.json(publicCredential(cfg.credential_name, cfg.credential_values, cfg.credential_info));
  throw notFound(`Credential not found. Got credential name: ${credentialName}`);
});

describeRoute({ method: 'get', path: '/credentials/by_model/:model_id', summary: "A model's credential values (config.yaml's or the database's), secrets masked", tag: 'credentials' });
credentialsRoutes.get('/credentials/by_model/:model_id{.+}', async (c) => {
  requireAdminReader(c, 'read credentials');
  const modelId = c.req.param('model_id');
  const { group, values: found } = await deploymentCredentials(c, await gatewayState(c.env), modelId);
  return c.json(publicCredential(`${group}-credential-${modelId}`, found, {}));
});

/** The row of a name, locked for the change; a 404 (or config.yaml's 400) when there is none. */
async function lockedRow(tx: Tx, state: GatewayState, credentialName: string): Promise<CredentialRow> {
  const [row] = await tx.select().from(credentials).where(eq(credentials.credential_name, credentialName)).for('update');
  if (row) return row;
  refuseConfigCredential(state, credentialName);
  throw notFound('Credential not found in DB.');
}

describeRoute({ method: 'patch', path: '/credentials/:credential_name', summary: 'Change a credential: values merged (null removes one, a masked value keeps it), info merged, renamed with credential_name', tag: 'credentials', body: patchCredentialBody });
credentialsRoutes.patch('/credentials/:credential_name{.+}', async (c) => {
  requireProxyAdmin(c, 'update credentials');
  const credentialName = c.req.param('credential_name');
  const body = await parseBody(c, patchCredentialBody);
  const state = await gatewayState(c.env);
  const key = await writeKey(c.env, state.masterKey);
  const renamed = body.credential_name !== undefined && body.credential_name !== credentialName ? body.credential_name : undefined;
  if (renamed) refuseConfigCredential(state, renamed);
  const actor = actorName(c);
  await commit(c, async (tx, changes) => {
    const existing = await lockedRow(tx, state, credentialName);
    const opened = await openedForChange(c, state, existing);
    const merged = mergedValues(opened, body.credential_values ?? {});
    refuseMasks(merged);
    refuseGatewaySecretRefs(merged, 'credential_values');
    checkValues(merged, c.env);
    if (renamed) await refuseRenameInUse(tx, credentialName);
    const [updated] = await tx.update(credentials).set({
      credential_name: renamed ?? credentialName,
      credential_values: await sealCredentials(key, merged),
      credential_info: body.credential_info ? { ...(existing.credential_info ?? {}), ...body.credential_info } : existing.credential_info,
      updated_by: actor,
      updated_at: new Date(),
    }).where(eq(credentials.credential_id, existing.credential_id)).returning();
    await changes.audit({ action: 'updated', table: TABLE, objectId: existing.credential_id, before: auditRow(existing, opened), after: auditRow(updated!, merged) });
  }, { onDuplicate: () => badRequest(`Credential ${renamed} already exists`, 'credential_name') });
  return c.json({ success: true, message: 'Credential updated successfully' });
});

/** DB models naming the credential: renaming or deleting it would leave them unserved. */
async function modelsUsing(tx: Tx, credentialName: string): Promise<string[]> {
  const rows = await tx.select({ id: proxyModels.model_id }).from(proxyModels)
    .where(sql`${proxyModels.litellm_params}->>'litellm_credential_name' = ${credentialName}`).orderBy(proxyModels.model_id);
  return rows.map((r) => r.id);
}

async function refuseRenameInUse(tx: Tx, credentialName: string): Promise<void> {
  const users = await modelsUsing(tx, credentialName);
  if (users.length) throw badRequest(`Credential ${credentialName} is used by models ${users.join(', ')}; point them at another credential before renaming it`, 'credential_name');
}

describeRoute({ method: 'delete', path: '/credentials/:credential_name', summary: 'Delete a credential no DB model uses', tag: 'credentials' });
credentialsRoutes.delete('/credentials/:credential_name{.+}', async (c) => {
  requireProxyAdmin(c, 'delete credentials');
  const credentialName = c.req.param('credential_name');
  const state = await gatewayState(c.env);
  await commit(c, async (tx, changes) => {
    const existing = await lockedRow(tx, state, credentialName);
    const users = await modelsUsing(tx, credentialName);
    if (users.length) {
      throw badRequest(`Credential ${credentialName} is used by models ${users.join(', ')}; point them at another credential before deleting it`, 'credential_name');
    }
    await tx.delete(credentials).where(eq(credentials.credential_id, existing.credential_id));
    await changes.audit({ action: 'deleted', table: TABLE, objectId: existing.credential_id, before: auditRow(existing, (await openedValues(c, state, existing)) ?? {}) });
  });
  return c.json({ success: true, message: 'Credential deleted successfully' });
});

/**
 * For /model/new and /model/update: the credential a model names exists (config.yaml's, or a row locked
 * against deletion until the model's write commits); a 400 naming it otherwise.
 */
export async function requireCredential(tx: Tx, state: GatewayState, credentialName: unknown): Promise<void> {
  if (typeof credentialName !== 'string' || configCredential(state, credentialName)) return;
  const [row] = await tx.select({ id: credentials.credential_id }).from(credentials).where(eq(credentials.credential_name, credentialName)).for('share');
  if (!row) throw badRequest(`No credential named ${credentialName} (create it with POST /credentials, or in config.yaml's credential_list)`, 'litellm_params.litellm_credential_name');
}
