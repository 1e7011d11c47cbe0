/**
 * `/credentials`, LiteLLM's reusable credentials: a name and a set of
 * `litellm_params` values (api_key, api_base, api_version, aws_*, vertex_*)
 * that DB models take by naming it in `litellm_credential_name`
 * (worker/config/credentials.ts; the gateway re-reads them with the models,
 * worker/models/db-models.ts). Secret values are sealed as models' are and
 * never leave the Worker but masked (`...ABCD`, or `****` for a short one). config.yaml's `credential_list`
 * entries are listed beside them and changed only in config.yaml.
 */
import { eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { type CredentialRow, credentials, proxyModels } from '../../drizzle/schema/admin.ts';
import { envRefName, resolveEnvRefs } from '../../worker/config/env-ref.ts';
import { CREDENTIAL_FIELDS } from '../../worker/config/credentials.ts';
import { litellmParamsSchema } from '../../worker/config/schema.ts';
import { GatewayError } from '../../worker/errors.ts';
import { isObject, type Json } from '../../worker/json.ts';
import { currentCatalog } from '../../worker/models/catalog.ts';
import { isCredentialField, isSealed, isSensitiveHeader, unsealParams } from '../../worker/models/db-models.ts';
import { gatewayState, type GatewayState } from '../../worker/state.ts';
import { requireAdminReader, requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { sealCredentials, writeKey } from '../lib/crypto.ts';
import { refuseGatewaySecretRefs } from '../lib/env-refs.ts';
import { describeRoute } from '../lib/openapi.ts';
import { badRequest, notFound, parseBody } from '../lib/validation.ts';
import { actorName, commit, type Tx } from './principals/mutation.ts';

export const credentialsRoutes = new Hono<AdminBindings>();

const TABLE = 'LiteLLM_CredentialsTable';

const name = z.string({ error: 'expected a string' }).trim().min(1, 'must not be empty').max(256, 'at most 256 characters');
const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' });
const headers = z.record(z.string(), z.string().nullable(), { error: 'expected a mapping of header names to strings' });
/** Only the fields a credential may give (CREDENTIAL_FIELDS); `extra_headers` a mapping, the rest plain values. */
const valuesOf = <V extends z.ZodType>(v: V) => z.record(z.string(), z.unknown(), { error: 'expected a mapping of litellm_params values' }).superRefine((values, ctx) => {
  for (const [field, given] of Object.entries(values)) {
    if (!CREDENTIAL_FIELDS.includes(field)) ctx.addIssue({ code: 'custom', path: [field], message: `not a credential field (expected one of ${CREDENTIAL_FIELDS.join(', ')})` });
    else {
      const checked = (field === 'extra_headers' ? headers : v).safeParse(given);
      if (!checked.success) ctx.addIssue({ code: 'custom', path: [field], message: checked.error.issues[0]?.message ?? 'invalid' });
    }
  }
});
const info = z.record(z.string(), z.unknown(), { error: 'expected an object' });

const newCredentialBody = z.object({
  credential_name: name,
  credential_values: valuesOf(scalar).optional(),
  credential_info: info.nullish(),
  /** Take the values from this model's litellm_params instead (LiteLLM's "reuse a model's credentials"). */
  model_id: z.string().min(1).optional(),
});
/** Fields given are merged into the stored ones (headers one by one); `null` removes one; a masked value sent back keeps it. */
const patchCredentialBody = z.object({
  credential_name: name.optional(),
  credential_values: valuesOf(scalar.nullable()).optional(),
  credential_info: info.nullish(),
});

/**
 * The mask of a secret value: its last four characters (none of a short one); an `os.environ/NAME`
 * reference is not a secret and shows as written.
 */
const masked = (v: unknown): unknown => (typeof v !== 'string' || envRefName(v) !== undefined ? v : v.length >= 12 ? `...${v.slice(-4)}` : '****');
const MASK = /^(\.\.\.[\s\S]{4}|\*{4})$/;

/** Whether a field (or an `extra_headers` entry, as `extra_headers.<name>`) holds a secret. */
const isSecret = (field: string, v: unknown) => field.startsWith('extra_headers.') ? isSensitiveHeader(field.slice(14)) : isCredentialField(field, v);

/** Values as they may leave the Worker: secrets (and auth headers) masked, the rest as stored; only credential fields. */
function maskedValues(opened: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(opened)) {
    if (!CREDENTIAL_FIELDS.includes(k)) continue;
    if (k === 'extra_headers' && isObject(v)) out[k] = Object.fromEntries(Object.entries(v).map(([h, hv]) => [h, isSecret(`extra_headers.${h}`, hv) ? masked(hv) : hv]));
    else out[k] = isSecret(k, v) ? masked(v) : v;
  }
  return out;
}

/** A 400 for a secret given in its masked form (a copy of what GET shows), which would be stored as the secret. */
function refuseMasks(values: Json): void {
  const entries = Object.entries(values).flatMap(([k, v]) => (k === 'extra_headers' && isObject(v) ? Object.entries(v).map(([h, hv]) => [`extra_headers.${h}`, hv] as const) : [[k, v] as const]));
  for (const [field, v] of entries) {
    if (typeof v === 'string' && isSecret(field, v) && MASK.test(v)) throw badRequest(`credential_values.${field} is a masked value; send the secret itself`, `credential_values.${field}`);
  }
}

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
 * Values checked as the litellm_params they become (`os.environ/NAME` resolved only to check): a 422
 * naming each bad field, before anything is written.
 */
function checkValues(candidate: Json, env: Record<string, unknown>): void {
  const parsed = litellmParamsSchema.partial().safeParse(resolveEnvRefs(candidate, env).value);
  if (parsed.success) return;
  const problems = parsed.error.issues.map((i) => `credential_values.${i.path.map(String).join('.')}: ${i.message}`);
  throw new GatewayError(`Invalid request body: ${problems.join('; ')}`, {
    status: 422, type: 'validation_error', param: `credential_values.${parsed.error.issues[0]?.path.map(String).join('.') ?? ''}`,
  });
}

/** The credential values of a deployment (config.yaml's or the database's), as the gateway calls it. */
async function deploymentCredentials(c: AdminContext, state: GatewayState, modelId: string): Promise<{ group: string; values: Json }> {
  const catalog = await currentCatalog(state, c.env, c.executionCtx);
  for (const list of catalog.groups.values()) {
    const d = list.find((x) => x.id === modelId);
    if (!d) continue;
    const params = d.params as Json;
    const picked: Json = {};
    for (const field of CREDENTIAL_FIELDS) if (params[field] !== undefined) picked[field] = params[field];
    return { group: d.group, values: picked };
  }
  throw notFound('Model not found');
}

function publicCredential(credentialName: string, opened: Json, credentialInfo: unknown) {
  return { credential_name: credentialName, credential_values: maskedValues(opened), credential_info: credentialInfo ?? {} };
}

/** A credential as the audit log keeps it: its values masked as GET shows them (`credential_values` is a name the audit log redacts whole). */
const auditRow = (row: CredentialRow, opened: Json) => ({
  credential_id: row.credential_id, credential_name: row.credential_name, credential_info: row.credential_info, masked_values: maskedValues(opened),
});

describeRoute({ method: 'post', path: '/credentials', summary: "Store a reusable credential (its values, or a model's with model_id); secrets are sealed", tag: 'credentials', body: newCredentialBody });
credentialsRoutes.post('/credentials', async (c) => {
  requireProxyAdmin(c, 'create credentials');
  const body = await parseBody(c, newCredentialBody);
  const state = await gatewayState(c.env);
  refuseConfigCredential(state, body.credential_name);
  let given: Json;
  if (body.model_id) given = (await deploymentCredentials(c, state, body.model_id)).values;
  else if (body.credential_values) given = body.credential_values;
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

/**
 * A PATCH's values over the stored ones: a field (or a header of `extra_headers`) given replaces the stored
 * one, `null` removes it, and a secret sent back as its mask (what GET shows) is the stored one.
 */
function mergedValues(opened: Json, patch: Json): Json {
  const merged: Json = { ...opened };
  const apply = (into: Json, field: string, key: string, v: unknown, stored: unknown) => {
    if (v === null) delete into[key];
    else if (!(isSecret(field, v) && stored !== undefined && v === masked(stored))) into[key] = v;
  };
  for (const [field, v] of Object.entries(patch)) {
    if (field === 'extra_headers' && isObject(v)) {
      const storedHeaders = isObject(opened.extra_headers) ? opened.extra_headers : {};
      const next: Json = { ...storedHeaders };
      for (const [h, hv] of Object.entries(v)) apply(next, `extra_headers.${h}`, h, hv, storedHeaders[h]);
      merged.extra_headers = next;
    } else apply(merged, field, field, v, opened[field]);
  }
  return merged;
}

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
