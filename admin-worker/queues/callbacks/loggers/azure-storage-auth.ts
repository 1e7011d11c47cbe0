/**
 * The two ways LiteLLM's `azure_storage` logger signs in to Azure Data Lake Storage Gen2: Shared Key (an
 * HMAC-SHA256 of the request's canonical string with the account key, as Azure documents it for the Blob and
 * Data Lake services, "Authorize with Shared Key") and an Entra ID token from the client-credentials grant
 * (`POST <authority>/<tenant>/oauth2/v2.0/token`, scope `https://storage.azure.com/.default`), kept per
 * isolate until five minutes before it lapses.
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

/** An app registration's client-credentials settings. */
export interface EntraClient {
  /** The authority host, `https://login.microsoftonline.com` unless AZURE_AUTHORITY_HOST says another cloud. */
  authority: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
}

/** A token refused or not had, as the poster reports it: Entra's error code and AADSTS number, never its description. */
export class EntraTokenError extends Error {}

/** Renewed this long before it lapses, as LiteLLM does (five minutes). */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** How long a failed exchange (or a fresh token Storage refused) is remembered, so a batch of uploads makes one exchange, not one each. */
export const TOKEN_FAILURE_MS = 30_000;

interface Kept { token: Promise<string>; renewAt: number }
const kept = new Map<string, Kept>();
/** Per client: the newest token handed out, so a batch knows the tokens exchanged during it. */
const newest = new Map<string, string>();
const keyOf = (c: EntraClient) => `${c.authority}\n${c.tenant}\n${c.clientId}\n${c.clientSecret}`;

/**
 * The client's token for Azure Storage: the kept one, else one exchanged now (a concurrent upload waits for the
 * same). A token new to this isolate (just exchanged) joins `fresh`, the batch's set.
 */
export async function storageToken(client: EntraClient, fresh: Set<string>, now = Date.now()): Promise<string> {
  const key = keyOf(client);
  let entry = kept.get(key);
  if (!entry || now >= entry.renewAt) {
    const exchanged: Kept = { token: exchange(client), renewAt: Infinity };
    kept.set(key, exchanged);
    exchanged.token.then(
      () => undefined,
      () => { exchanged.renewAt = Date.now() + TOKEN_FAILURE_MS; },
    );
    entry = exchanged;
  }
  const token = await entry.token;
  if (newest.get(key) !== token) {
    newest.set(key, token);
    fresh.add(token);
  }
  return token;
}

/**
 * Storage answered 401 for `token`: the client's kept token is dropped when it is that one, so the next upload
 * exchanges anew (a newer token another upload asked for meanwhile is kept). One of this batch's `fresh` tokens,
 * refused as soon as it was issued (a token of another tenant), is the app registration's own failure that a new
 * exchange would meet again: the refusal is kept in its place for TOKEN_FAILURE_MS, as a failed exchange is, and
 * its reason returned. `code`: Storage's error code.
 */
export async function forgetStorageToken(client: EntraClient, token: string, fresh: ReadonlySet<string> = new Set(), code = ''): Promise<string | undefined> {
  const key = keyOf(client);
  const entry = kept.get(key);
  if (!entry || (await entry.token.catch(() => '')) !== token || kept.get(key) !== entry) return undefined;
  if (!fresh.has(token)) {
    kept.delete(key);
    return undefined;
  }
  const reason = `Storage refused a fresh token (HTTP 401${code ? ` ${code}` : ''})`;
  const refused = Promise.reject(new EntraTokenError(reason));
  refused.catch(() => undefined);
  kept.set(key, { token: refused, renewAt: Date.now() + TOKEN_FAILURE_MS });
  return reason;
}

async function exchange(client: EntraClient): Promise<string> {
  const url = `${client.authority.replace(/\/+$/, '')}/${encodeURIComponent(client.tenant)}/oauth2/v2.0/token`;
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'https://storage.azure.com/.default' });
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(10_000), redirect: 'manual' });
  } catch (err) {
    throw new EntraTokenError(`the token endpoint is unreachable (${err instanceof Error ? err.name : typeof err})`);
  }
  const answer = await res.json().catch(() => ({})) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_codes?: unknown };
  if (res.status !== 200 || typeof answer.access_token !== 'string') {
    const code = typeof answer.error === 'string' ? ` ${answer.error.slice(0, 64)}` : '';
    const aadsts = Array.isArray(answer.error_codes) && typeof answer.error_codes[0] === 'number' ? ` (AADSTS${answer.error_codes[0]})` : '';
    throw new EntraTokenError(`the token endpoint answered HTTP ${res.status}${code}${aadsts}`);
  }
  const seconds = Number(answer.expires_in);
  const entry = kept.get(keyOf(client));
  if (entry) entry.renewAt = Date.now() + (Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 3600_000) - REFRESH_MARGIN_MS;
  return answer.access_token;
}
