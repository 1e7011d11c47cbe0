const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const encoder = new TextEncoder();

/** Lower-case hex of bytes (a table lookup per byte: this runs on every request). */
export function toHex(bytes: ArrayBuffer): string {
  const view = new Uint8Array(bytes);
  let out = '';
  for (let i = 0; i < view.length; i++) out += HEX[view[i] as number];
  return out;
}

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
