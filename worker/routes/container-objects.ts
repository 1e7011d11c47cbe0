import { z } from 'zod';
import type { Caller } from '../auth/authenticate.ts';
import { GatewayError } from '../errors.ts';
import { authorizeModel } from '../models/access.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';
import { decodeObjectId } from '../providers/object-ids.ts';
import { SAFE_ID } from '../providers/response-ids.ts';
import type { GatewayState } from '../state.ts';
import { type Ctx, homeOf, homeOfId, type ObjectHome, sameAccount } from './provider-objects.ts';
import { objectOf, unreadable } from './vector-store-objects.ts';
import { videoHome } from './video-objects.ts';

/**
 * OpenAI's containers (code interpreter sessions) as the client sends and sees them: which deployment's
 * account keeps one, the create request, the price of its session, and the ids it answers with (the
 * container's, the gateway's signed for the caller; a container file's own `cfile_` id stays the
 * provider's, reached only under its container's gateway id).
 */

/** Providers that serve OpenAI's Containers API: OpenAI's `/v1/containers`, Azure OpenAI's `/openai/v1/containers`. */
const CONTAINER_PROVIDERS = new Set(['openai', 'azure']);


/** LiteLLM's routing fields: they name the account and stay here. */
const routing = {
  model: z.string().optional(),
  target_model_names: z.union([z.string(), z.array(z.string())]).optional(),
  custom_llm_provider: z.string().optional(),
};

export const createContainerSchema = z.object({
  name: z.string(),
  expires_after: z.object({ anchor: z.string(), minutes: z.number().int() }).passthrough().optional(),
  file_ids: z.array(z.string().min(1)).max(500).optional(),
  memory_limit: z.enum(['1g', '4g', '16g', '64g']).optional(),
  network_policy: z.record(z.string(), z.unknown()).optional(),
  skills: z.array(z.unknown()).optional(),
  ...routing,
});
export type ContainerRequest = z.infer<typeof createContainerSchema>;

export const containerFileSchema = z.object({ file_id: z.string().min(1), ...routing });

/**
 * Skills a create names by id are the account's, made outside the gateway (no owner to check): a key's
 * container takes inline skills only, the master key's any.
 */
export function checkSkills(caller: Caller, skills: unknown[] | undefined): void {
  if (caller.kind === 'master' || !skills) return;
  skills.forEach((skill, i) => {
    const named = typeof skill === 'object' && skill !== null && ((skill as { type?: unknown }).type === 'skill_reference' || 'skill_id' in skill);
    if (named) {
      throw new GatewayError(`skills.${i} names a skill the provider stores, which a virtual key may not reach through the gateway (it keeps no record of their owners): send the skill inline`, {
        status: 400, type: 'invalid_request_error', param: `skills.${i}`,
      });
    }
  });
}

/** The one model group LiteLLM's `target_model_names` names (a comma list, or an array), else a 400. */
export function targetGroup(value: unknown): string | undefined {
  const names = (Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : []).map((n) => String(n).trim()).filter(Boolean);
  if (names.length > 1) {
    throw new GatewayError('target_model_names (one container in several providers\' accounts) must name one model group here', {
      status: 400, type: 'invalid_request_error', param: 'target_model_names',
    });
  }
  return names[0];
}

/** Whether a deployment's provider keeps containers. */
export const keepsContainers = (d: DeploymentRef) => CONTAINER_PROVIDERS.has(d.provider);

/** A home whose requests reach the provider's Containers API (Azure's is under its v1 API, as videos are). */
export const containerHome = (home: ObjectHome): ObjectHome => videoHome(home);

/**
 * The deployment of a model group whose account keeps its containers: its first `openai/` or `azure/` one, for
 * a caller that may call the group; a 400 naming what is missing otherwise.
 */
export function containerHomeOfGroup(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, group: string | undefined): ObjectHome {
  if (!group) {
    throw new GatewayError('Name the model group whose provider account keeps the container: the `model` field, the `model` query parameter, the `x-litellm-model` header or `target_model_names`', {
      status: 400, type: 'invalid_request_error', param: 'model',
    });
  }
  authorizeModel(caller, group, catalog);
  const deployment = catalog.groups.get(group)?.find(keepsContainers);
  if (!deployment) {
    throw new GatewayError(`Model group ${group} has no deployment whose provider keeps containers (openai/ or azure/)`, { status: 400, type: 'invalid_request_error', param: 'model' });
  }
  return containerHome(homeOf(c, state, caller, deployment));
}

/** The provider's id of a file the request names for a container of `home`'s account: the caller's own, else the 404 of an unknown file (a 400 for another account). */
export function containerFileId(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, home: ObjectHome, id: string, param: string): string {
  // The master key may name a provider's own id: it is in the container's account.
  if (caller.kind === 'master' && !decodeObjectId('file', id) && SAFE_ID.test(id)) return id;
  const file = homeOfId(c, state, caller, catalog, 'file', id);
  if (!sameAccount(file.home.deployment, home.deployment)) {
    throw new GatewayError(`File ${id.slice(0, 200)} is in another provider account than the container (model group ${home.deployment.group}'s): upload it through a model group of that account`, {
      status: 400, type: 'invalid_request_error', param,
    });
  }
  return file.upstreamId;
}

/** A container (or its deletion) as shown: the gateway's id. */
export function shownContainer(home: ObjectHome, answer: unknown): Record<string, unknown> & { id: string } {
  const container = objectOf(answer, 'a container');
  if (typeof container.id !== 'string' || container.id === '') throw unreadable('a container without an id');
  return { ...container, id: home.idFor('container', container.id) };
}

/** The route's container, as the provider and the client name it. */
export interface ContainerIds {
  home: ObjectHome;
  upstreamId: string;
  clientId: string;
}

/** A container file (or its deletion) as shown: its `container_id` the client's (another container's is a 502). */
export function shownContainerFile(ids: ContainerIds, answer: unknown): Record<string, unknown> {
  const file = objectOf(answer, 'a container file');
  if (!('container_id' in file)) return file;
  if (file.container_id !== ids.upstreamId) throw unreadable('a container file with another container\'s id');
  return { ...file, container_id: ids.clientId };
}

/** A page of a container's files, each as shown. */
export function shownContainerFiles(ids: ContainerIds, answer: unknown): Record<string, unknown> {
  const page = objectOf(answer, 'a page of container files');
  if (!Array.isArray(page.data)) throw unreadable('a page of container files');
  return { ...page, data: page.data.map((file) => shownContainerFile(ids, file)) };
}
