/**
 * A value an isolate reads from Postgres and keeps (the DB models' catalog, the stored MCP servers):
 * stale-while-revalidate, one read at a time, a failed read keeping the last value. A request that cannot use
 * the value it has (the isolate has none yet, or it names something the value does not know) waits, at most
 * WAIT_AT_MOST_MS, for a read that started after it arrived, started no sooner than MISSING_REFRESH_AFTER_MS
 * after the last one (names are the client's, so asking for an unknown one cannot make the isolate read Postgres
 * more often than that).
 */
import { log } from '../telemetry/log.ts';

/** A warm isolate re-reads at most this often when a request comes (no timer: reads start only on requests); also how long a failed read stops requests waiting. */
export const REFRESH_EVERY_MS = 2_000;
/** A request that must wait waits for a read started no sooner than this after the last. */
export const MISSING_REFRESH_AFTER_MS = 500;
/** The longest a request waits for a read; then it answers from the value it has. */
const WAIT_AT_MOST_MS = 3_000;

export interface WaitUntil {
  waitUntil(p: Promise<unknown>): void;
}

export class Refreshed<T> {
  value: T;
  /** Date.now() when the last read started (0 before the first), and when a read last completed (0: none yet). */
  startedAt = 0;
  loadedAt = 0;
  /** Date.now() when a read last ended, landed or failed (0: the isolate's first read is still to end). */
  settledAt = 0;
  /** Whether the last read that ended failed (Postgres down or slow); see `backingOff`. */
  failing = false;
  private inFlight: Promise<void> | undefined;
  private readonly label: string;
  /** Reads the value (a request's `waitUntil` keeps what it leaves running alive). */
  private readonly load: (ctx: WaitUntil) => Promise<T>;

  constructor(initial: T, label: string, load: (ctx: WaitUntil) => Promise<T>) {
    this.value = initial;
    this.label = label;
    this.load = load;
  }

  /**
   * Whether the last read failed less than REFRESH_EVERY_MS ago: callers then answer from the value they have
   * rather than wait (a read now would likely fail too). The window expires, so a failed read does not leave an
   * isolate answering an ever older value unwaited: after it, a request that must wait shares one read.
   */
  get backingOff(): boolean {
    return this.failing && Date.now() - this.settledAt < REFRESH_EVERY_MS;
  }

  /**
   * The value: when `mustWait`, after a read that started after this call (at most WAIT_AT_MOST_MS);
   * otherwise as it is, a background read started once it is REFRESH_EVERY_MS old. The read outlives the
   * request through `waitUntil`.
   */
  async current(ctx: WaitUntil, mustWait: boolean): Promise<T> {
    const arrived = Date.now();
    if (mustWait) await waitAtMost(this.readSince(ctx, arrived), WAIT_AT_MOST_MS);
    else if (arrived - this.startedAt >= REFRESH_EVERY_MS) void this.refresh(ctx);
    return this.value;
  }

  /** Waits for a read that started at or after `arrived`, starting one no sooner than MISSING_REFRESH_AFTER_MS after the last. */
  private async readSince(ctx: WaitUntil, arrived: number): Promise<void> {
    // Until a first read lands, the one running is the one to wait for.
    if (this.loadedAt === 0 && this.inFlight) return this.inFlight;
    const age = arrived - this.startedAt;
    if (this.startedAt !== 0 && age < MISSING_REFRESH_AFTER_MS) await new Promise((r) => setTimeout(r, MISSING_REFRESH_AFTER_MS - age));
    // A read that began before this request may predate what it asks for: let it land, then read again.
    if (this.inFlight && this.startedAt < arrived) {
      await this.inFlight;
      // It failed: that read is the one waited for (another now would fail too; while reads fail, one per REFRESH_EVERY_MS).
      if (this.failing) return;
    }
    await (this.startedAt < arrived ? this.refresh(ctx) : this.inFlight);
  }

  /** One read at a time; it outlives the request that started it. */
  private refresh(ctx: WaitUntil): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.startedAt = Date.now();
    const read = (async () => {
      try {
        this.value = await this.load(ctx);
        this.loadedAt = Date.now();
        this.failing = false;
      } catch (err) {
        this.failing = true;
        // Postgres down or slow: keep serving the last value; the next interval tries again.
        log.error(`reading ${this.label} failed, serving the last ones: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        this.settledAt = Date.now();
        this.inFlight = undefined;
      }
    })();
    this.inFlight = read;
    ctx.waitUntil(read);
    return read;
  }
}

function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([p, timeout]).finally(() => timer !== undefined && clearTimeout(timer));
}
