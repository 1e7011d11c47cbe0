import type { Caller } from '../auth/authenticate.ts';
import { checkRoute } from '../auth/routes.ts';
import { GatewayError } from '../errors.ts';
import { authorizeModel, mayCall } from '../models/access.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';
import type { TollgateConfig } from '../config/schema.ts';

/** The group a requested name stands for with this caller: its key's `aliases`, else its team's `model_aliases` (LiteLLM's key and team model aliases). */
export function aliasOf(caller: Caller, requested: string): string | undefined {
  return caller.kind === 'key' ? caller.policy.aliases[requested] ?? caller.policy.team?.modelAliases[requested] : undefined;
}

/**
 * Throws authorizeModel's refusal when the caller may not reach an object stored by a deployment of `group`
 * (a stored response, an interaction: read, deleted, cancelled), as its create was authorized (authorizeCall): the
 * group itself, or one of the caller's aliases for it (the key's `aliases`, else its team's `model_aliases` of a
 * name the key has none for) whose own name it may call. A master caller reads no aliases.
 */
export function authorizeStoredModel(caller: Caller, group: string, catalog: ModelCatalog): void {
  if (caller.kind === 'key' && !mayCall(caller, group, catalog)) {
    const own = caller.policy.aliases;
    for (const [name, target] of Object.entries(own)) if (target === group && mayCall(caller, name, catalog)) return;
    for (const [name, target] of Object.entries(caller.policy.team?.modelAliases ?? {})) {
      if (target === group && !Object.hasOwn(own, name) && mayCall(caller, name, catalog)) return;
    }
  }
  authorizeModel(caller, group, catalog);
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
  /**
   * The call's own body checks of `general_settings` (enforce_user_param on `body`; enforced_params and
   * service_account_settings on `clientBody`, the body as the client sent it where the route translated it);
   * none where the route checks no body.
   */
  bodyRules?: { settings: TollgateConfig['general_settings']; clientBody: Record<string, unknown> };
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
  if (a.bodyRules && caller.kind === 'key') checkBody(caller, a.body, a.bodyRules.clientBody, a.bodyRules.settings);
  if (!a.picked) {
    throw new GatewayError(`Invalid model name passed in model=${a.requested}. Call \`/v1/models\` to view available models for your key.`, {
      status: 400, type: 'bad_request_error', param: 'model',
    });
  }
  return a.picked;
}

type KeyCaller = Extract<Caller, { kind: 'key' }>;

/**
 * A virtual key's call held to LiteLLM's body rules (the master key's is not): `enforce_user_param` (the end
 * user, in the call's body), then the params `general_settings.enforced_params` and the key's own
 * `enforced_params` name (`a` or `a.b`: a field of the body as the client sent it, or a field of one of its
 * objects; 401 as LiteLLM), then those of `service_account_settings.enforced_params` for a service account's key
 * (400 as LiteLLM). `reject_clientside_metadata_tags` is held at admission (call-context.ts clientTagsRefusal).
 */
function checkBody(caller: KeyCaller, body: Record<string, unknown>, clientBody: Record<string, unknown>, settings: TollgateConfig['general_settings']): void {
  if (settings.enforce_user_param === true && body.user === undefined) {
    throw new GatewayError('Authentication Error, \'user\' param not passed in. \'enforce_user_param\'=True', { status: 401, type: 'auth_error', param: 'user' });
  }
  if (settings.enforced_params) requireParams(clientBody, settings.enforced_params);
  const own = caller.policy.metadata.enforced_params;
  if (Array.isArray(own)) requireParams(clientBody, own);
  const forServiceAccounts = settings.service_account_settings?.enforced_params;
  if (forServiceAccounts && isServiceAccount(caller)) requireParams(clientBody, forServiceAccounts, true);
}

/** A service account's key, as LiteLLM tells one: its metadata has `service_account_id` (/key/service-account/generate and LiteLLM's UI set it). */
function isServiceAccount(caller: KeyCaller): boolean {
  return Object.hasOwn(caller.policy.metadata, 'service_account_id');
}

/** Refuses a body without one of these params, in LiteLLM's words (its service accounts' differ). */
function requireParams(body: Record<string, unknown>, params: readonly unknown[], serviceAccount = false): void {
  for (const param of params) {
    if (typeof param !== 'string') continue;
    const missing = missingParam(body, param);
    if (!missing) continue;
    throw serviceAccount
      ? new GatewayError(`BadRequest please pass param=${missing} in request body. This is a required param for service account`, {
        status: 400, type: 'bad_request_error', param: param.slice(0, 200),
      })
      : new GatewayError(`Authentication Error, BadRequest please pass param=${missing} in request body. This is a required param`, {
        status: 401, type: 'auth_error', param: param.slice(0, 200),
      });
  }
}

/** How LiteLLM names a missing param (`user`, `[metadata][generation_name]`), or nothing when the body has it. */
function missingParam(body: Record<string, unknown>, param: string): string | undefined {
  const path = param.split('.');
  let at: unknown = body;
  for (let i = 0; i < path.length; i++) {
    const name = path[i]!;
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, name)) {
      return i === 0 ? name.slice(0, 200) : path.slice(0, i + 1).map((p) => `[${p.slice(0, 100)}]`).join('');
    }
    at = (at as Record<string, unknown>)[name];
  }
  return undefined;
}
