/**
 * `/tag/*`, LiteLLM's tag management: tags with a description, the models
 * they name, and a budget row. A tag whose budget sets `max_budget` holds
 * every call carrying it (the gateway's budget routing, limits/router-budgets.ts),
 * as `tag_budget_config` does. A call's tags are its body's `tags` /
 * `metadata.tags`, its `x-litellm-tags` header, its key's and team's tags and
 * its deployment's (proxy/call-context.ts callTags).
 */
import { Hono } from 'hono';
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { type BudgetRow, budgets, type TagRow, tags } from '../../drizzle/schema/budgets.ts';
import { currentCatalog } from '../../worker/models/catalog.ts';
import { TAG_PREFIX } from '../../worker/limits/router-budgets.ts';
import { gatewayState } from '../../worker/state.ts';
import { requireAdminReader, requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { describeRoute } from '../lib/openapi.ts';
import { budgetJson, type Json } from '../lib/serialize.ts';
import { badRequest, notFound, parseBody } from '../lib/validation.ts';
import { assertOneBudgetSource, budgetFields, budgetPatch, budgetTimeZone, hasBudgetFields, MONEY_FIELDS, newBudgetLink, updatedBudgetLink } from './budgets/rows.ts';
import { assertNonNegative } from './principals/fields.ts';
import { actorName, commit } from './principals/mutation.ts';
import { anyOf } from './principals/sql.ts';

export const tagsRoutes = new Hono<AdminBindings>();

const TABLE = 'LiteLLM_TagTable';
const name = z.string({ error: 'expected a string' }).trim().min(1, 'must not be empty').max(128, 'at most 128 characters');
const tagFields = {
  description: z.string({ error: 'expected a string' }).nullish(),
  /** Model ids or model group names (LiteLLM's): with tag-based routing they carry the tag (router/eligible-deployments.ts). */
  models: z.array(z.string({ error: 'expected a string' }), { error: 'expected a list of model ids or names' }).nullish(),
  /** An existing budget to link; or give budget fields, and a budget row is created for the tag. */
  budget_id: z.string({ error: 'expected a string' }).min(1).nullish(),
  ...budgetFields,
};
const newTagBody = z.object({ name, ...tagFields });
const updateTagBody = z.object({ name, ...tagFields });
const tagInfoBody = z.object({ names: z.array(name, { error: 'expected a list of tag names' }).min(1, 'at least one tag name') });
const deleteTagBody = z.object({ name });

const tagNotFound = (tag: string) => notFound(`Tag ${tag} not found`);

/** The models a tag names, by id, with their model group names (LiteLLM's `model_info`). */
async function modelInfo(c: AdminContext, models: readonly string[]): Promise<Record<string, string>> {
  if (!models.length) return {};
  const catalog = await currentCatalog(await gatewayState(c.env), c.env, c.executionCtx);
  const names: Record<string, string> = {};
  for (const deployments of catalog.groups.values()) {
    for (const d of deployments) if (models.includes(d.id)) names[d.id] = d.group;
  }
  return names;
}

function tagJson(row: TagRow, budget?: BudgetRow | null): Json {
  return {
    name: row.tag_name,
    description: row.description,
    models: row.models,
    model_info: row.model_info ?? {},
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    created_by: row.created_by,
    // What the calls carrying the tag have spent (in its budget's window, reset with it), as the spend-log consumer counts it.
    spend: row.spend,
    budget_id: row.budget_id,
    ...(budget ? { litellm_budget_table: budgetJson(budget) } : {}),
  };
}

describeRoute({ method: 'post', path: '/tag/new', summary: 'Create a tag, with a budget (max_budget, budget_duration) or a link to one', tag: 'tag management', body: newTagBody });
tagsRoutes.post('/tag/new', async (c) => {
  requireProxyAdmin(c, 'create tags');
  const body = await parseBody(c, newTagBody);
  assertNonNegative(body, MONEY_FIELDS);
  const inline = hasBudgetFields(body);
  assertOneBudgetSource(body, inline);
  const timeZone = await budgetTimeZone(c);
  const info = await modelInfo(c, body.models ?? []);
  const duplicate = () => badRequest(`Tag ${body.name} already exists`, 'name');
  const row = await commit(c, async (tx, changes) => {
    const [existing] = await tx.select({ name: tags.tag_name }).from(tags).where(eq(tags.tag_name, body.name)).limit(1);
    if (existing) throw duplicate();
    const budgetId = await newBudgetLink(tx, changes, body, inline ? budgetPatch(body, timeZone) : undefined, actorName(c));
    const [created] = await tx.insert(tags).values({
      tag_name: body.name, description: body.description ?? null, models: body.models ?? [], model_info: info,
      budget_id: budgetId, created_by: actorName(c), updated_by: actorName(c),
    }).returning() as [TagRow];
    await changes.audit({ action: 'created', table: TABLE, objectId: created.tag_name, after: tagJson(created) });
    changes.refresh('global', TAG_PREFIX + created.tag_name);
    return created;
  }, { onDuplicate: duplicate });
  return c.json({ message: `Tag ${body.name} created successfully`, tag: tagJson(row) });
});

describeRoute({ method: 'post', path: '/tag/update', summary: 'Update a tag: description, models, its budget (only the given fields)', tag: 'tag management', body: updateTagBody });
tagsRoutes.post('/tag/update', async (c) => {
  requireProxyAdmin(c, 'update tags');
  const body = await parseBody(c, updateTagBody);
  assertNonNegative(body, MONEY_FIELDS);
  const budgetValues = budgetPatch(body, await budgetTimeZone(c));
  const info = body.models ? await modelInfo(c, body.models) : undefined;
  const row = await commit(c, async (tx, changes) => {
    const [existing] = await tx.select().from(tags).where(eq(tags.tag_name, body.name)).for('update');
    if (!existing) throw tagNotFound(body.name);
    const patch: Partial<TagRow> = { updated_by: actorName(c), updated_at: new Date() };
    if (body.description !== undefined) patch.description = body.description;
    if (body.models !== undefined) {
      patch.models = body.models ?? [];
      patch.model_info = info ?? {};
    }
    const link = await updatedBudgetLink(tx, changes, body, existing.budget_id, budgetValues, actorName(c));
    if (link !== undefined) patch.budget_id = link;
    const [updated] = await tx.update(tags).set(patch).where(eq(tags.tag_name, existing.tag_name)).returning() as [TagRow];
    await changes.audit({ action: 'updated', table: TABLE, objectId: updated.tag_name, before: tagJson(existing), after: tagJson(updated) });
    changes.refresh('global', TAG_PREFIX + updated.tag_name);
    return updated;
  });
  return c.json({ message: `Tag ${body.name} updated successfully`, tag: tagJson(row) });
});

describeRoute({ method: 'post', path: '/tag/info', summary: 'Tags by name, each with its budget', tag: 'tag management', body: tagInfoBody });
tagsRoutes.post('/tag/info', async (c) => {
  requireAdminReader(c, 'view tags');
  const { names } = await parseBody(c, tagInfoBody);
  const rows = await c.get('db')().db.select({ tag: tags, budget: budgets }).from(tags)
    .leftJoin(budgets, eq(budgets.budget_id, tags.budget_id)).where(anyOf(tags.tag_name, names));
  const missing = names.filter((n) => !rows.some((r) => r.tag.tag_name === n));
  if (missing.length) throw notFound(`Tags not found: [${missing.map((n) => `'${n}'`).join(', ')}]`);
  return c.json(Object.fromEntries(rows.map(({ tag, budget }) => [tag.tag_name, tagJson(tag, budget)])));
});

describeRoute({ method: 'get', path: '/tag/list', summary: 'Every tag: those created with /tag/new (with budgets), then the tags calls carried', tag: 'tag management' });
tagsRoutes.get('/tag/list', async (c) => {
  requireAdminReader(c, 'view tags');
  const { db, pool } = c.get('db')();
  const stored = await db.select({ tag: tags, budget: budgets }).from(tags).leftJoin(budgets, eq(budgets.budget_id, tags.budget_id)).orderBy(asc(tags.tag_name));
  const names = new Set(stored.map((r) => r.tag.tag_name));
  // Tags only ever passed in requests, from the daily tag rollups, as LiteLLM lists them.
  const { rows } = await pool.query<{ tag: string; created_at: Date; updated_at: Date }>(
    'SELECT tag, MIN(created_at) AS created_at, MAX(updated_at) AS updated_at FROM "LiteLLM_DailyTagSpend" WHERE tag IS NOT NULL GROUP BY tag ORDER BY tag');
  const dynamic = rows.filter((r) => !names.has(r.tag)).map((r) => ({
    name: r.tag,
    description: 'This is just a spend tag that was passed dynamically in a request. It does not control any LLM models.',
    models: null,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  }));
  return c.json([...stored.map(({ tag, budget }) => tagJson(tag, budget)), ...dynamic]);
});

describeRoute({ method: 'post', path: '/tag/delete', summary: 'Delete a tag (its budget row stays; calls carrying it are no longer held to it)', tag: 'tag management', body: deleteTagBody });
tagsRoutes.post('/tag/delete', async (c) => {
  requireProxyAdmin(c, 'delete tags');
  const { name: tag } = await parseBody(c, deleteTagBody);
  await commit(c, async (tx, changes) => {
    const [existing] = await tx.select().from(tags).where(eq(tags.tag_name, tag)).for('update');
    if (!existing) throw tagNotFound(tag);
    await tx.delete(tags).where(eq(tags.tag_name, tag));
    await changes.audit({ action: 'deleted', table: TABLE, objectId: tag, before: tagJson(existing) });
    changes.refresh('global', TAG_PREFIX + tag);
  });
  return c.json({ message: `Tag ${tag} deleted successfully` });
});
