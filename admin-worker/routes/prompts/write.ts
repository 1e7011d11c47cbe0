/** `POST /prompts`, and `PUT`, `PATCH` and `DELETE /prompts/{id}`: the writes, a proxy admin's only, secrets sealed and audited masked. */
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { promptTable, type PromptRow } from '../../../drizzle/schema/prompts.ts';
import { GatewayError } from '../../../worker/errors.ts';
import type { Json } from '../../../worker/json.ts';
import { versionedId } from '../../../worker/prompts/stored-ids.ts';
import { gatewayState, type GatewayState } from '../../../worker/state.ts';
import { isProxyAdmin } from '../../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { badRequest, notFound, parseBody } from '../../lib/validation.ts';
import { actorName, commit } from '../principals/mutation.ts';
import { configPrompt, db } from './lookup.ts';
import { insertNextVersion, lockPrompt, openedParams, paramsToStore, promptVersions, TABLE } from './rows.ts';
import { withSecretsTakenBack } from './sent-back.ts';
import { storedSpec } from './shown.ts';

export const promptWriteRoutes = new Hono<AdminBindings>();

const promptId = z.string({ error: 'expected a string' }).trim().min(1, 'must not be empty').max(256, 'at most 256 characters')
  .refine((id) => !id.includes('/'), 'must not contain "/"');
const params = z.record(z.string(), z.unknown(), { error: 'expected an object' });
const info = z.record(z.string(), z.unknown(), { error: 'expected an object' }).nullish();
const newPromptBody = z.object({ prompt_id: promptId, litellm_params: params, prompt_info: info });
/** A PUT's prompt_id, if any, is the path's: LiteLLM ignores it too. */
const putPromptBody = z.object({ prompt_id: z.string().optional(), litellm_params: params, prompt_info: info });
const patchPromptBody = z.object({ litellm_params: params.nullish(), prompt_info: info });

/** LiteLLM's 403 for a write by anyone but a proxy admin. */
function requireAdmin(c: AdminContext, verb: string): void {
  if (!isProxyAdmin(c)) throw new GatewayError(`Only proxy admins can ${verb} prompts`, { status: 403, type: 'auth_error' });
}

describeRoute({ method: 'post', path: '/prompts', summary: "Store a prompt's next version (1 for a new one); litellm_params as config.yaml's prompts take them, secrets sealed", tag: 'prompts', body: newPromptBody });
promptWriteRoutes.post('/prompts', async (c) => {
  requireAdmin(c, 'create');
  const body = await parseBody(c, newPromptBody);
  const state = await gatewayState(c.env);
  if (configPrompt(state, body.prompt_id)) throw badRequest(`Prompt ${body.prompt_id} is one of config.yaml's prompts; change it there`, 'prompt_id');
  const [latest] = await promptVersions(db(c), body.prompt_id);
  if (!latest && body.prompt_id.includes('.v')) {
    throw badRequest(`prompt_id "${body.prompt_id}" contains ".v": LiteLLM reads a stored prompt's id up to its first ".v" as the prompt and the rest as a version, so a database shared with LiteLLM would mistake it; choose an id without ".v"`, 'prompt_id');
  }
  return c.json(await storeVersion(c, state, body.prompt_id, body.litellm_params, body.prompt_info, latest, false));
});

/** config.yaml's prompts (by the id, or the prompt a `<id>.v<n>` names) change only there: LiteLLM's 400. */
function refuseConfigPrompt(state: GatewayState, id: string, verb: 'update' | 'delete'): void {
  if (configPrompt(state, id) || configPrompt(state, versionedId(id)?.base ?? id)) throw badRequest(`Cannot ${verb} config prompts.`, 'prompt_id');
}

describeRoute({ method: 'put', path: '/prompts/:prompt_id', summary: "Store a new version of a stored prompt (`<id>.v<n>` names its prompt)", tag: 'prompts', body: putPromptBody });
promptWriteRoutes.put('/prompts/:prompt_id', async (c) => {
  requireAdmin(c, 'update');
  const id = c.req.param('prompt_id');
  const base = versionedId(id)?.base ?? id;
  const state = await gatewayState(c.env);
  refuseConfigPrompt(state, id, 'update');
  const body = await parseBody(c, putPromptBody);
  const [latest] = await promptVersions(db(c), base);
  if (!latest) throw notFound(`Prompt with ID ${base} not found`);
  return c.json(await storeVersion(c, state, base, body.litellm_params, body.prompt_info, latest, true));
});

/** Writes `id`'s next version; a secret sent back masked is `latest`'s. With `mustExist` (a PUT), a prompt deleted meanwhile is a 404. */
async function storeVersion(c: AdminContext, state: GatewayState, id: string, given: Json, promptInfo: Json | null | undefined, latest: PromptRow | undefined, mustExist: boolean) {
  const opened = withSecretsTakenBack(given, latest && await openedParams(c, state, latest));
  const stored = await paramsToStore(c, state, id, opened, promptInfo);
  const row = { prompt_id: id, litellm_params: stored, prompt_info: { ...promptInfo, prompt_type: 'db' }, created_by: actorName(c) };
  const inserted = await insertNextVersion(c, row, async (_tx, changes, written) => {
    await changes.audit({ action: 'created', table: TABLE, objectId: written.id, after: storedSpec(written, opened) });
  }, mustExist ? async (tx) => {
    if (!(await promptVersions(tx, id)).length) throw notFound(`Prompt with ID ${id} not found`);
  } : undefined);
  return storedSpec(inserted, opened);
}

describeRoute({ method: 'patch', path: '/prompts/:prompt_id', summary: "Change one stored version in place (`<id>.v<n>`, or a bare id's latest): its litellm_params and/or prompt_info", tag: 'prompts', body: patchPromptBody });
promptWriteRoutes.patch('/prompts/:prompt_id', async (c) => {
  requireAdmin(c, 'patch');
  const id = c.req.param('prompt_id');
  const versioned = versionedId(id);
  const state = await gatewayState(c.env);
  refuseConfigPrompt(state, id, 'update');
  const body = await parseBody(c, patchPromptBody);
  const updated = await commit(c, async (tx, changes) => {
    await lockPrompt(tx, versioned?.base ?? id);
    const [row] = versioned ? await promptVersions(tx, versioned.base, versioned.version, { lock: true }) : await promptVersions(tx, id, undefined, { lock: true });
    if (!row) throw notFound(`Prompt with ID ${id} not found`);
    const before = await openedParams(c, state, row);
    const promptInfo = body.prompt_info === undefined || body.prompt_info === null ? row.prompt_info : { ...body.prompt_info, prompt_type: 'db' };
    const opened = body.litellm_params ? withSecretsTakenBack(body.litellm_params, before) : before;
    // Unchanged params are kept as stored (sealed secrets that may not open here stay as they are).
    const stored = body.litellm_params ? await paramsToStore(c, state, row.prompt_id, opened, promptInfo) : row.litellm_params;
    const [written] = await tx.update(promptTable).set({ litellm_params: stored, prompt_info: promptInfo, updated_at: new Date() }).where(eq(promptTable.id, row.id)).returning();
    await changes.audit({ action: 'updated', table: TABLE, objectId: row.id, before: storedSpec(row, before), after: storedSpec(written!, opened) });
    return storedSpec(written!, opened);
  });
  return c.json(updated);
});

describeRoute({ method: 'delete', path: '/prompts/:prompt_id', summary: 'Delete a stored prompt: `<id>.v<n>` that version, a bare id every version', tag: 'prompts' });
promptWriteRoutes.delete('/prompts/:prompt_id', async (c) => {
  requireAdmin(c, 'delete');
  const id = c.req.param('prompt_id');
  const versioned = versionedId(id);
  const state = await gatewayState(c.env);
  refuseConfigPrompt(state, id, 'delete');
  await commit(c, async (tx, changes) => {
    await lockPrompt(tx, versioned?.base ?? id);
    const rows = versioned ? await promptVersions(tx, versioned.base, versioned.version) : await promptVersions(tx, id);
    if (!rows.length) throw notFound(`Prompt with ID ${id} not found`);
    for (const row of rows) {
      const [gone] = await tx.delete(promptTable).where(eq(promptTable.id, row.id)).returning();
      if (gone) await changes.audit({ action: 'deleted', table: TABLE, objectId: row.id, before: storedSpec(row, await openedParams(c, state, row)) });
    }
  });
  return c.json({ message: `Prompt ${id} deleted successfully` });
});
