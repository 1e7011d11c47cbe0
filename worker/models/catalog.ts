import type { GatewayState } from '../state.ts';
import { loadDbDeployments, mergeCatalog, sealingSecret, storeModelInDb } from './db-models.ts';
import type { ModelCatalog } from './deployments.ts';

/** A warm isolate re-reads the DB models in the background at most this often. */
export const REFRESH_EVERY_MS = 2_000;
/** A request naming an unknown group waits for a new read, started no sooner than this after the last one. */
export const MISSING_REFRESH_AFTER_MS = 500;
/** How long such a request waits at most before it answers from what it has. */
const SYNC_WAIT_MS = 3_000;

interface WaitUntil {
  waitUntil(p: Promise<unknown>): void;
}

interface DbCatalog {
  state: GatewayState;
  catalog: ModelCatalog;
  /** Date.now() when the last read started; 0 before the first. */
  startedAt: number;
  inFlight: Promise<void> | undefined;
}

let cached: DbCatalog | undefined;

/**
 * The model groups a request can use: config.yaml's, plus (with
 * `store_model_in_db`) the models added through the admin API. The hot path
 * calls this on every request, so it answers from memory: the DB models are
 * re-read in the background (stale-while-revalidate, `waitUntil`) once the
 * copy is over REFRESH_EVERY_MS old. Only a request naming a group the copy
 * does not have waits, for a read that started after it arrived (at most one
 * read per MISSING_REFRESH_AFTER_MS), so `/model/new` followed by a call
 * works at once; so does the first listing of an isolate. A failed read
 * keeps the last catalog.
 */
export async function currentCatalog(state: GatewayState, env: Record<string, unknown>, ctx: WaitUntil, opts: { missing?: string } = {}): Promise<ModelCatalog> {
  if (!storeModelInDb(state.config, env)) return state.catalog;
  if (cached?.state !== state) cached = { state, catalog: state.catalog, startedAt: 0, inFlight: undefined };
  const entry = cached;
  const unknownGroup = opts.missing === undefined ? entry.startedAt === 0 : !entry.catalog.groups.has(opts.missing);
  if (unknownGroup) {
    await waitAtMost(readSince(entry, env, ctx, Date.now()), SYNC_WAIT_MS);
  } else if (Date.now() - entry.startedAt >= REFRESH_EVERY_MS) {
    void refresh(entry, env, ctx);
  }
  return entry.catalog;
}

/** Waits for a read that started at or after `arrived`, starting one no sooner than MISSING_REFRESH_AFTER_MS after the last. */
async function readSince(entry: DbCatalog, env: Record<string, unknown>, ctx: WaitUntil, arrived: number): Promise<void> {
  const age = arrived - entry.startedAt;
  if (age < MISSING_REFRESH_AFTER_MS) await sleep(MISSING_REFRESH_AFTER_MS - age);
  // A read that began before this request may predate the model it names: let it land, then read again.
  if (entry.inFlight && entry.startedAt < arrived) await entry.inFlight;
  await (entry.startedAt < arrived ? refresh(entry, env, ctx) : entry.inFlight);
}

/** One read at a time per isolate; it outlives the request that started it through `waitUntil`. */
function refresh(entry: DbCatalog, env: Record<string, unknown>, ctx: WaitUntil): Promise<void> {
  if (entry.inFlight) return entry.inFlight;
  entry.startedAt = Date.now();
  const read = (async () => {
    try {
      const deployments = await loadDbDeployments(env, sealingSecret(env, entry.state.masterKey), ctx, entry.state.credentials);
      entry.catalog = mergeCatalog(entry.state.catalog, deployments);
    } catch (err) {
      // Postgres down or slow: keep serving the last catalog; the next interval tries again.
      console.error(`reading DB models failed, serving the last catalog: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      entry.inFlight = undefined;
    }
  })();
  entry.inFlight = read;
  ctx.waitUntil(read);
  return read;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([p, timeout]).finally(() => timer !== undefined && clearTimeout(timer));
}
