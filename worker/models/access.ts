import type { Caller } from '../auth/authenticate.ts';
import { GatewayError } from '../errors.ts';
import type { ModelCatalog } from './deployments.ts';
import { jwtModelAllowed, modelAccessDenied } from '../auth/jwt-permissions.ts';

/** LiteLLM's name for "whatever the key's team may call". */
const ALL_TEAM_MODELS = 'all-team-models';

/**
 * Whether a list of allowed models admits `group`: `[]` means all, `*` too,
 * an access-group name admits its members, `openai/*`-style wildcards admit
 * the groups they match.
 */
export function listAllows(allowed: readonly string[], group: string, catalog: ModelCatalog): boolean {
  if (allowed.length === 0) return true;
  for (const entry of allowed) {
    if (entry === group || entry === '*') return true;
    if (catalog.accessGroups.get(entry)?.has(group)) return true;
    if (entry.endsWith('*') && group.startsWith(entry.slice(0, -1))) return true;
  }
  return false;
}

/** Which list refuses `group` for this caller: the key's, its team's, or none. */
function refusedBy(caller: Caller, group: string, catalog: ModelCatalog): { by: 'key' | 'team' | 'user' | 'org'; allowed: string[] } | null {
  if (caller.kind === 'master') return null;
  const { policy } = caller;
  const teamModels = policy.team?.models ?? [];
  const keyModels = policy.models.includes(ALL_TEAM_MODELS) ? teamModels : policy.models;
  if (!listAllows(keyModels, group, catalog)) return { by: 'key', allowed: keyModels };
  if (!listAllows(teamModels, group, catalog)) return { by: 'team', allowed: teamModels };
  if (!listAllows(policy.userModels ?? [], group, catalog)) return { by: 'user', allowed: policy.userModels };
  if (!listAllows(policy.orgModels ?? [], group, catalog)) return { by: 'org', allowed: policy.orgModels };
  return null;
}

/** Whether the caller may call the model group: the key's list intersected with its team's (and a JWT's role and scope models). */
export function mayCall(caller: Caller, group: string, catalog: ModelCatalog): boolean {
  if (caller.permits && !jwtModelAllowed(caller.permits, group, catalog)) return false;
  return refusedBy(caller, group, catalog) === null;
}

/**
 * Throws LiteLLM's 401 (`key_model_access_denied` / `team_model_access_denied`) when the caller may not call `group`;
 * first a 403 when a JWT's `role_permissions` / `scope_mappings` do not grant it (auth/jwt-permissions.ts): every
 * route authorizes its model here, so none skips them (a property read for any other caller).
 */
export function authorizeModel(caller: Caller, group: string, catalog: ModelCatalog): void {
  if (caller.permits && !jwtModelAllowed(caller.permits, group, catalog)) throw modelAccessDenied(group);
  authorizeListedModel(caller, group, catalog);
}

/**
 * Whether the key's, team's, user's and organization's model lists admit `group`, leaving out a JWT's role and scope
 * models: for a request that names no model, which those hold only by its route, as in LiteLLM.
 */
export function listsAllow(caller: Caller, group: string, catalog: ModelCatalog): boolean {
  return refusedBy(caller, group, catalog) === null;
}

/** authorizeModel's 401s of the key's, team's, user's and organization's model lists alone (see listsAllow). */
export function authorizeListedModel(caller: Caller, group: string, catalog: ModelCatalog): void {
  const refused = refusedBy(caller, group, catalog);
  if (!refused) return;
  if (refused.by === 'key') {
    throw new GatewayError(
      `key not allowed to access model. This key can only access models=${JSON.stringify(refused.allowed)}. Tried to access ${group}`,
      { status: 401, type: 'key_model_access_denied', param: 'model' },
    );
  }
  if (refused.by === 'user' || refused.by === 'org') {
    // LiteLLM's words for an object's model list (`_can_object_call_model`).
    throw new GatewayError(
      `${refused.by} not allowed to access model. This ${refused.by} can only access models=${JSON.stringify(refused.allowed)}. Tried to access ${group}`,
      { status: 401, type: `${refused.by}_model_access_denied`, param: 'model' },
    );
  }
  const teamId = caller.kind === 'key' ? caller.policy.team?.id : undefined;
  throw new GatewayError(
    `team not allowed to access model. Team=${teamId}, allowed models=${JSON.stringify(refused.allowed)}. Tried to access ${group}`,
    { status: 401, type: 'team_model_access_denied', param: 'model' },
  );
}
