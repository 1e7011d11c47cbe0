import type { Caller } from '../auth/authenticate.ts';
import { checkRoute } from '../auth/routes.ts';
import { GatewayError } from '../errors.ts';
import { authorizeModel, mayCall } from '../models/access.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';

/** The group a requested name stands for with this caller: its key's `aliases`, else its team's `model_aliases` (LiteLLM's key and team model aliases). */
export function aliasOf(caller: Caller, requested: string): string | undefined {
  return caller.kind === 'key' ? caller.policy.aliases[requested] ?? caller.policy.team?.modelAliases[requested] : undefined;
}

export interface CallAccess {
  caller: Caller;
  /** The model name the client asked for, and the group an alias made of it. */
  requested: string;
  aliased: string | undefined;
  /** The first deployment the call can reach; none for a name nothing serves. */
  picked: DeploymentRef | undefined;
  catalog: ModelCatalog;
  /** The route called, for the key's `allowed_routes`. */
  path: string;
  body: Record<string, unknown>;
  /** `general_settings.enforce_user_param`. */
  enforceUser: boolean;
}

/**
 * Throws LiteLLM's refusal when this caller may not make this call, in its order: a route the key's
 * `allowed_routes` do not list, a model its lists (key, team, user, organization) do not name (an alias
 * is callable when its own name is listed or the group it stands for is), a call without `user` under
 * `enforce_user_param`, a model nothing serves. Returns the deployment the call starts from.
 */
export function authorizeCall(a: CallAccess): DeploymentRef {
  const { caller } = a;
  if (caller.kind === 'key' && caller.policy.allowedRoutes.length) checkRoute(caller.policy.allowedRoutes, a.path);
  if (!a.aliased || !mayCall(caller, a.requested, a.catalog)) authorizeModel(caller, a.aliased ?? a.requested, a.catalog);
  if (a.enforceUser && caller.kind === 'key' && a.body.user === undefined) {
    throw new GatewayError('Authentication Error, \'user\' param not passed in. \'enforce_user_param\'=True', { status: 401, type: 'auth_error', param: 'user' });
  }
  if (!a.picked) {
    throw new GatewayError(`Invalid model name passed in model=${a.requested}. Call \`/v1/models\` to view available models for your key.`, {
      status: 400, type: 'bad_request_error', param: 'model',
    });
  }
  return a.picked;
}
