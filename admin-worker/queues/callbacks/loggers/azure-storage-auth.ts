/**
 * Shared Key, one of the two ways LiteLLM's `azure_storage` logger signs in to Azure Data Lake Storage Gen2: an
 * HMAC-SHA256 of the request's canonical string with the account key, as Azure documents it for the Blob and
 * Data Lake services ("Authorize with Shared Key"). The other, an Entra ID token of scope
 * `https://storage.azure.com/.default`, is entra-token.ts's.
 */

/** The request headers Shared Key signs in order, by their value alone (Date is left empty: x-ms-date is sent). */
const SIGNED_HEADERS = ['content-encoding', 'content-language', 'content-length', 'content-md5', 'content-type', 'date', 'if-modified-since', 'if-match', 'if-none-match', 'if-unmodified-since', 'range'];

/**
 * Azure's Shared Key string to sign (version 2015-02-21 and later): the verb, the standard headers' values (a
 * Content-Length of 0 as empty), the `x-ms-*` headers lowercased and sorted as `name:value`, then the
 * canonicalized resource: `/<account><encoded path>` and each query parameter as `\n<name>:<values, sorted>`.
 */
export function sharedKeyStringToSign(method: string, url: URL, headers: Readonly<Record<string, string>>, account: string): string {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const standard = SIGNED_HEADERS.map((h) => (h === 'content-length' && lower[h] === '0' ? '' : lower[h] ?? ''));
  const msHeaders = Object.keys(lower).filter((h) => h.startsWith('x-ms-')).sort()
    .map((h) => `${h}:${lower[h]!.trim().replace(/\s+/g, ' ')}\n`).join('');
  const params = new Map<string, string[]>();
  for (const [name, value] of url.searchParams) params.set(name.toLowerCase(), [...(params.get(name.toLowerCase()) ?? []), value]);
  const query = [...params.keys()].sort().map((name) => `\n${name}:${params.get(name)!.sort().join(',')}`).join('');
  return `${method.toUpperCase()}\n${standard.join('\n')}\n${msHeaders}/${account}${url.pathname}${query}`;
}

/** The account key's bytes (base64, as the portal shows it), or undefined when it is not base64. */
export function accountKeyBytes(key: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) return undefined;
  return Uint8Array.from(atob(key), (c) => c.charCodeAt(0));
}

/** `SharedKey <account>:<base64 HMAC-SHA256 of the string to sign>`, the Authorization header's value. */
export async function sharedKeyAuthorization(method: string, url: URL, headers: Readonly<Record<string, string>>, account: string, key: Uint8Array): Promise<string> {
  const hmac = await crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', hmac, new TextEncoder().encode(sharedKeyStringToSign(method, url, headers, account)));
  return `SharedKey ${account}:${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
}
