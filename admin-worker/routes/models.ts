import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { proxyModels, type ProxyModelRow } from '../../drizzle/schema/admin.ts';
import { deploymentSchema } from '../../worker/config/schema.ts';
import { isSealed } from '../../worker/models/db-models.ts';
import { isCredentialField } from '../../worker/models/public-params.ts';
import { gatewayState, type GatewayState } from '../../worker/state.ts';
import { writeAudit } from '../lib/audit.ts';
import { requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { sealCredentials, writeKey } from '../lib/crypto.ts';
import { describeRoute } from '../lib/openapi.ts';
import { badRequest, notFound, parseBody } from '../lib/validation.ts';
import { requireCredential } from './credentials.ts';
import { modelGroupInfo, modelInfo, modelInfoV2 } from './models/info.ts';
import {
  actorOf, type CheckedDeployment, checkedDeployment, deleteModelBody, mergeFields, modelGroupInfoQuery, modelInfoQuery, modelInfoV2Query, newModelBody,
  patchModelBody, publicRow, requireStoreModelInDb, updateModelBody,
} from './models/store.ts';

/**
 * The models routes of the management API (LiteLLM-compatible shapes):
 * deployments stored in LiteLLM_ProxyModelTable with their credentials
 * sealed (admin-worker/lib/crypto.ts), served by the gateway within seconds
 * (worker/models/catalog.ts), and listed with config.yaml's by /model/info.
 */
export const modelsRoutes = new Hono<AdminBindings>();

const TABLE = 'LiteLLM_ProxyModelTable';

function configIds(state: GatewayState): Set<string> {
  const ids = new Set<string>();
  for (const list of state.catalog.groups.values()) for (const d of list) ids.add(d.id);
  return ids;
}

/** Admin, store_model_in_db, and the state every write needs. */
async function writable(c: AdminContext, what: string): Promise<GatewayState> {
  requireProxyAdmin(c, what);
  const state = await gatewayState(c.env);
  requireStoreModelInDb(state, c.env);
  return state;
}

describeRoute({ method: 'post', path: '/model/new', summary: 'Add a model (a model_list entry); credentials are stored encrypted', tag: 'models', body: deploymentSchema });
modelsRoutes.post('/model/new', async (c) => {
  const state = await writable(c, 'add models');
  const body = await parseBody(c, newModelBody);
  const key = await writeKey(c.env, state.masterKey);
  const checked = checkedDeployment({ ...body, litellm_params: await sealCredentials(key, body.litellm_params) }, c.env);
  const modelId = typeof checked.model_info.id === 'string' && checked.model_info.id ? checked.model_info.id : crypto.randomUUID();
  if (configIds(state).has(modelId)) throw badRequest(`Model id=${modelId} is already defined in config.yaml`, 'model_info.id');
  const actor = actorOf(c);
  const row = await c.get('db')().db.transaction(async (tx) => {
    await requireCredential(tx, state, checked.litellm_params.litellm_credential_name);
    const [inserted] = await tx.insert(proxyModels).values({
      model_id: modelId,
      model_name: checked.model_name,
      litellm_params: checked.litellm_params,
      model_info: { ...checked.model_info, id: modelId },
      created_by: actor,
      updated_by: actor,
    }).onConflictDoNothing().returning();
    if (!inserted) throw badRequest(`A model with id=${modelId} already exists`, 'model_info.id');
    await writeAudit(tx, { caller: c.get('caller'), changedBy: c.req.header('litellm-changed-by'), action: 'created', table: TABLE, objectId: modelId, after: publicRow(inserted) });
    return inserted;
  });
  return c.json(publicRow(row));
});

/** Reads the row, lets `change` build the new deployment, checks it, writes it with an audit row. */
async function updateModel(c: AdminContext, state: GatewayState, id: string, change: (row: ProxyModelRow) => Promise<{ model_name: unknown; litellm_params: Record<string, unknown>; model_info: Record<string, unknown> | undefined }>) {
  if (configIds(state).has(id)) throw badRequest(`Model id=${id} is defined in config.yaml; edit config.yaml to change it`, 'id');
  const actor = actorOf(c);
  const row = await c.get('db')().db.transaction(async (tx) => {
    const [existing] = await tx.select().from(proxyModels).where(eq(proxyModels.model_id, id)).for('update');
    if (!existing) throw notFound(`Model with id=${id} not found in db`);
    const checked: CheckedDeployment = checkedDeployment(await change(existing), c.env);
    await requireCredential(tx, state, checked.litellm_params.litellm_credential_name);
    const [updated] = await tx.update(proxyModels).set({
      model_name: checked.model_name,
      litellm_params: checked.litellm_params,
      model_info: { ...checked.model_info, id },
      updated_by: actor,
      updated_at: new Date(),
    }).where(eq(proxyModels.model_id, id)).returning();
    if (!updated) throw notFound(`Model with id=${id} not found in db`);
    await writeAudit(tx, { caller: c.get('caller'), changedBy: c.req.header('litellm-changed-by'), action: 'updated', table: TABLE, objectId: id, before: publicRow(existing), after: publicRow(updated) });
    return updated;
  });
  return c.json(publicRow(row));
}

/** The stored credentials of a row (sealed values and credential fields), kept when an update does not resend them. */
function storedCredentials(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([k, v]) => isCredentialField(k, v) || isSealed(v)));
}

describeRoute({ method: 'post', path: '/model/update', summary: 'Replace a DB model (by model_info.id); credentials not resent are kept', tag: 'models', body: updateModelBody });
modelsRoutes.post('/model/update', async (c) => {
  const state = await writable(c, 'update models');
  const body = await parseBody(c, updateModelBody);
  const key = await writeKey(c.env, state.masterKey);
  return updateModel(c, state, body.model_info.id, async (row) => ({
    model_name: body.model_name ?? row.model_name,
    litellm_params: body.litellm_params
      ? { ...storedCredentials(row.litellm_params), ...(await sealCredentials(key, body.litellm_params)) }
      : row.litellm_params,
    model_info: body.model_info,
  }));
});

describeRoute({ method: 'patch', path: '/model/:model_id/update', summary: 'Change some fields of a DB model; null removes a field', tag: 'models', body: patchModelBody });
modelsRoutes.patch('/model/:model_id/update', async (c) => {
  const state = await writable(c, 'update models');
  const body = await parseBody(c, patchModelBody);
  const key = await writeKey(c.env, state.masterKey);
  return updateModel(c, state, c.req.param('model_id'), async (row) => ({
    model_name: body.model_name ?? row.model_name,
    litellm_params: body.litellm_params ? mergeFields(row.litellm_params, await sealCredentials(key, body.litellm_params)) : row.litellm_params,
    model_info: body.model_info ? mergeFields(row.model_info ?? {}, body.model_info) : row.model_info ?? undefined,
  }));
});

describeRoute({ method: 'post', path: '/model/delete', summary: 'Delete a DB model', tag: 'models', body: deleteModelBody });
modelsRoutes.post('/model/delete', async (c) => {
  const state = await writable(c, 'delete models');
  const { id } = await parseBody(c, deleteModelBody);
  if (configIds(state).has(id)) throw badRequest(`Model id=${id} is defined in config.yaml; remove it there`, 'id');
  await c.get('db')().db.transaction(async (tx) => {
    const [deleted] = await tx.delete(proxyModels).where(eq(proxyModels.model_id, id)).returning();
    if (!deleted) throw notFound(`Model with id=${id} not found in db`);
    await writeAudit(tx, { caller: c.get('caller'), changedBy: c.req.header('litellm-changed-by'), action: 'deleted', table: TABLE, objectId: id, before: publicRow(deleted) });
  });
  return c.json({ message: `Model: ${id} deleted successfully` });
});

for (const path of ['/model/info', '/v1/model/info']) {
  describeRoute({ method: 'get', path, summary: "Every deployment the caller may call (config.yaml's and the database's), without credentials", tag: 'models', query: modelInfoQuery });
  modelsRoutes.get(path, modelInfo);
}
describeRoute({ method: 'get', path: '/v2/model/info', summary: 'The deployments the caller may call, optionally of one model group', tag: 'models', query: modelInfoV2Query });
modelsRoutes.get('/v2/model/info', modelInfoV2);
describeRoute({ method: 'get', path: '/model_group/info', summary: 'One entry per model group the caller may call: providers, context, prices, mode, tpm/rpm', tag: 'models', query: modelGroupInfoQuery });
modelsRoutes.get('/model_group/info', modelGroupInfo);
