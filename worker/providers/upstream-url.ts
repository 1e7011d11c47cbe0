import { GatewayError } from '../errors.ts';

/**
 * Builds an upstream URL from config values only (a client never chooses
 * the host) and refuses anything but a plain http(s) origin: no userinfo,
 * no fragment, no host smuggled in through `@`, `#` or `\` (Portkey's SSRF
 * bugs). Path segments taken from config are appended as given; names that
 * go into a segment must be encoded by the caller.
 */
export function upstreamUrl(base: string, path: string, query: Record<string, string> = {}): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw misconfigured(`api_base is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw misconfigured('api_base must be http or https');
  if (url.username || url.password || base.includes('@')) throw misconfigured('api_base must not contain credentials');
  if (base.includes('#') || base.includes('\\')) throw misconfigured('api_base must not contain "#" or "\\"');
  if (url.search) throw misconfigured('api_base must not contain a query string');
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url;
}

/** `https://host/path` of a URL, for headers and logs (no query, no credentials). */
export function displayBase(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function misconfigured(message: string): GatewayError {
  return new GatewayError(`Deployment misconfigured: ${message}`, { status: 500, type: 'internal_server_error' });
}
