import { readUsage, type UsageReading, usageOf } from '../passthrough/usage-reader.ts';
import type { UsageReport } from '../providers/types.ts';

// The largest `usage` object kept while scanning (Google's is a few hundred bytes; this bounds a hostile one).
const MAX_USAGE_CHARS = 64 * 1024;
// A top-level key longer than this is not `usage`, and is not kept.
const MAX_KEY_CHARS = 32;

/**
 * The `usage` of an interaction too large to hold (answer.ts): its JSON read through, chunk after chunk (`held`
 * first, then the rest of `reader`), each chunk dropped once read, keeping only the top-level `usage` object's
 * text (near the end of an interaction). Google charged for the answer the client does not get, so the call is
 * billed by it. Undefined when the body names none, or breaks off before it.
 */
export async function scanUsage(held: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): Promise<UsageReport | undefined> {
  const scanner = new UsageScanner();
  const decoder = new TextDecoder();
  while (held.length) scanner.push(decoder.decode(held.shift()!, { stream: true }));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      scanner.push(decoder.decode(value, { stream: true }));
    }
  } catch {
    // Broken off: whatever usage was read before it stands.
  }
  return scanner.usage();
}

/**
 * A streaming reader of one JSON object's top-level `usage` value: it follows strings and nesting char by char,
 * holding nothing but the current top-level key and, once found, the usage object's own text.
 */
export class UsageScanner {
  #depth = 0;
  #inString = false;
  #escaped = false;
  #key: string | null = '';
  #lastKey: string | null = null;
  #current: string | null = null;
  #capture: string | null = null;
  #reading: UsageReading = {};

  push(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (this.#capture !== null) this.#capture += ch;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (ch === '\\') this.#escaped = true;
        else if (ch === '"') {
          this.#inString = false;
          if (this.#depth === 1) this.#lastKey = this.#key;
        } else if (this.#depth === 1 && this.#key !== null) {
          this.#key = this.#key.length < MAX_KEY_CHARS ? this.#key + ch : null;
        }
        if (this.#capture !== null && this.#capture.length > MAX_USAGE_CHARS) this.#capture = null;
        continue;
      }
      if (ch === '"') {
        this.#inString = true;
        this.#key = '';
      } else if (ch === ':') {
        if (this.#depth === 1) this.#current = this.#lastKey;
      } else if (ch === ',') {
        if (this.#depth === 1) this.#current = null;
      } else if (ch === '{' || ch === '[') {
        this.#depth++;
        if (this.#depth === 2 && ch === '{' && this.#current === 'usage') this.#capture = '{';
      } else if (ch === '}' || ch === ']') {
        if (this.#depth === 2 && this.#capture !== null) this.#read(this.#capture);
        this.#depth--;
      }
      if (this.#capture !== null && this.#capture.length > MAX_USAGE_CHARS) this.#capture = null;
    }
  }

  #read(text: string): void {
    this.#capture = null;
    try {
      readUsage({ usage: JSON.parse(text) as unknown }, this.#reading);
    } catch {
      // Not JSON after all: no usage.
    }
  }

  usage(): UsageReport | undefined {
    return usageOf(this.#reading);
  }
}
