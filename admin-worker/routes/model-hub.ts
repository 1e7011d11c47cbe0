/**
 * LiteLLM's model hub settings: `POST /model_group/make_public` (which model groups `GET /public/model_hub` lists)
 * and `POST /model_hub/update_useful_links` (the links `GET /public/model_hub/info` shows). Each replaces its list
 * whole, as LiteLLM's do, in LiteLLM_Config's `litellm_settings` row (LiteLLM's place for them, so a database shared
 * with LiteLLM keeps them), other settings in the row untouched. The gateway reads the row into each isolate's
 * copy (worker/models/hub-settings.ts): a change is listed within REFRESH_EVERY_MS (2 s) of an isolate's traffic (an
 * isolate idle longer answers its first request from its old copy, re-reading it in the background).
 */
import { Hono } from 'hono';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { litellmConfig } from '../../drizzle/schema/admin.ts';
import { LITELLM_SETTINGS_ROW, rereadHubSettings, storedHub } from '../../worker/models/hub-settings.ts';
import { gatewayState } from '../../worker/state.ts';
import { writeAudit } from '../lib/audit.ts';
import { callerUserId, requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { servedGroupNames } from '../lib/served-groups.ts';
import { badRequest, parseBody } from '../lib/validation.ts';
import { requireStoreModelInDb } from './models/store.ts';

export const modelHubRoutes = new Hono<AdminBindings>();

const groupName = z.string({ error: 'expected a string' }).min(1, 'must not be empty').max(256, 'at most 256 characters');
const makePublicBody = z.object({
  model_groups: z.array(groupName, { error: 'expected a list of model group names' }).max(1000, 'at most 1000 model groups'),
});
/** Links the public hub page renders: http(s) only, so a stored `javascript:` link can never run in a visitor's browser. */
const linkUrl = z.string({ error: 'expected a URL' }).max(2048, 'at most 2048 characters')
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'expected an http:// or https:// URL');
const usefulLinksBody = z.object({
  useful_links: z.record(z.string().min(1, 'a link title must not be empty').max(256), linkUrl, { error: 'expected a mapping of title to URL' })
    .refine((links) => Object.keys(links).length <= 100, 'at most 100 links'),
});

/**
 * Sets `field` of the stored `litellm_settings` mapping to `value`, in one transaction with its audit row; the row's
 * other settings are kept (merged in SQL, under the row's lock, so two admins' writes of different fields both land).
 */
async function storeSetting(c: AdminContext, field: 'public_model_groups' | 'public_model_groups_links', value: unknown): Promise<void> {
  await c.get('db')().db.transaction(async (tx) => {
    const [before] = await tx.select({ value: litellmConfig.param_value }).from(litellmConfig).where(eq(litellmConfig.param_name, LITELLM_SETTINGS_ROW)).for('update');
    const patch = JSON.stringify({ [field]: value });
    await tx.insert(litellmConfig).values({ param_name: LITELLM_SETTINGS_ROW, param_value: { [field]: value } }).onConflictDoUpdate({
      target: litellmConfig.param_name,
      // A row LiteLLM wrote may hold something other than a mapping: the hub's field then starts a fresh one.
      set: { param_value: sql`(CASE WHEN jsonb_typeof(${litellmConfig.param_value}) = 'object' THEN ${litellmConfig.param_value} ELSE '{}'::jsonb END) || ${patch}::jsonb` },
    });
    const previous = storedHub(before?.value);
    await writeAudit(tx, {
      caller: c.get('caller'), changedBy: c.req.header('litellm-changed-by'), action: 'updated', table: 'LiteLLM_Config', objectId: `${LITELLM_SETTINGS_ROW}.${field}`,
      before: { [field]: field === 'public_model_groups' ? previous.groups ?? null : previous.links ?? null }, after: { [field]: value },
    });
  });
}

describeRoute({ method: 'post', path: '/model_group/make_public', summary: 'Replace the model groups GET /public/model_hub lists without a key', tag: 'models', body: makePublicBody });
modelHubRoutes.post('/model_group/make_public', async (c) => {
  requireProxyAdmin(c, 'update public model groups');
  requireStoreModelInDb(await gatewayState(c.env), c.env);
  const body = await parseBody(c, makePublicBody);
  const groups = [...new Set(body.model_groups)];
  // A name outside the groups served is a typo the hub would silently skip.
  const known = await servedGroupNames(c, groups);
  const unknown = groups.filter((name) => !known.has(name));
  if (unknown.length) throw badRequest(`Unknown model groups: ${unknown.slice(0, 20).join(', ')}. Add them (config.yaml or /model/new) before making them public`, 'model_groups');
  await storeSetting(c, 'public_model_groups', groups);
  // This isolate's /model_group/info shows the new list at once (its copy would otherwise wait for a later request).
  await rereadHubSettings(await gatewayState(c.env), c.env, c.executionCtx);
  return c.json({ message: 'Successfully updated public model groups', public_model_groups: groups, updated_by: callerUserId(c) });
});

describeRoute({ method: 'post', path: '/model_hub/update_useful_links', summary: 'Replace the links GET /public/model_hub/info shows', tag: 'models', body: usefulLinksBody });
modelHubRoutes.post('/model_hub/update_useful_links', async (c) => {
  requireProxyAdmin(c, 'update public model groups');
  requireStoreModelInDb(await gatewayState(c.env), c.env);
  const body = await parseBody(c, usefulLinksBody);
  await storeSetting(c, 'public_model_groups_links', body.useful_links);
  await rereadHubSettings(await gatewayState(c.env), c.env, c.executionCtx);
  return c.json({ message: 'Successfully updated useful links', useful_links: body.useful_links, updated_by: callerUserId(c) });
});
