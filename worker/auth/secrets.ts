/** The ASCII codes of each byte's two hex digits. */
const HEX_CODES = new TextEncoder().encode(Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join(''));
const decoder = new TextDecoder();

/** Lower-case hex of bytes, built as one string (not a concatenation per byte). */
export function toHex(bytes: ArrayBuffer): string {
  const view = new Uint8Array(bytes);
  const out = new Uint8Array(view.length * 2);
  for (let i = 0; i < view.length; i++) {
    const at = (view[i] as number) * 2;
    out[i * 2] = HEX_CODES[at] as number;
    out[i * 2 + 1] = HEX_CODES[at + 1] as number;
  }
  return decoder.decode(out);
}

const encoder = new TextEncoder();

/** SHA-256 hex of a key: how LiteLLM (and Tollgate) store virtual keys. */
export async function hashKey(key: string): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', encoder.encode(key)));
}

/**
 * Compares two SHA-256 hex digests in constant time. Comparing digests, not
 * keys, means the key's length never matters and one hash per request serves
 * both the master-key check and the virtual-key lookup.
 */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** `sk-...ABCD`: the only form of a key that may appear in a message or a log line. */
export function abbreviateKey(key: string): string {
  return key.length <= 8 ? 'sk-...' : `${key.slice(0, 3)}...${key.slice(-4)}`;
}
