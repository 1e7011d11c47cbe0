/**
 * `GET /model/info` (and `/v1/model/info`): every deployment, config.yaml's
 * and the database's, in LiteLLM's shape, with the price map's fields in
 * `model_info` and no credential anywhere.
 */
import { proxyModels, type ProxyModelRow } from '../../../drizzle/schema/admin.ts';
import { parseModelRef } from '../../../worker/config/providers.ts';
import { findPrice, priceCandidates } from '../../../worker/cost/prices.ts';
import { mayCall } from '../../../worker/models/access.ts';
import { mergeCatalog, storeModelInDb } from '../../../worker/models/db-models.ts';
import type { DeploymentRef } from '../../../worker/models/deployments.ts';
import { gatewayState } from '../../../worker/state.ts';
import { isProxyAdmin } from '../../lib/auth.ts';
import type { AdminContext } from '../../lib/context.ts';
import { publicParams } from '../../lib/crypto.ts';
import { parseQuery } from '../../lib/validation.ts';
import { modelInfoQuery } from './store.ts';

const COST_FIELDS = ['input_cost_per_token', 'output_cost_per_token', 'cache_read_input_token_cost', 'cache_creation_input_token_cost'] as const;

interface Listed {
  deployment: Pick<DeploymentRef, 'id' | 'group' | 'provider' | 'model' | 'info'>;
  params: Record<string, unknown>;
  db: boolean;
}

/** A DB row as a deployment for access checks and pricing; unparseable ones still list (it is the admin's view). */
function listedRow(row: ProxyModelRow): Listed {
  const params = row.litellm_params;
  const ref = parseModelRef(typeof params.model === 'string' ? params.model : '');
  const info = { ...row.model_info, id: row.model_id } as DeploymentRef['info'];
  return {
    deployment: { id: row.model_id, group: row.model_name, provider: ref.ok ? ref.provider : 'openai', model: ref.ok ? ref.model : String(params.model ?? ''), info },
    params: publicParams(params),
    db: true,
  };
}

/**
 * LiteLLM's entry: `model_info` is the price map's row for the deployment
 * (base_model first), then the per-token prices set in litellm_params, then
 * the configured model_info, then `id` and `db_model`.
 */
function entry({ deployment: d, params, db }: Listed) {
  const price = findPrice(priceCandidates(d.provider, d.model, d.info.base_model));
  const custom: Record<string, unknown> = {};
  for (const field of COST_FIELDS) if (typeof params[field] === 'number') custom[field] = params[field];
  return {
    model_name: d.group,
    litellm_params: params,
    model_info: {
      mode: price?.mode ?? null,
      litellm_provider: price?.provider ?? d.provider,
      input_cost_per_token: price?.inputCostPerToken ?? null,
      output_cost_per_token: price?.outputCostPerToken ?? null,
      cache_read_input_token_cost: price?.cacheReadCostPerToken ?? null,
      cache_creation_input_token_cost: price?.cacheCreationCostPerToken ?? null,
      max_tokens: price?.maxOutputTokens ?? null,
      max_input_tokens: price?.maxInputTokens ?? null,
      max_output_tokens: price?.maxOutputTokens ?? null,
      ...custom,
      ...d.info,
      id: d.id,
      db_model: db,
    },
  };
}

export async function modelInfo(c: AdminContext) {
  const query = parseQuery(c, modelInfoQuery);
  const state = await gatewayState(c.env);
  const listed: Listed[] = [];
  for (const deployments of state.catalog.groups.values()) {
    for (const d of deployments) listed.push({ deployment: d, params: publicParams(d.params), db: false });
  }
  // Only what the gateway serves: without store_model_in_db, rows in the table are not models.
  if (storeModelInDb(state.config, c.env)) {
    const rows = await c.get('db')().db.select().from(proxyModels).orderBy(proxyModels.created_at);
    const configIds = new Set(listed.map((l) => l.deployment.id));
    for (const row of rows) if (!configIds.has(row.model_id)) listed.push(listedRow(row));
  }
  let visible = listed;
  if (!isProxyAdmin(c) && c.get('role') !== 'proxy_admin_viewer') {
    const catalog = mergeCatalog(state.catalog, listed.filter((l) => l.db).map((l) => l.deployment as DeploymentRef));
    const caller = c.get('caller');
    visible = listed.filter((l) => mayCall(caller, l.deployment.group, catalog));
  }
  if (query.litellm_model_id !== undefined) visible = visible.filter((l) => l.deployment.id === query.litellm_model_id);
  return c.json({ data: visible.map(entry) });
}
