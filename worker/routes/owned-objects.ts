import { type Caller, identify } from '../auth/authenticate.ts';
import { GatewayError } from '../errors.ts';
import type { ObjectKind } from '../providers/object-ids.ts';
import { responseOwner } from '../providers/response-ids.ts';
import { admitModelCall } from '../proxy/call-admission.ts';
import { headerSnapshot } from '../proxy/call-helpers.ts';
import type { GatewayState } from '../state.ts';
import { type Ctx, homeHeaders, listCursor, listQuery, type ObjectHome } from './provider-objects.ts';
import { log } from '../telemetry/log.ts';

/**
 * Batches and fine-tuning jobs carry whose they are in the provider's own `metadata` (the gateway keeps
 * no record of them): a key's list is its own among the account's, read from the provider's.
 */

/** The metadata the gateway writes (and keeps from clients): whose the object is, for its owner's lists. */
const OWNER_FIELD = 'tollgate_owner';
/** The deployment it was created through: listed only through it. */
const DEPLOYMENT_FIELD = 'tollgate_model_id';
const GATEWAY_FIELDS = [OWNER_FIELD, DEPLOYMENT_FIELD];
/** OpenAI takes 16 metadata pairs; the gateway's two leave 14 to the client. */
const CLIENT_METADATA_MAX = 16 - GATEWAY_FIELDS.length;
/** Provider pages (of 100) one list reads at most to fill a key's page. */
const LIST_PAGES_MAX = 10;

export interface OwnedObject {
  id?: unknown;
  metadata?: Record<string, unknown> | null;
}

/** The metadata sent to the provider: the client's own (the gateway's names dropped, at most 14 pairs), then the gateway's. */
export function ownedMetadata(client: Record<string, string> | null | undefined, caller: Caller, home: ObjectHome, noun: string): Record<string, string> {
  return { ...clientMetadata(client, noun), [OWNER_FIELD]: responseOwner(caller), [DEPLOYMENT_FIELD]: home.deployment.id };
}

function clientMetadata(client: Record<string, string> | null | undefined, noun: string): Record<string, string> {
  const metadata = { ...client };
  for (const name of GATEWAY_FIELDS) delete metadata[name];
  if (Object.keys(metadata).length > CLIENT_METADATA_MAX) {
    throw new GatewayError(`metadata takes at most ${CLIENT_METADATA_MAX} pairs here: the gateway keeps ${GATEWAY_FIELDS.length} of the provider's 16 for the ${noun}'s owner`, {
      status: 400, type: 'invalid_request_error', param: 'metadata',
    });
  }
  return metadata;
}

/**
 * The metadata a modification sends (the provider replaces the whole set): the client's (the gateway's
 * names dropped, at most 14 pairs), then the gateway's pairs as the object has them, so it keeps its
 * owner and deployment whoever modifies it (the master key too).
 */
export function keptMetadata(client: Record<string, string> | null | undefined, current: OwnedObject['metadata'], noun: string): Record<string, string> {
  const metadata = clientMetadata(client, noun);
  for (const name of GATEWAY_FIELDS) {
    const value = current?.[name];
    if (typeof value === 'string') metadata[name] = value;
  }
  return metadata;
}

/** Names in the log an object whose provider dropped the gateway's metadata: it is in no key's list (the master key's only). */
export function warnIfUnowned(object: OwnedObject, home: ObjectHome, noun: string): void {
  if (object?.metadata?.[OWNER_FIELD] !== undefined) return;
  log.warn(`${noun} ${String(object?.id)} of ${home.deployment.group}: the provider kept no metadata, so the ${noun} is in no key's list`);
}

/** The metadata a client sees: the gateway's pairs out, and null when nothing is left. */
export function shownMetadata(metadata: OwnedObject['metadata']): OwnedObject['metadata'] {
  const shown = metadata && typeof metadata === 'object' ? { ...metadata } : metadata;
  if (shown) for (const name of GATEWAY_FIELDS) delete shown[name];
  return shown && Object.keys(shown).length === 0 ? null : shown;
}

export interface OwnedPage<T> {
  /** The caller's own, in the provider's order. */
  own: T[];
  more: boolean;
  /** Where the list stopped looking before the page was full: a cursor only `after` takes. */
  cursor?: string;
}

/**
 * `GET {path}?model=...`: the account's objects the caller owns (all of them for the master key) made
 * through the deployment named, `limit` (20, at most 100) after `after`, reading as many of the provider's
 * pages as it takes to fill the page (at most LIST_PAGES_MAX).
 */
export async function listOwned<T extends OwnedObject>(c: Ctx, caller: Caller, home: ObjectHome, kind: ObjectKind, path: string): Promise<OwnedPage<T>> {
  const query = await listQuery(c, kind);
  const limit = Math.min(100, Math.max(1, Math.floor(Number(query.find(([name]) => name === 'limit')?.[1] ?? 20)) || 20));
  const owner = responseOwner(caller);
  const own: T[] = [];
  let after = query.find(([name]) => name === 'after')?.[1];
  let more = true;
  let full = false;
  for (let pages = 0; more && !full && pages < LIST_PAGES_MAX; pages++) {
    const page = await home.send({ method: 'GET', path, query: [...query.filter(([name]) => name !== 'after' && name !== 'limit'), ['limit', '100'], ...(after ? [['after', after] as [string, string]] : [])] });
    const list = await page.json() as { data?: T[]; has_more?: unknown };
    const data = Array.isArray(list.data) ? list.data : [];
    for (const object of data) {
      // One more of the account's beyond a full page: there may be more of the caller's.
      if (own.length === limit) {
        full = true;
        break;
      }
      if (typeof object?.id === 'string') after = object.id;
      if (caller.kind === 'master' || (object?.metadata?.[OWNER_FIELD] === owner && object.metadata[DEPLOYMENT_FIELD] === home.deployment.id)) own.push(object);
    }
    more = full || (list.has_more === true && data.length > 0);
  }
  const stopped = more && !full && after !== undefined;
  return { own, more, ...(stopped ? { cursor: await listCursor(c, after as string) } : {}) };
}

/**
 * A list of the caller's own, as shown: every id given out is the caller's, so the next page starts after
 * the last of them, or after the cursor where the list stopped looking.
 */
export function ownedListAnswer(home: ObjectHome, data: { id?: unknown }[], page: OwnedPage<unknown>): Response {
  return Response.json(
    { object: 'list', data, first_id: data[0]?.id ?? null, last_id: page.cursor ?? data.at(-1)?.id ?? null, has_more: page.more },
    { headers: homeHeaders(home) },
  );
}

/**
 * Making a batch or a job counts as one request of the key against its limits, refused as a call would be
 * (blocked, over a budget of its own or of what it brings in). Answers the tags the key and its team bring
 * (for a spend row) and the release that settles the request, at no cost unless told (a priced vector store
 * search): what a batch costs is billed when it is seen over.
 */
export async function admitCreation(c: Ctx, state: GatewayState, home: ObjectHome, requestId: string, estCost = 0): Promise<{ tags: string[]; release(cost?: number): void; undo(): Promise<void> }> {
  const who = await identify(headerSnapshot(c.req.raw.headers), state, c.req.path);
  const { admission, tags } = await admitModelCall(c.env, c.executionCtx, state.config, {
    who, requestId, group: home.deployment.group, endUser: null, ownTags: [], estimate: { estCost, estTokens: 0 }, free: false, seen: {},
  });
  return {
    tags,
    release: (cost = 0) => {
      if (admission) c.executionCtx.waitUntil(admission.settle(cost, 0) ?? Promise.resolve());
    },
    // The request is not counted after all (/rag/query: its chat's admission counts it and bills the search).
    undo: async () => {
      await admission?.release();
    },
  };
}
