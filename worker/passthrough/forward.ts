import { badRequest } from '../errors.ts';
import { displayBase, upstreamUrl } from '../providers/upstream-url.ts';

/**
 * The upstream URL of a pass-through call: the configured base (checked as every upstream URL is: a
 * plain http(s) origin, no credentials, query or fragment) with the client's path below it and the
 * client's query. The path is the client's, so it may not climb out of the base (`..`, `.`, in any
 * encoding), carry a backslash or control characters, or make an empty segment; and the result must
 * keep the base's origin and path (Portkey's SSRF bugs came through such paths).
 *
 * With `dedupe`, a base that already ends in the path's first segment (`.../v1` and `v1/messages`) is not doubled;
 * `versionPrefix` is put in front of a path that lacks it (OpenAI's, for a client whose base URL is `.../openai`).
 */
export function passThroughUrl(base: string, subpath: string, query: Iterable<[string, string]>, options: { versionPrefix?: string | undefined; dedupe?: boolean } & SegmentRules = {}): URL {
  const root = upstreamUrl(base, '');
  const segments = pathSegments(subpath, options);
  const baseSegments = root.pathname.split('/').filter(Boolean);
  if (options.dedupe && segments.length && baseSegments.at(-1) === segments[0]) segments.shift();
  const prefix = options.versionPrefix;
  if (prefix && segments[0] !== prefix && baseSegments.at(-1) !== prefix) segments.unshift(prefix);
  const url = new URL(root);
  // No path below the base: the base as it was written, without the slash upstreamUrl ends it with.
  const rootPath = root.pathname;
  url.pathname = segments.length ? `${rootPath}${segments.join('/')}` : rootPath.length > 1 ? rootPath.slice(0, -1) : rootPath;
  if (url.origin !== root.origin || !`${url.pathname}/`.startsWith(rootPath)) throw badRequest('Invalid pass-through path');
  for (const [name, value] of query) url.searchParams.append(name, value);
  return url;
}

export interface SegmentRules {
  /** Bedrock's ARNs (inference profiles) travel as one encoded segment after `model/`: an encoded slash is allowed there. */
  encodedSlashAfter?: string | undefined;
}

/** The client's path below a pass-through prefix, as segments (still encoded); a 400 for one that could leave the base (see passThroughUrl). */
export function pathSegments(subpath: string, rules: SegmentRules = {}): string[] {
  const segments = subpath.split('/').filter((s, i, all) => !(s === '' && (i === 0 || i === all.length - 1)));
  for (const [i, segment] of segments.entries()) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw badRequest('Invalid pass-through path: bad percent-encoding');
    }
    const slashAllowed = rules.encodedSlashAfter !== undefined && i === 1 && segments[0] === rules.encodedSlashAfter
      && !decoded.split('/').some((part) => part === '' || part === '.' || part === '..');
    if (segment === '' || decoded === '.' || decoded === '..' || /[\\\u0000-\u001f\u007f]/.test(decoded) || (decoded.includes('/') && !slashAllowed)) {
      throw badRequest('Invalid pass-through path: it may not contain empty, "." or ".." segments, encoded slashes, backslashes or control characters');
    }
  }
  return segments;
}

/** The path as the provider reads it (segments decoded), for deciding what a call is: `/v1/chat/completions`. */
export function readablePath(segments: readonly string[]): string {
  return `/${segments.map((s) => decodeURIComponent(s)).join('/')}`;
}

/** Never sent on: credentials (the gateway's key, anything meant for another hop), hop-by-hop headers, the client's address. */
const NEVER_FORWARDED = new Set([
  'authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'x-litellm-api-key', 'ocp-apim-subscription-key', 'cookie',
  'proxy-authorization', 'host', 'content-length', 'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-connection', 'accept-encoding', 'x-real-ip', 'true-client-ip', 'x-client-ip', 'x-original-forwarded-for', 'forwarded',
  // A method other than the one the gateway sends, for servers that honour these.
  'x-http-method-override', 'x-http-method', 'x-method-override',
  // Which of an account's organizations and projects pays is the operator's choice, not the client's.
  'openai-organization', 'openai-project', 'x-goog-user-project',
]);
const PASS_PREFIX = 'x-pass-';

/**
 * Whether a client header never reaches a provider, on any route: those above, the gateway's own
 * (`x-litellm-*`), Cloudflare's (`cf-*`), what proxies add (`x-forwarded-*`), and AWS signatures and
 * session tokens (`x-amz-*`: Bedrock's requests are signed by the gateway). `name` is lower case.
 */
export function neverForwarded(name: string): boolean {
  return NEVER_FORWARDED.has(name) || name.startsWith('x-litellm-') || name.startsWith('cf-') || name.startsWith('x-forwarded-') || name.startsWith('x-amz-');
}

/** MCP servers' (`x-mcp-<server>-*`) and A2A agents' (`x-a2a-<agent>-*`) headers: their credentials, never a provider's. */
const othersHeader = (name: string) => name.startsWith('x-mcp-') || name.startsWith('x-a2a-');

/**
 * The client's headers as a pass-through call sends them on. With `all`, every header but those never
 * forwarded, the gateway's own (`x-litellm-*`, Cloudflare's `cf-*`), MCP servers' and A2A agents' (`x-mcp-*`,
 * `x-a2a-*`) and `keyHeaders` (the headers keys may come in by config); without, only `content-type` and
 * `accept`. Either way `x-pass-NAME` goes on as `NAME` (LiteLLM's rule: the client names it for the provider,
 * `x-pass-x-mcp-...` too), unless NAME is one never forwarded.
 */
export function forwardedHeaders(client: Headers, options: { all: boolean; keyHeaders?: readonly (string | undefined)[] }): Headers {
  const out = new Headers();
  const keyHeaders = new Set((options.keyHeaders ?? []).filter((h): h is string => !!h).map((h) => h.toLowerCase()));
  client.forEach((value, name) => {
    if (name.startsWith(PASS_PREFIX)) {
      const target = name.slice(PASS_PREFIX.length);
      if (target && !neverForwarded(target) && !keyHeaders.has(target)) out.set(target, value);
      return;
    }
    if (neverForwarded(name) || keyHeaders.has(name) || othersHeader(name)) return;
    if (options.all || name === 'content-type' || name === 'accept') {
      if (!out.has(name)) out.set(name, value);
    }
  });
  return out;
}

/** The provider's answer headers the client gets, beside the gateway's own: not its framing, encoding or cookies. */
const NOT_RETURNED = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive', 'set-cookie', 'content-type']);

export function returnedHeaders(upstream: Headers, into: Headers): void {
  upstream.forEach((value, name) => {
    if (NOT_RETURNED.has(name) || name.startsWith('x-litellm-') || into.has(name)) return;
    into.set(name, value);
  });
}

/** An upstream's base URL for headers and logs (`x-litellm-model-api-base`): no query, no credentials; '' when it is not a URL. */
export function safeBase(base: string): string {
  try {
    return displayBase(new URL(base));
  } catch {
    return '';
  }
}
