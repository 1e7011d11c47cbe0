/** `/prompts/list`, `/prompts/{id}/versions` and `/prompts/{id}` (`/info`): the reads, secrets masked; a key listing prompts in its metadata reads those only. */
import { desc } from 'drizzle-orm';
import { Hono } from 'hono';
import { promptTable, type PromptRow } from '../../../drizzle/schema/prompts.ts';
import { storedRowsIfAny } from '../../../worker/db/pg-code.ts';
import { GatewayError } from '../../../worker/errors.ts';
import type { PromptSpec } from '../../../worker/prompts/schema.ts';
import { versionedId } from '../../../worker/prompts/stored-ids.ts';
import { gatewayState, type GatewayState } from '../../../worker/state.ts';
import { isProxyAdmin } from '../../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../../lib/context.ts';
import { describeRoute } from '../../lib/openapi.ts';
import { badRequest, notFound } from '../../lib/validation.ts';
import { configPrompt, db } from './lookup.ts';
import { namedVersions, openedParams, promptVersions } from './rows.ts';
import { configSpec, rawTemplate, storedSpec } from './shown.ts';

export const promptReadRoutes = new Hono<AdminBindings>();

/** The prompt ids the calling key's metadata `prompts` lists, or undefined when it lists none. */
function keyPrompts(c: AdminContext): string[] | undefined {
  const caller = c.get('caller');
  const listed = caller.kind === 'key' ? caller.policy.metadata?.prompts : undefined;
  return Array.isArray(listed) ? listed.filter((p): p is string => typeof p === 'string') : undefined;
}

type Found = { config: PromptSpec } | { row: PromptRow };

/**
 * A prompt by the id an answer shows: config.yaml's, a stored version (`<id>.v<n>`), or a stored prompt's latest
 * version; without a database (or before 0014) only config.yaml's, so another id is not found rather than a failure.
 */
async function findPrompt(c: AdminContext, state: GatewayState, id: string): Promise<Found | undefined> {
  const configured = configPrompt(state, id);
  if (configured) return { config: configured };
  const versioned = versionedId(id);
  const [row] = await storedRowsIfAny(c.env, () => (versioned ? promptVersions(db(c), versioned.base, versioned.version) : promptVersions(db(c), id)), []);
  return row && { row };
}

async function shown(c: AdminContext, state: GatewayState, found: Found) {
  return 'config' in found ? configSpec(found.config) : storedSpec(found.row, await openedParams(c, state, found.row));
}

/** config.yaml's prompts and the latest version of every stored one. */
async function latestPrompts(c: AdminContext, state: GatewayState) {
  const rows = await storedRowsIfAny(c.env, () => db(c).selectDistinctOn([promptTable.prompt_id]).from(promptTable).orderBy(promptTable.prompt_id, desc(promptTable.version)), []);
  return [...(state.config.prompts ?? []).map(configSpec), ...await Promise.all(rows.map(async (row) => storedSpec(row, await openedParams(c, state, row))))];
}

describeRoute({ method: 'get', path: '/prompts/list', summary: "The latest version of every prompt (config.yaml's and stored), secrets masked; a key listing prompts in its metadata gets those", tag: 'prompts' });
promptReadRoutes.get('/prompts/list', async (c) => {
  const state = await gatewayState(c.env);
  const listed = keyPrompts(c);
  if (listed) {
    // config.yaml's from the config, the stored ones in one read, in the order the key lists them.
    const stored = listed.filter((id) => !configPrompt(state, id));
    const rows = stored.length ? await storedRowsIfAny(c.env, () => namedVersions(db(c), stored), new Map<string, PromptRow>()) : new Map<string, PromptRow>();
    const found = listed.map((id): Found | undefined => {
      const configured = configPrompt(state, id);
      const row = rows.get(id);
      return configured ? { config: configured } : row && { row };
    });
    return c.json({ prompts: await Promise.all(found.filter((f) => f !== undefined).map((f) => shown(c, state, f))) });
  }
  return c.json({ prompts: isProxyAdmin(c) ? await latestPrompts(c, state) : [] });
});

describeRoute({ method: 'get', path: '/prompts/:prompt_id/versions', summary: 'Every version of a prompt, newest first', tag: 'prompts' });
promptReadRoutes.get('/prompts/:prompt_id/versions', async (c) => {
  if (!isProxyAdmin(c)) throw new GatewayError('Only proxy admins can view prompt versions', { status: 403, type: 'auth_error' });
  const state = await gatewayState(c.env);
  const id = c.req.param('prompt_id');
  const base = versionedId(id)?.base ?? id;
  const configured = configPrompt(state, base);
  const rows = await storedRowsIfAny(c.env, () => promptVersions(db(c), base), []);
  const prompts = [...(configured ? [configSpec(configured)] : []), ...await Promise.all(rows.map(async (row) => storedSpec(row, await openedParams(c, state, row))))];
  if (!prompts.length) throw notFound(`No versions found for prompt ID ${base}`);
  return c.json({ prompts });
});

describeRoute({ method: 'get', path: '/prompts/:prompt_id/info', summary: "A prompt (`<id>.v<n>` for one stored version) and its dotprompt template, secrets masked", tag: 'prompts' });
describeRoute({ method: 'get', path: '/prompts/:prompt_id', summary: 'The same as /prompts/{prompt_id}/info', tag: 'prompts' });
for (const path of ['/prompts/:prompt_id/info', '/prompts/:prompt_id']) {
  promptReadRoutes.get(path, async (c) => {
    const id = c.req.param('prompt_id') as string;
    const listed = keyPrompts(c);
    // LiteLLM's answers: a key listing other prompts is told this one is not found; anyone else but an admin is refused.
    if (listed && !listed.includes(id)) throw badRequest(`Prompt ${id} not found`);
    if (!isProxyAdmin(c) && !listed) {
      throw new GatewayError(`You are not authorized to access this prompt. Your role - ${c.get('role')}, Your key's prompts - None`, { status: 403, type: 'auth_error' });
    }
    const state = await gatewayState(c.env);
    const found = await findPrompt(c, state, id);
    if (!found) throw badRequest(`Prompt ${id} not found`);
    const spec = await shown(c, state, found);
    const bare = 'config' in found ? found.config.prompt_id : found.row.prompt_id;
    // The template's fields are never sealed (only the secret fields are): read from the row as stored.
    const template = rawTemplate(bare, 'config' in found ? found.config.litellm_params : found.row.litellm_params);
    return c.json({ prompt_spec: spec, raw_prompt_template: template, environments: [spec.environment] });
  });
}
