/**
 * An Entra ID access token from the client-credentials grant (`POST <authority>/<tenant>/oauth2/v2.0/token` with
 * the app registration's id and secret and a resource's scope), kept per isolate until five minutes (half its
 * lifetime, when shorter) before it lapses: how LiteLLM's Azure loggers sign in (`azure_storage` for Storage, `azure_sentinel` for Azure Monitor).
 */

/** An app registration's client-credentials settings, and the scope its tokens are asked for. */
export interface EntraClient {
  /** The authority host, `https://login.microsoftonline.com` unless AZURE_AUTHORITY_HOST says another cloud. */
  authority: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  /** The resource's `.default` scope: `https://storage.azure.com/.default`, `https://monitor.azure.com/.default`. */
  scope: string;
}

/** A token refused or not had, as the poster reports it: Entra's error code and AADSTS number, never its description. */
export class EntraTokenError extends Error {}

/** Renewed this long before it lapses, as LiteLLM does (five minutes); a token living less than twice that, half-way. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** How long a failed exchange (or a fresh token the service refused) is remembered, so a batch makes one exchange, not one a request. */
export const TOKEN_FAILURE_MS = 30_000;

interface Kept { token: Promise<string>; renewAt: number }
const kept = new Map<string, Kept>();
/** Per client and scope: the newest token handed out, so a batch knows the tokens exchanged during it. */
const newest = new Map<string, string>();
const keyOf = (c: EntraClient) => `${c.authority}\n${c.tenant}\n${c.clientId}\n${c.clientSecret}\n${c.scope}`;

/**
 * The client's token for its scope: the kept one, else one exchanged now (a concurrent request waits for the
 * same). A token new to this isolate (just exchanged) joins `fresh`, the batch's set.
 */
export async function entraToken(client: EntraClient, fresh: Set<string>, now = Date.now()): Promise<string> {
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
 * The service (`service`, as the reason names it) answered 401 for `token`: the client's kept token is dropped
 * when it is that one, so the next request exchanges anew (a newer token another request asked for meanwhile is
 * kept). One of this batch's `fresh` tokens, refused as soon as it was issued (a token of another tenant), is the
 * app registration's own failure that a new exchange would meet again: the refusal is kept in its place for
 * TOKEN_FAILURE_MS, as a failed exchange is, and its reason returned. `code`: the service's error code.
 */
export async function forgetEntraToken(client: EntraClient, token: string, service: string, fresh: ReadonlySet<string> = new Set(), code = ''): Promise<string | undefined> {
  const key = keyOf(client);
  const entry = kept.get(key);
  if (!entry || (await entry.token.catch(() => '')) !== token || kept.get(key) !== entry) return undefined;
  if (!fresh.has(token)) {
    kept.delete(key);
    return undefined;
  }
  const reason = `${service} refused a fresh token (HTTP 401${code ? ` ${code}` : ''})`;
  const refused = Promise.reject(new EntraTokenError(reason));
  refused.catch(() => undefined);
  kept.set(key, { token: refused, renewAt: Date.now() + TOKEN_FAILURE_MS });
  return reason;
}

async function exchange(client: EntraClient): Promise<string> {
  const url = `${client.authority.replace(/\/+$/, '')}/${encodeURIComponent(client.tenant)}/oauth2/v2.0/token`;
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: client.scope });
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
  const lifetime = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 3600_000;
  const entry = kept.get(keyOf(client));
  if (entry) entry.renewAt = Date.now() + lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 2);
  return answer.access_token;
}
