/**
 * `GET /model/info` (and `/v1/model/info`): every deployment, config.yaml's
 * and the database's, in LiteLLM's shape, with the price map's fields in
 * `model_info` and no credential anywhere.
 */
import { proxyModels, type ProxyModelRow } from '../../../drizzle/schema/admin.ts';
import { parseModelRef } from '../../../worker/config/providers.ts';
import { findPrice, priceCandidates } from '../../../worker/cost/prices.ts';
import { isPublicCaller } from '../../../worker/auth/public-routes.ts';
import { mayCall } from '../../../worker/models/access.ts';
import { mergeCatalog, storeModelInDb } from '../../../worker/models/db-models.ts';
import { publicModelGroups } from '../../../worker/models/hub-settings.ts';
import type { DeploymentRef } from '../../../worker/models/deployments.ts';
import { gatewayState } from '../../../worker/state.ts';
import { isAdminReader } from '../../lib/auth.ts';
import type { AdminContext } from '../../lib/context.ts';
import { publicParams } from '../../../worker/models/public-params.ts';
import { parseQuery } from '../../lib/validation.ts';
import { modelGroupInfoQuery, modelInfoQuery, modelInfoV2Query } from './store.ts';
import { entryShownWithoutKey } from './public-view.ts';

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
  let visible = await visibleModels(c);
  if (query.litellm_model_id !== undefined) visible = visible.filter((l) => l.deployment.id === query.litellm_model_id);
  return c.json({ data: entries(c, visible) });
}

/** `GET /v2/model/info`: the same entries, optionally for one model group (`?model=`). */
export async function modelInfoV2(c: AdminContext) {
  const query = parseQuery(c, modelInfoV2Query);
  let visible = await visibleModels(c);
  if (query.model !== undefined) visible = visible.filter((l) => l.deployment.group === query.model);
  return c.json({ data: entries(c, visible) });
}

/** The entries, each cut to the public view's allowlist (public-view.ts) for a request without a key. */
function entries(c: AdminContext, visible: Listed[]) {
  const all = visible.map(entry);
  return isPublicCaller(c.get('caller')) ? all.map(entryShownWithoutKey) : all;
}

/**
 * `GET /model_group/info` (`?model_group=`): one entry per model group the caller may call, as
 * LiteLLM's ModelGroupInfo: its providers, the largest context and output of its deployments, the
 * first known prices, its mode, the sums of its deployments' `tpm` / `rpm` (null when none sets them), and
 * `is_public_model_group` (the public model hub lists it).
 */
export async function modelGroupInfo(c: AdminContext) {
  const query = parseQuery(c, modelGroupInfoQuery);
  // Without a key, the group's name, mode, limits, prices and rates; which providers serve it is not shown.
  const shownProviders = !isPublicCaller(c.get('caller'));
  const groups = new Map<string, ReturnType<typeof entry>[]>();
  const [visible, published] = await Promise.all([visibleModels(c), gatewayState(c.env).then((state) => publicModelGroups(state, c.env, c.executionCtx))]);
  const isPublic = new Set(published);
  for (const listed of visible) {
    if (query.model_group !== undefined && listed.deployment.group !== query.model_group) continue;
    const list = groups.get(listed.deployment.group) ?? [];
    list.push(entry(listed));
    groups.set(listed.deployment.group, list);
  }
  const data = [...groups].map(([group, entries]) => {
    const info = entries.map((e) => e.model_info as Record<string, unknown>);
    const numbers = (field: string) => info.map((i) => i[field]).filter((v): v is number => typeof v === 'number');
    const most = (field: string) => (numbers(field).length ? Math.max(...numbers(field)) : null);
    const first = (field: string) => numbers(field)[0] ?? null;
    const sum = (field: string) => {
      const set = entries.map((e) => e.litellm_params[field]).filter((v): v is number => typeof v === 'number');
      return set.length ? set.reduce((a, b) => a + b, 0) : null;
    };
    return {
      model_group: group,
      providers: shownProviders ? [...new Set(info.map((i) => String(i.litellm_provider)))] : [],
      max_input_tokens: most('max_input_tokens'),
      max_output_tokens: most('max_output_tokens'),
      input_cost_per_token: first('input_cost_per_token'),
      output_cost_per_token: first('output_cost_per_token'),
      mode: info.map((i) => i.mode).find((m) => typeof m === 'string') ?? null,
      tpm: sum('tpm'),
      rpm: sum('rpm'),
      // LiteLLM's flag: whether GET /public/model_hub lists the group (models/hub-settings.ts).
      is_public_model_group: isPublic.has(group),
    };
  });
  return c.json({ data });
}

/**
 * Every deployment (config.yaml's, and the database's with store_model_in_db) the caller may see. A request
 * without a key (general_settings.public_routes) sees config.yaml's alone: reading the table for it would let
 * anyone open Postgres connections and run the SELECT at will.
 */
async function visibleModels(c: AdminContext): Promise<Listed[]> {
  const state = await gatewayState(c.env);
  const caller = c.get('caller');
  const listed: Listed[] = [];
  for (const deployments of state.catalog.groups.values()) {
    for (const d of deployments) listed.push({ deployment: d, params: publicParams(d.params), db: false });
  }
  // Only what the gateway serves: without store_model_in_db, rows in the table are not models.
  if (storeModelInDb(state.config, c.env) && !isPublicCaller(caller)) {
    const rows = await c.get('db')().db.select().from(proxyModels).orderBy(proxyModels.created_at);
    const configIds = new Set(listed.map((l) => l.deployment.id));
    for (const row of rows) if (!configIds.has(row.model_id)) listed.push(listedRow(row));
  }
  let visible = listed;
  if (!isAdminReader(c)) {
    const catalog = mergeCatalog(state.catalog, listed.filter((l) => l.db).map((l) => l.deployment as DeploymentRef));
    visible = listed.filter((l) => mayCall(caller, l.deployment.group, catalog));
  }
  return visible;
}
