/** SHA-256 hex of a key: how LiteLLM (and Tollgate) store virtual keys. */
export async function hashKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
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
