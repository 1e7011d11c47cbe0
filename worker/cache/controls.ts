import { GatewayError } from '../errors.ts';

/** The per-request `cache` controls of LiteLLM (`extra_body={"cache": {...}}`). */
export interface CacheControls {
  noCache: boolean;
  noStore: boolean;
  ttl?: number;
  sMaxAge?: number;
  namespace?: string;
  useCache?: boolean;
}

const KNOWN = new Set(['no-cache', 'no-store', 'ttl', 's-maxage', 'namespace', 'use-cache']);

/**
 * Reads the body's `cache` object. A key whose `allowed_cache_controls` is
 * not empty may only use the controls listed there (LiteLLM's 403 and
 * message); an empty list allows them all.
 */
export function readControls(body: Record<string, unknown>, allowed: readonly string[] | undefined): CacheControls {
  const raw = body.cache;
  if (raw === undefined || raw === null) return { noCache: false, noStore: false };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new GatewayError('cache must be an object of cache controls', { status: 400, type: 'bad_request_error', param: 'cache' });
  }
  const controls = raw as Record<string, unknown>;
  for (const name of Object.keys(controls)) {
    if (!KNOWN.has(name)) throw new GatewayError(`Unknown cache control: ${name}`, { status: 400, type: 'bad_request_error', param: 'cache' });
    if (allowed?.length && !allowed.includes(name) && !allowed.includes('*')) {
      throw new GatewayError(`Not allowed to set ${name} as a cache control. Contact admin to change permissions.`, { status: 403, type: 'auth_error', param: 'cache' });
    }
  }
  const num = (v: unknown, name: string) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new GatewayError(`cache.${name} must be a non-negative number of seconds`, { status: 400, type: 'bad_request_error', param: `cache.${name}` });
    return v;
  };
  return {
    noCache: controls['no-cache'] === true,
    noStore: controls['no-store'] === true,
    ttl: num(controls.ttl, 'ttl'),
    sMaxAge: num(controls['s-maxage'], 's-maxage'),
    namespace: typeof controls.namespace === 'string' && controls.namespace ? controls.namespace : undefined,
    useCache: controls['use-cache'] === undefined ? undefined : controls['use-cache'] === true,
  };
}
