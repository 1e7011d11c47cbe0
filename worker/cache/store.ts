import { Redis } from '@upstash/redis/cloudflare';
import type { Endpoint, UsageReport } from '../providers/types.ts';
import { cacheTtlOf } from './audio-expiry.ts';
import type { CacheSettings } from './settings.ts';
import { log } from '../telemetry/log.ts';
import { recordServiceCall } from '../telemetry/metrics/services.ts';

/** A cached answer: the provider's non-streamed answer (OpenAI JSON), which a stream hit replays as chunks. */
export interface CachedAnswer {
  endpoint: Endpoint;
  json: string;
  usage: UsageReport;
  storedAt: number;
}

export interface CacheStore {
  get(key: string): Promise<CachedAnswer | undefined>;
  /**
   * Stores the answer under the key for `ttlSeconds` (less for an answer with audio: audio-expiry.ts). An answer
   * that may not be stored (its audio expired) still replaces what the key held: the key is emptied, so a request
   * that refreshed it (`no-cache`) never leaves an older answer served after the one it got.
   */
  set(key: string, value: CachedAnswer, ttlSeconds: number): Promise<void>;
}

/** Redis answers within this or the request goes on uncached: a slow cache must never slow a request much. */
export const REDIS_TIMEOUT_MS = 150;

/** The embedded default: a bounded, per-isolate LRU (no Redis needed). */
export class LocalCache implements CacheStore {
  readonly #max: number;
  readonly #entries = new Map<string, { value: CachedAnswer; expiresAt: number }>();

  constructor(maxEntries: number) {
    this.#max = Math.max(1, maxEntries);
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    this.#entries.delete(key);
    if (hit.expiresAt <= Date.now()) return undefined;
    this.#entries.set(key, hit); // most recently used last
    return hit.value;
  }

  async set(key: string, value: CachedAnswer, ttlSeconds: number): Promise<void> {
    const ttl = cacheTtlOf(value, ttlSeconds);
    this.#entries.delete(key);
    if (ttl <= 0) return;
    this.#entries.set(key, { value, expiresAt: Date.now() + ttl * 1000 });
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
  }
}

/** Cache health, for readiness and metrics: Redis errors and timeouts since the isolate started. */
export const cacheHealth = { errors: 0, timeouts: 0, lastError: '' };

/** Failures not yet counted in metrics (a store has no request context; the next request reports them). */
let unreported = { errors: 0, timeouts: 0 };

/** The failures since the last call, for metrics and alerts; undefined when there were none. */
export function takeCacheFailures(): { errors: number; timeouts: number; lastError: string } | undefined {
  if (unreported.errors === 0 && unreported.timeouts === 0) return undefined;
  const taken = { ...unreported, lastError: cacheHealth.lastError };
  unreported = { errors: 0, timeouts: 0 };
  return taken;
}

async function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms); })]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Redis through Upstash's REST API (`@upstash/redis`); every failure is a miss, never an error. */
export class RedisCache implements CacheStore {
  readonly #redis: Redis;
  /** LiteLLM's service metrics (`service_callback: ["prometheus_system"]`): each call's latency or failure. */
  readonly #measured: boolean;

  constructor(url: string, token: string, measured = false) {
    this.#redis = new Redis({ url, token, retry: false, automaticDeserialization: false });
    this.#measured = measured;
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    const started = this.#measured ? Date.now() : 0;
    let raw: string | null;
    try {
      raw = await bounded(this.#redis.get<string>(key), REDIS_TIMEOUT_MS);
    } catch (err) {
      if (this.#measured) recordServiceCall('redis', 'async_get_cache', started, err);
      noteFailure(err);
      return undefined;
    }
    if (this.#measured) recordServiceCall('redis', 'async_get_cache', started);
    try {
      return typeof raw === 'string' ? JSON.parse(raw) as CachedAnswer : undefined;
    } catch (err) {
      noteFailure(err);
      return undefined;
    }
  }

  async set(key: string, value: CachedAnswer, ttlSeconds: number): Promise<void> {
    const ttl = cacheTtlOf(value, ttlSeconds);
    const fn = ttl > 0 ? 'async_set_cache' : 'async_delete_cache';
    const started = this.#measured ? Date.now() : 0;
    try {
      const write: Promise<unknown> = ttl > 0 ? this.#redis.set(key, JSON.stringify(value), { ex: Math.max(1, Math.round(ttl)) }) : this.#redis.del(key);
      await bounded(write, REDIS_TIMEOUT_MS * 4);
      if (this.#measured) recordServiceCall('redis', fn, started);
    } catch (err) {
      if (this.#measured) recordServiceCall('redis', fn, started, err);
      noteFailure(err);
    }
  }

  raw(): Redis {
    return this.#redis;
  }
}

function noteFailure(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  if (message === 'timeout') {
    cacheHealth.timeouts++;
    unreported.timeouts++;
  } else {
    cacheHealth.errors++;
    unreported.errors++;
  }
  cacheHealth.lastError = message.slice(0, 200);
  log.warn('cache unavailable, serving uncached:', cacheHealth.lastError);
}

let cached: { settings: CacheSettings; store: CacheStore } | undefined;

/** The isolate's store for these settings (one LRU or one Redis client per isolate). */
export function cacheStore(settings: CacheSettings): CacheStore {
  if (cached?.settings !== settings) {
    cached = {
      settings,
      store: settings.type === 'redis' && settings.url && settings.token ? new RedisCache(settings.url, settings.token, settings.serviceMetrics) : new LocalCache(settings.maxEntries),
    };
  }
  return cached.store;
}
