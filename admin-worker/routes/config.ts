/**
 * LiteLLM's database-stored settings: `POST /config/update` (sections of config.yaml, merged into their
 * LiteLLM_Config rows key by key, the request's value winning, a null removing the stored key so config.yaml's
 * applies again; LiteLLM replaces a section's whole row instead, so Tollgate's partial update keeps the other stored
 * keys, and LiteLLM's stored null keeps config.yaml's too), `GET /config/list`, `GET /config/field/info`,
 * `POST /config/field/update` and `POST /config/field/delete` (single general_settings fields). Tollgate reads only
 * the stored router_settings, and only with store_model_in_db (the gateway overlays them on config.yaml's within
 * seconds), so only those are written (config-settings/stored-sections.ts); any other field is refused, naming
 * where it is set. Proxy admins write; admin readers (proxy admins and their viewers) read.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { FALLBACK_KEYS, unknownFallbackGroups } from '../../worker/config/router-checks.ts';
import { STORED_ROWS } from '../../worker/config/stored-rows.ts';
import { readConfigRow } from '../../worker/db/config-row.ts';
import { GatewayError } from '../../worker/errors.ts';
import { fileRouterSettings } from '../../worker/models/stored-router-settings.ts';
import { gatewayState } from '../../worker/state.ts';
import { generalSettingsOf } from '../../worker/telemetry/email/event-settings.ts';
import { requireAdminReader, requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { servedGroupNames } from '../lib/served-groups.ts';
import { badRequest, parseBody, parseQuery } from '../lib/validation.ts';
import { GENERAL_FIELD_NAMES, generalSettingsList, routerSettingsList, shownPassThrough } from './config-settings/config-list.ts';
import { storeRouterSettings } from './config-settings/store.ts';
import { checkConfigUpdate } from './config-settings/stored-sections.ts';
import { requireStoreModelInDb } from './models/store.ts';
import { routerSettingsInEffect } from './router-settings/in-effect.ts';

export const configRoutes = new Hono<AdminBindings>();

const updateBody = z.record(z.string(), z.unknown(), { error: 'expected a mapping of config.yaml sections' });
const listQuery = z.object({
  config_type: z.enum(['general_settings', 'router_settings'], { error: 'expected general_settings or router_settings' }),
});
const fieldQuery = z.object({ field_name: z.string({ error: 'is required' }) });
const fieldUpdateBody = z.object({
  field_name: z.string({ error: 'expected a string' }),
  field_value: z.unknown(),
  config_type: z.literal('general_settings', { error: 'expected "general_settings"' }),
});
const fieldDeleteBody = fieldUpdateBody.omit({ field_value: true });

/** No general_settings field is read from the database by Tollgate, so `/config/field/update|delete` refuse them all. */
const generalFieldRefused = (field: string) => badRequest(
  `general_settings.${field} is read from config.yaml when the gateway is built, not from the database: set it in config.yaml (nothing was changed)`,
  'field_name',
);

const invalidField = (field: string) => badRequest(`Invalid field=${field.slice(0, 100)} passed in.`, 'field_name');

/** The stored general_settings ({} without a row); undefined when the row holds no mapping. */
async function storedGeneralSettings(c: AdminContext): Promise<Record<string, unknown> | undefined> {
  return generalSettingsOf(await readConfigRow(c.get('db')().db, STORED_ROWS.general_settings));
}

/**
 * The model groups named in `router`'s fallback lists that config.yaml and the database serve, and config.yaml's
 * wildcard groups (which may serve any name), for the fallbacks' warning.
 */
async function fallbackGroups(c: AdminContext, router: Record<string, unknown>, configured: readonly { model_name: string }[]): Promise<Set<string>> {
  const lists = FALLBACK_KEYS.flatMap((key) => (router[key] ?? []) as Record<string, string[]>[]);
  const served = await servedGroupNames(c, lists.flatMap((entry) => Object.entries(entry).flat(2)));
  return new Set([...served, ...configured.map((d) => d.model_name).filter((name) => name.includes('*'))]);
}

describeRoute({ method: 'post', path: '/config/update', summary: 'Store router_settings in the database (merged key by key); other sections are refused', tag: 'config', body: updateBody });
configRoutes.post('/config/update', async (c) => {
  requireProxyAdmin(c, 'update config');
  const state = await gatewayState(c.env);
  // LiteLLM's 500 (its older /config/update, and /model/new): without it the gateway never reads the stored row.
  requireStoreModelInDb(state, c.env);
  const checked = checkConfigUpdate(await parseBody(c, updateBody), state.config.litellm_settings);
  if (!checked.ok) {
    throw new GatewayError(checked.message, { status: checked.status, type: checked.status === 422 ? 'validation_error' : 'bad_request_error', param: checked.param });
  }
  const { set, removed } = checked;
  if (!Object.keys(set).length && !removed.length) return c.json({ message: 'Config updated successfully' });
  await storeRouterSettings(c, (stored) => {
    const next = { ...stored, ...set };
    for (const key of removed) delete next[key];
    return next;
  });
  const warnings = unknownFallbackGroups(set, await fallbackGroups(c, set, state.config.model_list));
  return c.json({ message: 'Config updated successfully', ...(warnings.length ? { warnings } : {}) });
});

describeRoute({ method: 'get', path: '/config/list', summary: 'The fields of general_settings or router_settings: value, type, whether stored in the database', tag: 'config', query: listQuery });
configRoutes.get('/config/list', async (c) => {
  requireAdminReader(c, 'list config settings');
  const { config_type: type } = parseQuery(c, listQuery);
  const { config } = await gatewayState(c.env);
  if (type === 'general_settings') return c.json(generalSettingsList(config.general_settings as Record<string, unknown>, await storedGeneralSettings(c) ?? {}));
  return c.json(routerSettingsList(fileRouterSettings(config) as Record<string, unknown>, await routerSettingsInEffect(c, config)));
});

describeRoute({ method: 'get', path: '/config/field/info', summary: "A general_settings field's value stored in the database", tag: 'config', query: fieldQuery });
configRoutes.get('/config/field/info', async (c) => {
  requireAdminReader(c, 'read config settings');
  const { field_name: field } = parseQuery(c, fieldQuery);
  if (!GENERAL_FIELD_NAMES.has(field)) throw invalidField(field);
  const stored = await storedGeneralSettings(c);
  if (!stored || !Object.hasOwn(stored, field)) throw badRequest(`Field name=${field} not in DB`, 'field_name');
  return c.json({ field_name: field, field_value: field === 'pass_through_endpoints' ? shownPassThrough(stored[field]) : stored[field] });
});

describeRoute({ method: 'post', path: '/config/field/update', summary: 'Refused: general_settings fields are read from config.yaml', tag: 'config', body: fieldUpdateBody });
configRoutes.post('/config/field/update', async (c) => {
  requireProxyAdmin(c, 'update config settings');
  const { field_name: field } = await parseBody(c, fieldUpdateBody);
  throw GENERAL_FIELD_NAMES.has(field) ? generalFieldRefused(field) : invalidField(field);
});

describeRoute({ method: 'post', path: '/config/field/delete', summary: 'Refused: general_settings fields are read from config.yaml', tag: 'config', body: fieldDeleteBody });
configRoutes.post('/config/field/delete', async (c) => {
  requireProxyAdmin(c, 'delete config settings');
  const { field_name: field } = await parseBody(c, fieldDeleteBody);
  throw GENERAL_FIELD_NAMES.has(field) ? generalFieldRefused(field) : invalidField(field);
});
