import type { Caller } from '../auth/authenticate.ts';
import { GatewayError } from '../errors.ts';
import { authorizeModel } from '../models/access.ts';
import type { DeploymentRef, ModelCatalog } from '../models/deployments.ts';
import type { FileSearchIds } from '../providers/file-search-ids.ts';
import { decodeObjectId, managedObjectId } from '../providers/object-ids.ts';
import { PROVIDERS } from '../providers/registry.ts';
import { ownsResponse, responseOwner, SAFE_ID } from '../providers/response-ids.ts';
import { objectDeployment, sameAccount } from '../routes/provider-objects.ts';

/**
 * A Responses API call's `file_search` tools name vector stores by the ids the gateway gave out
 * (vector-stores.ts): only the caller's own reach the provider, as the provider's ids, and only through a
 * deployment of the account that keeps them. Anyone else's store, a forged or unsigned id, or a provider's
 * raw id is the 404 of an unknown vector store, as the vector store routes answer it, before any provider
 * is called; the master key may also name a provider's own ids (sent as they are, wherever the call goes).
 */
export interface FileSearchStores {
  /** The request's `tools`, each `file_search` tool's stores by the provider's ids. */
  tools: unknown[];
  /**
   * A virtual key's call whose `include` did not ask for the searches' results: the client's `include` with
   * them, sent instead (withSearchResults), as the answer's files are known to be the key's by them
   * (file-search-ids.ts); the answer then shows none.
   */
  include?: unknown[];
  /** A deployment of the account the gateway's stores live in: the call is pinned to it. Undefined when only raw ids were named. */
  account?: DeploymentRef;
  /** The provider's id of each store named → the id the client named it by. */
  clientIds: Map<string, string>;
  /** A stored `prompt` may bring stores of its own: files found then are not known to be the caller's. */
  prompted: boolean;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const notFound = (id: string) => new GatewayError(`No such vector store: ${id.slice(0, 200)}`, { status: 404, type: 'not_found_error', param: 'vector_store_id' });

/** The stores a Responses API request's `tools` name, checked and translated; undefined when it has no `file_search` tool. */
export function fileSearchStores(caller: Caller, body: Record<string, unknown>, catalog: ModelCatalog, key: string): FileSearchStores | undefined {
  const tools = body.tools as unknown[];
  if (!tools.some((tool) => isRecord(tool) && tool.type === 'file_search')) return undefined;
  const clientIds = new Map<string, string>();
  let account: DeploymentRef | undefined;
  const translated = tools.map((tool, i) => {
    if (!isRecord(tool) || tool.type !== 'file_search' || tool.vector_store_ids === undefined) return tool;
    const ids = tool.vector_store_ids;
    if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string')) {
      throw new GatewayError('vector_store_ids must be a list of vector store ids', { status: 400, type: 'invalid_request_error', param: `tools.${i}.vector_store_ids` });
    }
    return {
      ...tool,
      vector_store_ids: ids.map((id) => {
        const store = storeOf(caller, catalog, key, id);
        if (store.deployment) {
          if (account && !sameAccount(account, store.deployment)) {
            throw new GatewayError(`The vector stores are in different provider accounts (model groups ${account.group} and ${store.deployment.group}'s): one call searches stores of one account`, {
              status: 400, type: 'invalid_request_error', param: `tools.${i}.vector_store_ids`,
            });
          }
          account ??= store.deployment;
        }
        clientIds.set(store.upstreamId, id);
        return store.upstreamId;
      }),
    };
  });
  const prompted = body.prompt !== undefined && body.prompt !== null;
  // A virtual key is given only the files its searches found (the master key any); a prompted call's are dropped whatever they are.
  const include = caller.kind === 'master' || prompted ? undefined : withResults(body.include);
  return { tools: translated, ...(include ? { include } : {}), ...(account ? { account } : {}), clientIds, prompted };
}

const RESULTS = 'file_search_call.results';

/** The body the provider gets, asking for the searches' results where the gateway needs them. */
export function withSearchResults(body: Record<string, unknown>, stores: FileSearchStores | undefined): Record<string, unknown> {
  return stores?.include ? { ...body, include: stores.include } : body;
}

/** The client's `include` with the searches' results asked for; undefined when it asks already (or is no list: the provider's 400). */
function withResults(include: unknown): unknown[] | undefined {
  if (include === undefined || include === null) return [RESULTS];
  if (!Array.isArray(include) || include.includes(RESULTS)) return undefined;
  return [...include, RESULTS];
}

/** The store an id names for the caller (homeOfId's rules, without a request to route by). */
function storeOf(caller: Caller, catalog: ModelCatalog, key: string, id: string): { upstreamId: string; deployment?: DeploymentRef } {
  const decoded = decodeObjectId('vector_store', id);
  if (!decoded) {
    if (caller.kind === 'master' && SAFE_ID.test(id)) return { upstreamId: id };
    throw notFound(id);
  }
  if (!ownsResponse(caller, decoded, key)) throw notFound(id);
  // An id LiteLLM made names only its group (the master key's to use): its first deployment that keeps stores.
  // A store made through a wildcard group (from a file a call through it found) is its deployment made concrete again.
  const stored = decoded.deploymentId ? objectDeployment(catalog, decoded) : undefined;
  const deployment = stored?.deployment ?? (decoded.deploymentId ? undefined : catalog.groups.get(decoded.group ?? '')?.find((d) => PROVIDERS.get(d.provider)?.objectRequest));
  if (!deployment || !PROVIDERS.get(deployment.provider)?.objectRequest) throw notFound(id);
  authorizeModel(caller, stored?.model ?? deployment.group, catalog);
  return { upstreamId: decoded.upstreamId, deployment };
}

/** Why a deployment may not serve a call searching the stores: another account's (the router skips it). */
export function storeAccountRefusal(stores: FileSearchStores, d: DeploymentRef): GatewayError | undefined {
  if (!stores.account || sameAccount(d, stores.account)) return undefined;
  return new GatewayError(`The vector stores are in the provider account of model group ${stores.account.group}; deployment ${d.id} of ${d.group} is in another`, {
    status: 400, type: 'invalid_request_error', param: 'tools',
  });
}

/**
 * How the answer of the deployment `served` names the stores and files: stores by the client's ids, files
 * signed for the caller in the stores' account (the serving deployment's, for the master key's raw ids):
 * for a virtual key only the files its searches found, for the master key every file named.
 */
export function fileSearchIds(stores: FileSearchStores, caller: Caller, key: string, served: DeploymentRef): FileSearchIds {
  const owner = { owner: responseOwner(caller), key };
  const home = stores.account ?? served;
  return {
    storeIds: stores.clientIds, filesKnown: !stores.prompted, everyFile: caller.kind === 'master', hideResults: stores.include !== undefined,
    fileId: (id) => managedObjectId('file', id, home, owner),
  };
}
