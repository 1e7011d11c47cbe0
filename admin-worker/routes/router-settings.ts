/**
 * LiteLLM's fallback management (`POST /fallback`, `GET /fallback/{model}`, `DELETE /fallback/{model}`) and router
 * settings reads (`GET /router/settings`, `GET /router/fields`), which its admin UI's router settings and fallbacks
 * pages use. Reads give the settings in effect: config.yaml's, with store_model_in_db LiteLLM_Config's
 * `router_settings` row laid over them, as the gateway routes by them (worker/models/stored-router-settings.ts).
 * Writes edit that row: the type's whole list as in effect, with the one group's fallbacks changed, is stored under
 * its key (LiteLLM stores the whole router_settings it read, config.yaml's other settings with it). The gateway
 * routes by it within seconds. Only the group written is checked (against the groups served): the list's other
 * entries are carried over as they are, so one the router cannot use (config.yaml warns of it) blocks no write.
 * Proxy admins write; admin readers (proxy admins and their viewers) read.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { TollgateConfig } from '../../worker/config/schema.ts';
import { GatewayError } from '../../worker/errors.ts';
import { gatewayState } from '../../worker/state.ts';
import { requireAdminReader, requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { servedGroupNames } from '../lib/served-groups.ts';
import { badRequest, notFound, parseBody, parseQuery } from '../lib/validation.ts';
import { storeRouterSettings } from './config-settings/store.ts';
import { requireStoreModelInDb } from './models/store.ts';
import { effectiveFallbacks, FALLBACK_KEY_OF, FALLBACK_TYPES, type FallbackType, fallbacksOf, withFallbacks, withoutFallbacks } from './router-settings/fallback-lists.ts';
import { routerFields, routerSettingsView } from './router-settings/fields.ts';
import { routerSettingsInEffect, routerSettingsOver } from './router-settings/in-effect.ts';

export const routerSettingsRoutes = new Hono<AdminBindings>();

const fallbackType = z.enum(FALLBACK_TYPES, { error: 'expected general, context_window or content_policy' });
/** Most fallbacks one group may have (LiteLLM sets none): each is looked up among the groups served. */
const MAX_FALLBACK_MODELS = 100;
/** LiteLLM's FallbackCreateRequest. */
const fallbackBody = z.object({
  model: z.string({ error: 'expected a string' }).trim().min(1, 'model must be a non-empty string'),
  fallback_models: z.array(z.string({ error: 'expected a string' }), { error: 'expected a list of model names' })
    .min(1, 'fallback_models must contain at least one model')
    .max(MAX_FALLBACK_MODELS, `fallback_models must contain at most ${MAX_FALLBACK_MODELS} models`)
    .refine((models) => new Set(models).size === models.length, 'fallback_models must not contain duplicates'),
  fallback_type: fallbackType.default('general'),
});
const fallbackQuery = z.object({ fallback_type: fallbackType.default('general') });

/** Python's repr of a list of names, as LiteLLM's messages show them. */
const pyList = (names: string[]) => `[${names.map((n) => `'${n}'`).join(', ')}]`;

const noneConfigured = (type: FallbackType, model: string) => notFound(`No ${type} fallbacks configured for model '${model}'`);

/**
 * Stores `type`'s list as in effect with `edit` applied to it, in one transaction with its audit row
 * (config-settings/store.ts). The list is not checked again: the caller checked the entry it edits, and the others are
 * config.yaml's (already checked and warned of) or the row's as the gateway takes them. `edit` may throw to refuse:
 * nothing is written.
 */
async function storeFallbacks(c: AdminContext, config: TollgateConfig, type: FallbackType, edit: (list: Record<string, string[]>[]) => Record<string, string[]>[]): Promise<void> {
  await storeRouterSettings(c, (stored) => {
    // The row as locked in the transaction, whole (not as shown): the list stored is built from it.
    const { settings } = routerSettingsOver(config, stored);
    return { ...stored, [FALLBACK_KEY_OF[type]]: edit(effectiveFallbacks(settings, config.litellm_settings, type)) };
  });
}

describeRoute({ method: 'post', path: '/fallback', summary: "Set a model group's fallbacks (general, context_window or content_policy), stored in the database", tag: 'router settings', body: fallbackBody });
routerSettingsRoutes.post('/fallback', async (c) => {
  requireProxyAdmin(c, 'configure fallbacks');
  const body = await parseBody(c, fallbackBody);
  const state = await gatewayState(c.env);
  const { config } = state;
  const served = await servedGroupNames(c, [body.model, ...body.fallback_models]);
  if (!served.has(body.model)) throw new GatewayError(`Model '${body.model}' not found in router`, { status: 404, type: 'not_found_error', param: 'model' });
  const unknown = body.fallback_models.filter((m) => !served.has(m));
  if (unknown.length) throw badRequest(`Invalid fallback models: ${pyList(unknown)}`, 'fallback_models');
  if (body.fallback_models.includes(body.model)) throw badRequest(`Model '${body.model}' cannot be its own fallback`, 'fallback_models');
  // LiteLLM refuses without it too (a 400; Tollgate's is /config/update's and /model/new's 500): the gateway never reads the row then.
  requireStoreModelInDb(state, c.env);
  let updated = false;
  await storeFallbacks(c, config, body.fallback_type, (list) => {
    const next = withFallbacks(list, body.model, body.fallback_models);
    updated = next.updated;
    return next.list;
  });
  return c.json({
    model: body.model, fallback_models: body.fallback_models, fallback_type: body.fallback_type,
    message: `Fallback configuration ${updated ? 'updated' : 'created'} successfully`,
  });
});

describeRoute({ method: 'get', path: '/fallback/{model}', summary: "A model group's fallbacks in effect (404 when none)", tag: 'router settings', query: fallbackQuery });
routerSettingsRoutes.get('/fallback/:model{.+}', async (c) => {
  requireAdminReader(c, 'read fallbacks');
  const { fallback_type: type } = parseQuery(c, fallbackQuery);
  const model = c.req.param('model');
  const { config } = await gatewayState(c.env);
  const { settings } = await routerSettingsInEffect(c, config);
  const fallbacks = fallbacksOf(effectiveFallbacks(settings, config.litellm_settings, type), model);
  if (!fallbacks.length) throw noneConfigured(type, model);
  return c.json({ model, fallback_models: fallbacks, fallback_type: type });
});

describeRoute({ method: 'delete', path: '/fallback/{model}', summary: "Remove a model group's fallbacks (stored in the database; 404 when none)", tag: 'router settings', query: fallbackQuery });
routerSettingsRoutes.delete('/fallback/:model{.+}', async (c) => {
  requireProxyAdmin(c, 'delete fallbacks');
  const { fallback_type: type } = parseQuery(c, fallbackQuery);
  const model = c.req.param('model');
  const state = await gatewayState(c.env);
  requireStoreModelInDb(state, c.env);
  await storeFallbacks(c, state.config, type, (list) => {
    const next = withoutFallbacks(list, model);
    if (!next.found) throw noneConfigured(type, model);
    return next.list;
  });
  return c.json({ model, fallback_type: type, message: 'Fallback configuration deleted successfully' });
});

describeRoute({ method: 'get', path: '/router/settings', summary: 'The router settings in effect, with their definitions and the routing strategies', tag: 'router settings' });
routerSettingsRoutes.get('/router/settings', async (c) => {
  requireAdminReader(c, 'read router settings');
  const { config } = await gatewayState(c.env);
  return c.json(routerSettingsView((await routerSettingsInEffect(c, config)).settings));
});

describeRoute({ method: 'get', path: '/router/fields', summary: 'The router settings definitions (no values) and the routing strategies', tag: 'router settings' });
routerSettingsRoutes.get('/router/fields', (c) => {
  requireAdminReader(c, 'read router settings');
  return c.json(routerFields());
});
