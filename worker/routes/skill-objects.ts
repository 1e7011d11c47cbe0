import type { Caller } from '../auth/authenticate.ts';
import { GatewayError } from '../errors.ts';
import { authorizeModel } from '../models/access.ts';
import { type DeploymentRef, deploymentById, type ModelCatalog } from '../models/deployments.ts';
import { anthropicTarget, betaHeader } from '../providers/anthropic/api.ts';
import { LABEL, upstreamError } from '../providers/anthropic/errors.ts';
import { decodeObjectId, managedObjectId } from '../providers/object-ids.ts';
import { connectionError, timeoutError } from '../providers/openai-compatible/errors.ts';
import { ownsResponse, responseOwner, SAFE_ID } from '../providers/response-ids.ts';
import type { ObjectRequest } from '../providers/types.ts';
import { requestTimeoutMs } from '../proxy/call-helpers.ts';
import { deploymentWithSecrets, READS_SECRETS } from '../secrets/resolve.ts';
import type { GatewayState } from '../state.ts';
import { type Ctx, namedGroup, type ObjectHome } from './provider-objects.ts';
import { objectOf, unreadable } from './vector-store-objects.ts';

/**
 * Anthropic's Skills API (LiteLLM's `/v1/skills` routes, its `anthropic_routes`) in the provider account of a
 * model group's `anthropic/` deployment. A custom skill's id is the gateway's, naming its deployment and its
 * owner, signed (object-ids.ts): only the owner (or the master key) reads it, versions it, deletes it or names
 * it in a /v1/messages call. Anthropic's own prebuilt skills (`xlsx`, `pptx`, ...) are nobody's and keep their ids.
 */

/** The beta Anthropic asks for on every Skills API request, sent whether the client named it or not. */
export const SKILLS_BETA = 'skills-2025-10-02';

/** Whether a deployment's account keeps skills: Anthropic's own API. */
export const keepsSkills = (d: DeploymentRef) => d.provider === 'anthropic';

/**
 * The home of an `anthropic/` deployment for the Skills API: requests go to `{api_base}/v1/{path}` with the
 * deployment's key (a secret manager's read first), `anthropic-version`, and the skills beta joined to the
 * deployment's and the client's `anthropic-beta`.
 */
export function skillHome(c: Ctx, state: GatewayState, caller: Caller, deployment: DeploymentRef): ObjectHome {
  const owner = { owner: responseOwner(caller), key: state.responseIdKey };
  const timeoutMs = requestTimeoutMs(state.config);
  const env = c.env as unknown as Record<string, unknown>;
  const clientBeta = c.req.header('anthropic-beta');
  return {
    deployment,
    send: (request) => sendToSkills({ ...request, deployment, env, timeoutMs }, clientBeta),
    idFor: (kind, upstreamId) => managedObjectId(kind, upstreamId, deployment, owner),
  };
}

async function sendToSkills(request: ObjectRequest, clientBeta: string | undefined): Promise<Response> {
  const deployment = READS_SECRETS ? await deploymentWithSecrets(request.deployment, request.env) : request.deployment;
  const target = anthropicTarget(deployment, request.env);
  const url = new URL(target.url);
  url.pathname = url.pathname.replace(/messages$/, request.path);
  for (const [name, value] of request.query) url.searchParams.append(name, value);
  const headers: Record<string, string> = { accept: 'application/json', ...target.headers };
  headers['anthropic-beta'] = betaHeader([target.headers['anthropic-beta'], SKILLS_BETA].filter(Boolean).join(','), clientBeta)!;
  if (request.contentType) headers['content-type'] = request.contentType;
  const signal = AbortSignal.timeout(request.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { method: request.method, headers, ...(request.body !== undefined ? { body: request.body } : {}), signal });
  } catch (err) {
    throw signal.aborted ? timeoutError(LABEL, 'anthropic', request.timeoutMs) : connectionError(LABEL, 'anthropic', err);
  }
  if (!res.ok) throw await upstreamError(res, [target.secret]);
  return res;
}

/**
 * The skills home of a model group the caller may call: its first `anthropic/` deployment; a 400 naming what is
 * missing otherwise.
 */
export function skillHomeOfGroup(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, group: string | undefined): ObjectHome {
  if (!group) {
    throw new GatewayError('Name the model group whose Anthropic account keeps the skills: the `model` form field, the `model` query parameter or the `x-litellm-model` header', {
      status: 400, type: 'invalid_request_error', param: 'model',
    });
  }
  authorizeModel(caller, group, catalog);
  const deployment = catalog.groups.get(group)?.find(keepsSkills);
  if (!deployment) {
    throw new GatewayError(`Model group ${group} has no deployment whose provider keeps skills (anthropic/)`, { status: 400, type: 'invalid_request_error', param: 'model' });
  }
  return skillHome(c, state, caller, deployment);
}

/**
 * The deployment and provider's id of a skill by the gateway's id, for a caller that owns it and may call its
 * model group; undefined for anyone else's, a forged id, or one whose deployment is gone (all the 404 of an
 * unknown skill). Shared by the routes and by /v1/messages calls naming a skill.
 */
export function ownedSkill(caller: Caller, catalog: ModelCatalog, idKey: string, id: string): { deployment: DeploymentRef; upstreamId: string } | undefined {
  const decoded = decodeObjectId('skill', id);
  if (!decoded || !ownsResponse(caller, decoded, idKey) || !decoded.deploymentId) return undefined;
  const deployment = deploymentById(catalog, decoded.deploymentId, decoded.group ?? '');
  if (!deployment || !keepsSkills(deployment)) return undefined;
  authorizeModel(caller, deployment.group, catalog);
  return { deployment, upstreamId: decoded.upstreamId };
}

/** The 404 of a skill the caller may not see. */
export const noSuchSkill = (id: string, param = 'skill_id') => new GatewayError(`No such skill: ${id.slice(0, 200)}`, { status: 404, type: 'not_found_error', param });

/** The route's skill, as the provider and the client name it. */
export interface SkillIds {
  home: ObjectHome;
  upstreamId: string;
  clientId: string;
}

/**
 * The skill a route names, for its owner; the master key may also name a provider's own id (a skill made
 * outside the gateway) with a model group.
 */
export function skillOfId(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, clientId: string): SkillIds {
  if (caller.kind === 'master' && !decodeObjectId('skill', clientId) && SAFE_ID.test(clientId)) {
    return { home: skillHomeOfGroup(c, state, caller, catalog, namedGroup(c)), upstreamId: clientId, clientId };
  }
  const owned = ownedSkill(caller, catalog, state.responseIdKey, clientId);
  if (!owned) throw noSuchSkill(clientId);
  return { home: skillHome(c, state, caller, owned.deployment), upstreamId: owned.upstreamId, clientId };
}

/** The route's skill; `prebuiltOnly` when a key named a provider's id, shown only if it is one of Anthropic's prebuilt skills. */
export interface ReadSkillIds extends SkillIds {
  prebuiltOnly?: true;
}

/** Anthropic's ids of custom skills (`skill_01...`): never a prebuilt skill's name, so never a key's to read by it. */
const CUSTOM_SKILL_ID = /^skill_/;

/**
 * The skill a read (`GET`) route names: as skillOfId, and for a key also an Anthropic prebuilt skill by its own id
 * (`xlsx`) in the named group's account, as LiteLLM passes such reads through. Such an id is marked
 * `prebuiltOnly`: the route shows what the provider answers only if it is prebuilt (a custom skill of the account
 * is every team's, so the 404 of an unknown id).
 */
export function readSkillOfId(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, clientId: string): ReadSkillIds {
  if (caller.kind !== 'master' && SAFE_ID.test(clientId) && !CUSTOM_SKILL_ID.test(clientId) && !decodeObjectId('skill', clientId)) {
    return { home: skillHomeOfGroup(c, state, caller, catalog, namedGroup(c)), upstreamId: clientId, clientId, prebuiltOnly: true };
  }
  return skillOfId(c, state, caller, catalog, clientId);
}

/** Whether a skill is one of Anthropic's own (`source` a string, or `{type}` in newer answers). */
export function prebuilt(skill: Record<string, unknown>): boolean {
  const source = typeof skill.source === 'object' && skill.source !== null ? (skill.source as { type?: unknown }).type : skill.source;
  return typeof source === 'string' && source.startsWith('anthropic');
}

/** A skill as shown: a custom skill's id the gateway's, for the caller; a prebuilt one's as Anthropic names it. */
export function shownSkill(home: ObjectHome, answer: unknown): Record<string, unknown> {
  const skill = objectOf(answer, 'a skill');
  if (typeof skill.id !== 'string' || skill.id === '') throw unreadable('a skill without an id');
  return prebuilt(skill) ? skill : { ...skill, id: home.idFor('skill', skill.id) };
}

/** A version of the route's skill as shown: its `skill_id` the client's (another skill's is a 502). */
export function shownVersion(ids: SkillIds, answer: unknown): Record<string, unknown> {
  const version = objectOf(answer, 'a skill version');
  if (!('skill_id' in version)) return version;
  if (version.skill_id !== ids.upstreamId) throw unreadable('a skill version of another skill');
  return { ...version, skill_id: ids.clientId };
}
