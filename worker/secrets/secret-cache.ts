/**
 * This isolate's secrets read from a secret manager. A name's first use waits for one read (callers
 * arriving meanwhile share it); afterwards calls take the cached value at once, and one past
 * `refreshMs` starts a single background read that replaces it. A failed refresh keeps the value
 * (a secret manager's outage does not take the gateway down) until it is `maxStaleMs` old; then the
 * next use waits for a read again. A failed read is remembered for 5 s, so a missing
 * secret does not send every call to the manager.
 */
import { log } from '../telemetry/log.ts';
import { SecretReadError, type SecretReader } from './reader.ts';

/** Secrets re-read every 5 minutes: a rotated key is picked up soon, the manager sees ~1 read per name per isolate per 5 min. */
export const DEFAULT_REFRESH_MS = 5 * 60_000;
/** The longest a value is used while its refreshes fail: LiteLLM's own cache lifetime (a day). */
export const MAX_STALE_MS = 24 * 60 * 60_000;
const FAILURE_MS = 5_000;
const READ_TIMEOUT_MS = 5_000;
/** Names are config.yaml's references, a bounded set; the cap only guards against a misbehaving caller. */
const MAX_NAMES = 256;

interface Entry {
  value?: string;
  readAt?: number;
  failure?: { error: SecretReadError; at: number };
  pending?: Promise<string>;
  pendingSince?: number;
}

/**
 * A read still pending well past its own timeout was abandoned: the request that started it ended and the
 * runtime dropped its I/O (a Worker's subrequest lives only as long as its request), so it will never settle.
 */
const live = (entry: Entry, now: number) => entry.pending !== undefined && now - (entry.pendingSince ?? 0) < 2 * READ_TIMEOUT_MS;

/**
 * The shared read, as one caller waits for it: at most READ_TIMEOUT_MS. A caller that joined a read started by
 * a request that was since cancelled (its I/O dropped, so the read never settles) gets an `unavailable` error.
 */
function withTimeout(pending: Promise<string>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> = undefined!;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SecretReadError('the secret manager did not answer in time', 'unavailable')), ms);
  });
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
}

export interface SecretCacheOptions {
  refreshMs?: number;
  maxStaleMs?: number;
  now?: () => number;
  /** How long one caller waits for a read (its own or one it joined): READ_TIMEOUT_MS, 5 s. */
  waitMs?: number;
}

export class SecretCache {
  private readonly entries = new Map<string, Entry>();
  private readonly refreshMs: number;
  private readonly maxStaleMs: number;
  private readonly now: () => number;
  private readonly waitMs: number;
  private readonly read: SecretReader;

  constructor(read: SecretReader, options: SecretCacheOptions = {}) {
    this.read = read;
    this.refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    this.maxStaleMs = Math.max(options.maxStaleMs ?? MAX_STALE_MS, this.refreshMs);
    this.now = options.now ?? Date.now;
    this.waitMs = options.waitMs ?? READ_TIMEOUT_MS;
  }

  /**
   * The secret's value. `background` receives a refresh's promise (`ctx.waitUntil`), so the isolate
   * finishes it after the response; throws SecretReadError when there is no usable value.
   */
  get(name: string, background?: (p: Promise<unknown>) => void): Promise<string> | string {
    const entry = this.entries.get(name);
    const now = this.now();
    if (entry?.value !== undefined && entry.readAt !== undefined && now - entry.readAt < this.maxStaleMs) {
      const failedLately = entry.failure !== undefined && now - entry.failure.at < FAILURE_MS;
      if (now - entry.readAt >= this.refreshMs && !live(entry, now) && !failedLately) {
        const refresh = this.load(name, entry).catch((err: SecretReadError) => {
          log.warn(`secret manager: refreshing os.environ/${name} failed (${err.message}); the value read ${Math.round((now - entry.readAt!) / 1000)} s ago is kept`);
        });
        background?.(refresh);
      }
      return entry.value;
    }
    if (entry && live(entry, now)) return withTimeout(entry.pending!, this.waitMs);
    if (entry?.failure && now - entry.failure.at < FAILURE_MS) return Promise.reject(entry.failure.error);
    return withTimeout(this.load(name, entry), this.waitMs);
  }

  private load(name: string, known: Entry | undefined): Promise<string> {
    if (!known && this.entries.size >= MAX_NAMES) this.entries.clear();
    const entry: Entry = known ?? {};
    this.entries.set(name, entry);
    const pending = this.read(name, READ_TIMEOUT_MS).then(
      (value) => {
        entry.value = value;
        entry.readAt = this.now();
        entry.failure = undefined;
        if (entry.pending === pending) entry.pending = undefined;
        return value;
      },
      (err: unknown) => {
        if (entry.pending === pending) entry.pending = undefined;
        const error = err instanceof SecretReadError ? err : new SecretReadError('the secret manager could not be read', 'unavailable');
        entry.failure = { error, at: this.now() };
        // Once per name per failure window (later calls meet the remembered failure): the reference and why, no value.
        if (entry.value === undefined) log.error(`secret manager: reading os.environ/${name} failed: ${error.message}`);
        throw error;
      },
    );
    entry.pending = pending;
    entry.pendingSince = this.now();
    return pending;
  }
}
