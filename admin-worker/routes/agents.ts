/**
 * LiteLLM's A2A agent registry (`POST /v1/agents`, `PUT`/`PATCH`/`DELETE /v1/agents/{agent_id}`), proxy admins
 * only: agents stored in LiteLLM_AgentsTable, served by the gateway's `/a2a/{agent_id}` within seconds
 * (worker/a2a/registry.ts; `GET /v1/agents` is the gateway's, from the same list). The agent's credential
 * (`litellm_params.api_key`, any field named like a credential or an auth header, at any depth) is sealed and never returned.
 */
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { type AgentRow, agents } from '../../drizzle/schema/agents.ts';
import { agentUrl, sealAgentParams, withoutCredentials } from '../../worker/a2a/registry.ts';
import { collectEnvRefs } from '../../worker/config/env-ref.ts';
import { GatewayError } from '../../worker/errors.ts';
import { isObject, type Json } from '../../worker/json.ts';
import { isSealed } from '../../worker/models/db-models.ts';
import { isCredentialField } from '../../worker/models/public-params.ts';
import { gatewayState } from '../../worker/state.ts';
import { requireProxyAdmin } from '../lib/auth.ts';
import type { AdminBindings, AdminContext } from '../lib/context.ts';
import { writeKey } from '../lib/crypto.ts';
import { describeRoute } from '../lib/openapi.ts';
import { badRequest, notFound, parseBody } from '../lib/validation.ts';
import { actorName, commit } from './principals/mutation.ts';
import { agentExtraColumns, agentExtraFields, publicAgentExtras } from './agent-extras.ts';
import { refreshLimiter } from '../../worker/limits/client.ts';
import { log } from '../../worker/telemetry/log.ts';

export const agentsRoutes = new Hono<AdminBindings>();

const TABLE = 'LiteLLM_AgentsTable';
const str = z.string({ error: 'expected a string' });
/** An agent's name is in its spend rows' model (`a2a_agent/<name>`) and may name it in the A2A path. */
const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$/;

const agentFields = {
  /** The agent's A2A AgentCard; its `url` is where calls go unless `litellm_params.api_base` says. */
  agent_card_params: z.record(str, z.unknown(), { error: 'expected an object (an A2A AgentCard)' }).optional(),
  /** `api_base` (or `url`), `api_key` (sent as Bearer, stored sealed), `cost_per_query`, ... */
  litellm_params: z.record(str, z.unknown(), { error: 'expected an object' }).optional(),
  agent_access_groups: z.array(str, { error: 'expected a list of strings' }).optional(),
  ...agentExtraFields,
};
const newAgentBody = z.object({ agent_id: z.uuid({ error: 'expected a UUID' }).optional(), agent_name: str, ...agentFields });
const patchAgentBody = z.object({ agent_name: str.optional(), ...agentFields });

/** A row as the API shows it: LiteLLM's AgentResponse, credentials left out. */
function publicAgent(row: AgentRow) {
  return {
    agent_id: row.agent_id, agent_name: row.agent_name, agent_card_params: row.agent_card_params ?? {},
    litellm_params: withoutCredentials(isObject(row.litellm_params) ? row.litellm_params : {}), agent_access_groups: row.agent_access_groups,
    ...publicAgentExtras(row),
    created_at: row.created_at, created_by: row.created_by, updated_at: row.updated_at, updated_by: row.updated_by,
  };
}

const invalid = (param: string, message: string) => new GatewayError(`Invalid request body: ${param}: ${message}`, { status: 422, type: 'validation_error', param });

/** What an agent must be to be served: a name, an http(s) URL to call, a price that is a number of dollars; no `os.environ/` (the gateway reads none here). */
function checkAgent(name: string, card: Json, params: Json): void {
  if (!AGENT_NAME.test(name)) throw invalid('agent_name', 'an agent name is 1-128 letters, digits, _, . or -, starting with a letter or digit');
  if (!agentUrl(params, card)) throw invalid('agent_card_params.url', 'an http(s) URL of the agent is required (agent_card_params.url or litellm_params.api_base)');
  const cost = params.cost_per_query;
  if (cost !== undefined && !(typeof cost === 'number' && Number.isFinite(cost) && cost >= 0)) throw invalid('litellm_params.cost_per_query', 'expected a number of dollars, 0 or more');
  if (collectEnvRefs(params).size || collectEnvRefs(card).size) throw invalid('litellm_params', 'os.environ/ references are not read in agents; give the value');
}

async function writable(c: AdminContext, what: string) {
  requireProxyAdmin(c, what);
  return gatewayState(c.env);
}

/** A name config.yaml's `agent_list` has: that agent is changed there. */
function refuseConfigName(state: Awaited<ReturnType<typeof writable>>, name: string): void {
  if (state.config.agent_list?.some((a) => a.agent_name === name)) throw badRequest(`Agent with name ${name} already exists (in config.yaml's agent_list; change it there)`, 'agent_name');
}

const duplicate = (name: string) => () => badRequest(`Agent with name ${name} already exists`, 'agent_name');

describeRoute({ method: 'post', path: '/v1/agents', summary: 'Add an A2A agent (served at /a2a/{agent_id} within seconds); its api_key is stored sealed', tag: 'agents', body: newAgentBody });
agentsRoutes.post('/v1/agents', async (c) => {
  const state = await writable(c, 'create, update, or delete agents');
  const body = await parseBody(c, newAgentBody);
  const card = (body.agent_card_params ?? {}) as Json;
  const params = (body.litellm_params ?? {}) as Json;
  checkAgent(body.agent_name, card, params);
  refuseConfigName(state, body.agent_name);
  const key = await writeKey(c.env, state.masterKey);
  const sealed = await sealAgentParams(key, params);
  const extras = await agentExtraColumns(key, body, undefined, true);
  const actor = actorName(c);
  const row = await commit(c, async (tx, changes) => {
    const [inserted] = await tx.insert(agents).values({
      ...(body.agent_id ? { agent_id: body.agent_id } : {}), agent_name: body.agent_name, agent_card_params: card, litellm_params: sealed as Json, ...extras,
      agent_access_groups: body.agent_access_groups ?? [], created_by: actor, updated_by: actor,
    }).returning();
    await changes.audit({ action: 'created', table: TABLE, objectId: inserted!.agent_id, after: publicAgent(inserted!) });
    return inserted!;
  }, { onDuplicate: duplicate(body.agent_name) });
  // An agent made again under an id its limiter still knows (deleted, then re-created) holds its limits from the next call.
  await refreshAgentLimiter(c, row.agent_id);
  return c.json(publicAgent(row));
});

/** PUT replaces the agent (fields not given are cleared); PATCH changes only what is given. A stored api_key stays unless replaced. */
async function change(c: AdminContext, replace: boolean) {
  const state = await writable(c, 'create, update, or delete agents');
  const body = await parseBody(c, replace ? newAgentBody.omit({ agent_id: true }) : patchAgentBody);
  const key = await writeKey(c.env, state.masterKey);
  const id = c.req.param('agent_id') ?? '';
  const actor = actorName(c);
  const row = await commit(c, async (tx, changes) => {
    const [existing] = await tx.select().from(agents).where(eq(agents.agent_id, id)).for('update');
    if (!existing) throw notFound(`Agent with ID ${id} not found`);
    const name = body.agent_name ?? existing.agent_name;
    if (name !== existing.agent_name) refuseConfigName(state, name);
    const card = (body.agent_card_params ?? (replace ? {} : existing.agent_card_params ?? {})) as Json;
    const stored = isObject(existing.litellm_params) ? existing.litellm_params : {};
    const given = body.litellm_params as Json | undefined;
    // A stored credential stays unless the change names it (it is never shown, so it cannot be sent back); null removes a field.
    const secrets = Object.fromEntries(Object.entries(stored).filter(([field, value]) => isCredentialField(field, value) || isSealed(value)));
    const merged: Json = given === undefined ? stored : replace ? { ...secrets, ...given } : { ...stored, ...given };
    const kept = Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== null));
    checkAgent(name, card, kept);
    const [updated] = await tx.update(agents).set({
      agent_name: name, agent_card_params: card, litellm_params: await sealAgentParams(key, kept) as Json, ...await agentExtraColumns(key, body, existing, replace),
      agent_access_groups: body.agent_access_groups ?? (replace ? [] : existing.agent_access_groups), updated_by: actor, updated_at: new Date(),
    }).where(eq(agents.agent_id, id)).returning();
    await changes.audit({ action: 'updated', table: TABLE, objectId: id, before: publicAgent(existing), after: publicAgent(updated!) });
    return updated!;
  }, { onDuplicate: duplicate(body.agent_name ?? '') });
  await refreshAgentLimiter(c, row.agent_id);
  return c.json(publicAgent(row));
}

/** A new, changed (or deleted) agent's limits reach its limiter object at once, not at its next policy read (a minute). */
async function refreshAgentLimiter(c: AdminContext, id: string): Promise<void> {
  await refreshLimiter(c.env, 'agent', id).catch((err: unknown) => log.error(`agent ${id}: limiter refresh failed:`, err instanceof Error ? err.message : String(err)));
}

describeRoute({ method: 'put', path: '/v1/agents/:agent_id', summary: 'Replace a stored A2A agent (a stored api_key stays unless given)', tag: 'agents', body: newAgentBody });
agentsRoutes.put('/v1/agents/:agent_id', (c) => change(c, true));
describeRoute({ method: 'patch', path: '/v1/agents/:agent_id', summary: 'Change the given fields of a stored A2A agent (litellm_params merge one by one)', tag: 'agents', body: patchAgentBody });
agentsRoutes.patch('/v1/agents/:agent_id', (c) => change(c, false));

describeRoute({ method: 'delete', path: '/v1/agents/:agent_id', summary: 'Delete a stored A2A agent', tag: 'agents' });
agentsRoutes.delete('/v1/agents/:agent_id', async (c) => {
  await writable(c, 'create, update, or delete agents');
  const id = c.req.param('agent_id');
  await commit(c, async (tx, changes) => {
    const [deleted] = await tx.delete(agents).where(eq(agents.agent_id, id)).returning();
    if (!deleted) throw notFound(`Agent with ID ${id} not found in DB.`);
    await changes.audit({ action: 'deleted', table: TABLE, objectId: id, before: publicAgent(deleted) });
  });
  await refreshAgentLimiter(c, id);
  return c.json({ message: `Agent ${id} deleted successfully` });
});
