import type { CallType } from '../proxy/call-context.ts';
import type { Endpoint } from '../providers/types.ts';
import { type CacheControls, readControls } from './controls.ts';
import { cacheKey } from './key.ts';
import type { CacheSettings } from './settings.ts';
import { type CachedAnswer, type CacheStore, cacheStore } from './store.ts';

/** What one request does with the cache, decided before it is routed. */
export interface CachePlan {
  key: string;
  store: CacheStore;
  lookup: boolean;
  save: boolean;
  ttlSeconds: number;
  sMaxAge?: number;
}

const CALL_TYPE: Record<Endpoint, CallType> = { chat: 'acompletion', completion: 'atext_completion', embedding: 'aembedding', responses: 'aresponses', moderation: 'amoderation', image_generation: 'aimage_generation', speech: 'aspeech', transcription: 'atranscription', image_edit: 'aimage_edit', rerank: 'arerank', ocr: 'aocr' };

/**
 * Whether and how a request uses the cache: the call type must be one of
 * `supported_call_types`; with `mode: default_off` only a request that asks
 * (`use-cache`) is cached; `no-cache` skips the lookup, `no-store` the write.
 */
export async function planCache(settings: CacheSettings | undefined, endpoint: Endpoint, group: string, body: Record<string, unknown>, allowedControls: readonly string[] | undefined): Promise<CachePlan | undefined> {
  const controls: CacheControls = readControls(body, allowedControls);
  // Responses are not cached: a response can continue a stored conversation (previous_response_id), and a replay would be chat-shaped.
  if (!settings || endpoint === 'responses' || !settings.callTypes.has(CALL_TYPE[endpoint])) return undefined;
  if (settings.defaultOff ? controls.useCache !== true : controls.useCache === false) return undefined;
  if (controls.noCache && controls.noStore) return undefined;
  return {
    key: await cacheKey(group, body, controls.namespace ?? settings.namespace),
    store: cacheStore(settings),
    lookup: !controls.noCache,
    save: !controls.noStore,
    ttlSeconds: controls.ttl ?? settings.ttlSeconds,
    sMaxAge: controls.sMaxAge,
  };
}

/**
 * Misses in flight in this isolate, by key: concurrent identical requests
 * wait for the first one's answer instead of calling the provider again.
 * Followers poll plain data (no promise crosses requests, which workerd does
 * not allow); across isolates each isolate makes its own first call.
 */
const leaders = new Map<string, { settled: boolean; answer?: CachedAnswer }>();
const FOLLOW_POLL_MS = 5;

export async function lookup(plan: CachePlan, waitUpToMs: number): Promise<CachedAnswer | undefined> {
  if (!plan.lookup) return undefined;
  const fresh = (a: CachedAnswer | undefined) => (a && (plan.sMaxAge === undefined || Date.now() - a.storedAt <= plan.sMaxAge * 1000) ? a : undefined);
  const hit = fresh(await plan.store.get(plan.key));
  if (hit) return hit;
  const leader = leaders.get(plan.key);
  if (!leader) return undefined;
  const deadline = Date.now() + waitUpToMs;
  while (!leader.settled && Date.now() < deadline) await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
  return fresh(leader.answer);
}

/** This request calls the provider for the key; others arriving meanwhile follow it. Returns the settle function. */
export function lead(plan: CachePlan): (answer: CachedAnswer | undefined) => void {
  if (leaders.has(plan.key)) return () => undefined;
  const entry: { settled: boolean; answer?: CachedAnswer } = { settled: false };
  leaders.set(plan.key, entry);
  return (answer) => {
    entry.answer = answer;
    entry.settled = true;
    // Followers hold the entry itself; later requests find the answer in the store.
    if (leaders.get(plan.key) === entry) leaders.delete(plan.key);
  };
}
