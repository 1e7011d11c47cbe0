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
 * A fresh virtual key: `sk-` and base64url of 16 random bytes (128 bits), LiteLLM's `secrets.token_urlsafe(16)`
 * shape. One maker for /key/generate, /user/new's personal key and JWT auto_register, so every key looks alike.
 */
export function newPlainKey(): string {
  let binary = '';
  for (const b of crypto.getRandomValues(new Uint8Array(16))) binary += String.fromCharCode(b);
  return `sk-${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** Keys presented lately and their hashes, per isolate (bounded: emptied when full; keys longer than any real one are not kept). */
const presented = new Map<string, string>();
const MAX_PRESENTED = 1024;
const MAX_PRESENTED_KEY_CHARS = 256;

/**
 * hashKey() for the key a request presents. A client sends the same key on
 * every request, and a digest through crypto.subtle (an encoded copy, a
 * promise, a hex string) is measurable per request at load (`npm run
 * bench:ab`); the isolate keeps the hashes of the keys it saw lately, in
 * its own memory only, as it holds the keys' policies.
 */
export async function hashPresentedKey(key: string): Promise<string> {
  const known = presented.get(key);
  if (known !== undefined) return known;
  const hash = await hashKey(key);
  if (key.length <= MAX_PRESENTED_KEY_CHARS) {
    if (presented.size >= MAX_PRESENTED) presented.clear();
    presented.set(key, hash);
  }
  return hash;
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
