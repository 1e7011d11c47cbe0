import { GatewayError } from '../errors.ts';
import type { RequestHeaders } from '../providers/types.ts';

/**
 * LiteLLM's `general_settings.allowed_ips`: every authenticated request must come from one of these
 * addresses (or, beyond LiteLLM, an IPv4 range in CIDR form, `10.0.0.0/8`). Where the client's address
 * comes from: on Cloudflare, `CF-Connecting-IP`, which Cloudflare's edge sets; behind a proxy of your own
 * (the in-region image's ingress), with `use_x_forwarded_for: true`, the last `X-Forwarded-For` entry, the
 * one that proxy added. A request whose address cannot be known this way is refused: a client can send any
 * header to a gateway no edge stands in front of.
 */

export interface AllowedIps {
  exact: ReadonlySet<string>;
  ranges: { base: number; mask: number }[];
  useForwardedFor: boolean;
  /** Not under the local runtime, whose made-up `cf` object would pass for the edge's. */
  trustEdge: boolean;
}

/** Whether requests reach this isolate through Cloudflare's edge (their `cf` object), which sets CF-Connecting-IP itself. */
let throughEdge = false;

export function noteEdge(request: Request): void {
  if (!throughEdge && (request as { cf?: unknown }).cf) throughEdge = true;
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** An IPv6 address in one spelling (lower case; an IPv4-mapped address as its IPv4 form). */
function canonical(ip: string): string {
  const lower = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped ? mapped[1]! : lower;
}

/** The config's list, compiled (entries are checked by the config's validation: addresses or IPv4 CIDR ranges). */
export function allowedIps(list: readonly string[] | undefined, useForwardedFor: boolean | undefined, trustEdge = true): AllowedIps | undefined {
  if (!list) return undefined;
  const exact = new Set<string>();
  const ranges: AllowedIps['ranges'] = [];
  for (const entry of list) {
    const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(entry.trim());
    const base = cidr ? ipv4(cidr[1]!) : undefined;
    if (cidr && base !== undefined && Number(cidr[2]) <= 32) {
      const bits = Number(cidr[2]);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      ranges.push({ base: (base & mask) >>> 0, mask });
    } else {
      exact.add(canonical(entry));
    }
  }
  return { exact, ranges, useForwardedFor: useForwardedFor === true, trustEdge };
}

/** The client's address as this deployment can know it (see above), or undefined. */
export function clientIp(headers: RequestHeaders, source: Pick<AllowedIps, 'useForwardedFor' | 'trustEdge'>): string | undefined {
  if (source.useForwardedFor) {
    const hops = headers.get('x-forwarded-for')?.split(',').map((h) => h.trim()).filter(Boolean);
    return hops?.length ? hops[hops.length - 1] : undefined;
  }
  return throughEdge && source.trustEdge ? headers.get('cf-connecting-ip')?.trim() || undefined : undefined;
}

/** Refuses (403, LiteLLM's words) a request from an address not allowed. */
export function checkClientIp(headers: RequestHeaders, allowed: AllowedIps): void {
  const ip = clientIp(headers, allowed);
  if (ip !== undefined) {
    const address = canonical(ip);
    if (allowed.exact.has(address)) return;
    const v4 = ipv4(address);
    if (v4 !== undefined && allowed.ranges.some((r) => ((v4 & r.mask) >>> 0) === r.base)) return;
  }
  const shown = ip === undefined ? 'unknown' : ip.slice(0, 64);
  const hint = ip === undefined
    ? ' (the client\'s address is read from CF-Connecting-IP on Cloudflare, or from X-Forwarded-For with general_settings.use_x_forwarded_for: true)'
    : '';
  throw new GatewayError(`Access forbidden: IP address ${shown} not allowed.${hint}`, { status: 403, type: 'auth_error', param: null });
}
