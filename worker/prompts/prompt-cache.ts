/**
 * What a parsed answer is counted as, per byte of its JSON: objects, arrays and UTF-16 strings take about three
 * times the text they were parsed from.
 */
export const PARSED_WEIGHT = 3;

/**
 * Remote prompts kept per isolate (generic.ts, langfuse.ts): each entry counts until its own deadline, and
 * the cache holds at most `maxEntries` entries and `maxBytes` of memory in all, each answer counted as
 * PARSED_WEIGHT times its JSON's bytes. A count alone is not enough where a caller picks the key (a Langfuse
 * `prompt_label` or `prompt_version`) and each answer may be up to fetch-prompt.ts's MAX_ANSWER_BYTES. Past
 * either bound the entry written longest ago goes; an expired entry stops being returned and goes when a write
 * needs its room.
 */
export class PromptCache<V> {
  readonly #entries = new Map<string, { value: V; bytes: number; until: number }>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = Math.max(1, maxEntries);
    this.#maxBytes = maxBytes;
  }

  /** The value kept under `key` while `now` is before its deadline, else undefined. */
  get(key: string, now: number = Date.now()): V | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && now < entry.until ? entry.value : undefined;
  }

  /** Keeps `value` (parsed from an answer of `answerBytes`) under `key` for `ttlMs`; one larger than the whole cache is not kept. */
  set(key: string, value: V, answerBytes: number, ttlMs: number, now: number = Date.now()): void {
    this.#forget(key);
    const bytes = answerBytes * PARSED_WEIGHT;
    if (bytes > this.#maxBytes) return;
    this.#entries.set(key, { value, bytes, until: now + ttlMs });
    this.#bytes += bytes;
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#forget(oldest);
    }
  }

  /** Memory counted for the answers kept, expired ones included (tests). */
  get bytes(): number {
    return this.#bytes;
  }

  /** How many keys are kept, expired ones included (tests). */
  get size(): number {
    return this.#entries.size;
  }

  #forget(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}
