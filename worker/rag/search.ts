import type { Caller } from '../auth/authenticate.ts';
import { unitPrice } from '../cost/deployment-cost.ts';
import { GatewayError } from '../errors.ts';
import type { GatewayState } from '../state.ts';
import { recordCreation } from '../routes/creation-spend.ts';
import { providerJson, withClientIds } from '../routes/fine-tuning-objects.ts';
import { admitCreation } from '../routes/owned-objects.ts';
import type { Ctx } from '../routes/provider-objects.ts';
import { shownSearch, type StoreIds } from '../routes/vector-store-objects.ts';

/** A search made for `/rag/query`, its price and spend row left to the chat's outcome. */
export interface QuerySearch {
  found: Record<string, unknown>;
  /** The store deployment's `input_cost_per_query` (0 when none). */
  price: number;
  /** Its `avector_store_search` row at `price`, once the chat was admitted (whose settlement bills it). */
  log(): void;
  /**
   * The chat refused after the search ran (a guardrail, the chat's own admission, an end user's budget): the
   * search is spent, so it is counted and billed as a standalone search is, and logged at its price.
   */
  charge(): Promise<void>;
}

/**
 * The search of a `/rag/query`: admitted as the search route's is (a blocked key, or one over a budget, is
 * refused, the price held), then, once answered, its admission undone (awaited, so its parallel slot is free
 * and its request uncounted before the chat is admitted): the query counts once, as its chat, whose
 * settlement carries the search's price. A chat refused after the search is `charge`d the search (a search
 * run is never free). A failed search is logged and settled at no cost, as the route's.
 */
export async function querySearch(c: Ctx, state: GatewayState, caller: Caller, ids: StoreIds, search: Record<string, unknown>, sent: Map<string, string>, startedAt: number): Promise<QuerySearch> {
  const { home } = ids;
  const requestId = crypto.randomUUID();
  const price = unitPrice(home.deployment, 'input_cost_per_query') ?? 0;
  const { tags, release, undo } = await admitCreation(c, state, home, requestId, price);
  const logged = { callType: 'avector_store_search', caller, deployment: home.deployment, model: home.deployment.model, tags, startedAt, requestId } as const;
  let found: Record<string, unknown>;
  try {
    const res = await home.send({ method: 'POST', path: `vector_stores/${encodeURIComponent(ids.upstreamId)}/search`, query: [], body: JSON.stringify(search) });
    found = shownSearch(ids, await providerJson(res, 'a vector store search'));
  } catch (err) {
    const shown = withClientIds(err, sent);
    const error = shown instanceof GatewayError ? shown : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
    recordCreation(c.env, c.executionCtx, { ...logged, error });
    release(0);
    throw err;
  }
  await undo();
  const log = () => recordCreation(c.env, c.executionCtx, { ...logged, spend: price });
  const charge = async () => {
    log();
    // Admitted again to count it as one request of the key (its token was given back for the chat); where the
    // key is now refused (its rpm taken meanwhile, a budget spent), the price still lands in its limiters:
    // the first admission, undone, settles as spend alone.
    try {
      (await admitCreation(c, state, home, requestId, price)).release(price);
    } catch {
      release(price);
    }
  };
  return { found, price, log, charge };
}
