import type { Context } from 'hono';
import type { Caller } from '../auth/authenticate.ts';
import type { GatewayEnv } from '../env.ts';
import { GatewayError } from '../errors.ts';
import { authorizeModel } from '../models/access.ts';
import { type DeploymentRef, deploymentById, type ModelCatalog } from '../models/deployments.ts';
import { requestTimeoutMs } from '../proxy/call-helpers.ts';
import { decodeObjectId, type ManagedObjectId, managedObjectId, type ObjectKind } from '../providers/object-ids.ts';
import { PROVIDERS } from '../providers/registry.ts';
import { ownsResponse, responseOwner, SAFE_ID } from '../providers/response-ids.ts';
import type { ObjectRequest } from '../providers/types.ts';
import { deploymentByStoredId } from '../router/resolve-group.ts';
import { gatewayState, type GatewayState } from '../state.ts';
import { authenticateRoute } from '../limits/key-store.ts';
import { currentCatalog } from '../models/catalog.ts';

export type Ctx = Context<{ Bindings: GatewayEnv }>;

/**
 * Files, batches and fine-tuning jobs live in a provider account; the gateway
 * keeps no record of them. Which account is named by a model group (its first deployment
 * whose provider has the Files and Batch APIs: OpenAI, Azure OpenAI, any
 * OpenAI-compatible server), then carried in the ids the gateway gives out
 * (object-ids.ts), signed with their owner.
 */
export interface ObjectHome {
  deployment: DeploymentRef;
  send(request: Omit<ObjectRequest, 'deployment' | 'env' | 'timeoutMs'>): Promise<Response>;
  /** The id a client gets for the provider's id of a file, batch or job of this home, owned by the caller. */
  idFor(kind: ObjectKind, upstreamId: string): string;
}

/** The model group a request names: a `model` field of its body, then its query's, then the `x-litellm-model` header (LiteLLM's). */
export function namedGroup(c: Ctx, field?: unknown): string | undefined {
  const named = typeof field === 'string' && field !== '' ? field : c.req.query('model') || c.req.header('x-litellm-model');
  return named || undefined;
}

/** The home of a model group the caller may call; a 400 naming what is missing when the request names none. */
export function homeOfGroup(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, group: string | undefined): ObjectHome {
  if (!group) {
    throw new GatewayError('Name the model group whose provider account keeps the files and batches: the `model` field, the `model` query parameter or the `x-litellm-model` header', {
      status: 400, type: 'invalid_request_error', param: 'model',
    });
  }
  authorizeModel(caller, group, catalog);
  const deployment = catalog.groups.get(group)?.find((d) => PROVIDERS.get(d.provider)?.objectRequest);
  if (!deployment) {
    const providers = [...PROVIDERS.values()].filter((a) => a.objectRequest).map((a) => a.id).join(', ');
    throw new GatewayError(`Model group ${group} has no deployment whose provider keeps files and batches (${providers})`, {
      status: 400, type: 'invalid_request_error', param: 'model',
    });
  }
  return homeOf(c, state, caller, deployment);
}

/** What a 404 calls an object, in OpenAI's words. */
const NOUN: Record<ObjectKind, string> = {
  file: 'File object', batch: 'batch', fine_tuning_job: 'fine-tuning job', vector_store: 'vector store', vector_store_file_batch: 'vector store file batch', video: 'video', container: 'container', skill: 'skill',
};

/**
 * The home of a file, batch or fine-tuning job by the id the client sent, for a caller that owns it (the same team, user
 * or key, signed by the gateway) and may call its model group. Anyone else's, or an id the gateway did
 * not give out, is not found; the master key may also name a provider's own id with a model group.
 */
export function homeOfId(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, kind: ObjectKind, id: string, group?: string): { home: ObjectHome; upstreamId: string } {
  const decoded: ManagedObjectId | undefined = decodeObjectId(kind, id);
  const notFound = () => new GatewayError(`No such ${NOUN[kind]}: ${id.slice(0, 200)}`, {
    status: 404, type: 'not_found_error', param: `${kind}_id`,
  });
  if (!decoded) {
    if (caller.kind !== 'master' || !SAFE_ID.test(id)) throw notFound();
    // `group`: a route's own body field naming the group (ingest_options.vector_store.model), else ?model= / x-litellm-model.
    return { home: homeOfGroup(c, state, caller, catalog, namedGroup(c, group)), upstreamId: id };
  }
  if (!ownsResponse(caller, decoded, state.responseIdKey)) throw notFound();
  const stored = objectDeployment(catalog, decoded);
  if (!stored) {
    // An id LiteLLM made names only its group (the master key's to use).
    if (decoded.deploymentId || !decoded.group) throw notFound();
    return { home: homeOfGroup(c, state, caller, catalog, decoded.group), upstreamId: decoded.upstreamId };
  }
  const { deployment } = stored;
  authorizeModel(caller, stored.model, catalog);
  if (!PROVIDERS.get(deployment.provider)?.objectRequest) throw notFound();
  return { home: homeOf(c, state, caller, deployment), upstreamId: decoded.upstreamId };
}

/**
 * The deployment an object's id was signed with, in the group the id names: a config entry's, or (an object made
 * by a call through a wildcard group, `openai/*`) that group's made concrete again for the model the call named
 * (deploymentByStoredId), so it is read back where it lives. `model` is the name a key must be allowed to call.
 */
export function objectDeployment(catalog: ModelCatalog, decoded: ManagedObjectId): { deployment: DeploymentRef; model: string } | undefined {
  if (!decoded.deploymentId) return undefined;
  // A config entry's id: one short list searched, as before.
  const plain = deploymentById(catalog, decoded.deploymentId, decoded.group ?? '');
  if (plain) return { deployment: plain, model: plain.group };
  const stored = deploymentByStoredId(catalog, decoded.deploymentId);
  return stored && stored.deployment.group === decoded.group ? stored : undefined;
}

/** The home of the file, batch or job the route's `:id` names, for the caller (homeOfId). */
export async function homeOfRouteId(c: Ctx, kind: ObjectKind): Promise<{ home: ObjectHome; upstreamId: string }> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  return homeOfId(c, state, caller, await currentCatalog(state, c.env, c.executionCtx), kind, c.req.param('id') ?? '');
}

/** Who calls a list, and the home of the model group it names (homeOfGroup). */
export async function homeOfRouteGroup(c: Ctx): Promise<{ state: GatewayState; caller: Caller; home: ObjectHome }> {
  const state = await gatewayState(c.env);
  const caller = await authenticateRoute(c, state);
  return { state, caller, home: homeOfGroup(c, state, caller, await currentCatalog(state, c.env, c.executionCtx), namedGroup(c)) };
}

/**
 * Whether two deployments reach the same provider account (so an object one keeps is the other's too): the
 * same provider, base URL, credential and organization, as `litellm_params` say (a named credential's
 * values already in them).
 */
export function sameAccount(a: DeploymentRef, b: DeploymentRef): boolean {
  const base = (d: DeploymentRef) => d.params.api_base?.replace(/\/+$/, '');
  return a.provider === b.provider && base(a) === base(b) && a.params.api_key === b.params.api_key && a.params.organization === b.params.organization;
}

/** The home of a deployment the caller may call (its object API checked by the caller). */
export function homeOf(c: Ctx, state: GatewayState, caller: Caller, deployment: DeploymentRef): ObjectHome {
  const adapter = PROVIDERS.get(deployment.provider)!;
  const owner = { owner: responseOwner(caller), key: state.responseIdKey };
  const timeoutMs = requestTimeoutMs(state.config);
  return {
    deployment,
    send: (request) => adapter.objectRequest!({ ...request, deployment, env: c.env as unknown as Record<string, unknown>, timeoutMs }),
    idFor: (kind, upstreamId) => managedObjectId(kind, upstreamId, deployment, owner),
  };
}

/** The deployment's headers on an answer, as a model call's carry them. */
export function homeHeaders(home: ObjectHome): Record<string, string> {
  return { 'x-litellm-model-id': home.deployment.id, 'x-litellm-model-group': home.deployment.group };
}

/** The query parameters that route a request here (LiteLLM's too): never sent on. Azure's api-version is the deployment's. */
const GATEWAY_QUERY = new Set(['model', 'custom_llm_provider', 'target_model_names', 'api-version']);

/** A list's query for the provider: the gateway's own parameters out, an `after` cursor (an id the gateway gave out, or a listCursor) as the provider's id. */
export async function listQuery(c: Ctx, kind: ObjectKind): Promise<[string, string][]> {
  const query: [string, string][] = [];
  for (const [name, value] of new URL(c.req.url).searchParams) {
    if (GATEWAY_QUERY.has(name)) continue;
    query.push([name, name === 'after' ? decodeObjectId(kind, value)?.upstreamId ?? await cursorPosition(c, value) ?? value : value]);
  }
  return query;
}

const CURSOR = 'cursor_';
const cursorKeys = new Map<string, Promise<CryptoKey>>();

/** The key cursors are sealed with: derived from the key ids are signed with (state.ts responseIdKey), for this use only. */
function cursorKey(idKey: string): Promise<CryptoKey> {
  let key = cursorKeys.get(idKey);
  if (!key) {
    key = crypto.subtle.digest('SHA-256', new TextEncoder().encode(`tollgate:list-cursors\n${idKey}`))
      .then((raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
    cursorKeys.set(idKey, key);
  }
  return key;
}

/**
 * Where a list stopped looking, as a cursor only `after` takes. It is the provider's id of an object that may be
 * another owner's, so it is sealed (AES-GCM): a key must not learn another owner's raw ids from it.
 */
export async function listCursor(c: Ctx, upstreamId: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await cursorKey((await gatewayState(c.env)).responseIdKey), new TextEncoder().encode(upstreamId));
  const bytes = new Uint8Array(12 + sealed.byteLength);
  bytes.set(iv);
  bytes.set(new Uint8Array(sealed), 12);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `${CURSOR}${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

async function cursorPosition(c: Ctx, value: string): Promise<string | undefined> {
  if (!value.startsWith(CURSOR)) return undefined;
  try {
    const binary = atob(value.slice(CURSOR.length).replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    const opened = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.slice(0, 12) }, await cursorKey((await gatewayState(c.env)).responseIdKey), bytes.slice(12));
    return new TextDecoder().decode(opened);
  } catch {
    return undefined;
  }
}
