import { GatewayError } from '../errors.ts';
import type { RequestHeaders } from '../providers/types.ts';

/**
 * LiteLLM's `general_settings.allowed_ips`: every authenticated request must come from one of these
 * addresses (or, beyond LiteLLM, a range in CIDR form, `10.0.0.0/8`, `2001:db8::/32`), compared as numbers,
 * so any spelling of an IPv6 address matches. Where the client's address
 * comes from: on Cloudflare, `CF-Connecting-IP`, which Cloudflare's edge sets; behind a proxy of your own
 * (the in-region image's ingress), with `use_x_forwarded_for: true`, the last `X-Forwarded-For` entry, the
 * one that proxy added. A request whose address cannot be known this way is refused: a client can send any
 * header to a gateway no edge stands in front of.
 */

export interface AllowedIps {
  /** Addresses and ranges as 128-bit numbers (IPv4 as IPv4-mapped IPv6) and prefix masks. */
  ranges: { base: bigint; mask: bigint }[];
  useForwardedFor: boolean;
  /** Not under the local runtime, whose made-up `cf` object would pass for the edge's. */
  trustEdge: boolean;
}

/** Whether requests reach this isolate through Cloudflare's edge (their `cf` object), which sets CF-Connecting-IP itself. */
let throughEdge = false;

export function noteEdge(request: Request): void {
  if (!throughEdge && (request as { cf?: unknown }).cf) throughEdge = true;
}

const V4_MAPPED = 0xffffn << 32n;
const ALL = (1n << 128n) - 1n;

function ipv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256n + BigInt(p), 0n);
}

/** An address as a 128-bit number (an IPv4 address as its IPv4-mapped IPv6 form), or undefined. */
export function parseIp(text: string): bigint | undefined {
  const v4 = ipv4(text);
  if (v4 !== undefined) return V4_MAPPED | v4;
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): bigint[] | undefined => {
    if (half === '') return [];
    const out: bigint[] = [];
    const parts = half.split(':');
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes('.')) {
        const tail = ipv4(part);
        if (tail === undefined) return undefined;
        out.push(tail >> 16n, tail & 0xffffn);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) out.push(BigInt(`0x${part}`));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<bigint>(halves.length === 2 ? missing : 0).fill(0n), ...tail].reduce((n, g) => (n << 16n) | g, 0n);
}

/** An `allowed_ips` entry (an address, or a range `10.0.0.0/8`, `2001:db8::/32`) as a base and mask; undefined when it is neither. */
export function parseRange(entry: string): { base: bigint; mask: bigint } | undefined {
  const [address, prefix, extra] = entry.trim().split('/');
  if (extra !== undefined || address === undefined) return undefined;
  const ip = parseIp(address);
  if (ip === undefined) return undefined;
  const width = ipv4(address) !== undefined ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = prefix === undefined ? width : Number(prefix);
  if (bits > width) return undefined;
  const length = 128 - width + bits;
  const mask = length === 0 ? 0n : (ALL << BigInt(128 - length)) & ALL;
  return { base: ip & mask, mask };
}

/** The config's list, compiled (its entries are checked by the config's validation with parseRange). */
export function allowedIps(list: readonly string[] | undefined, useForwardedFor: boolean | undefined, trustEdge = true): AllowedIps | undefined {
  if (!list) return undefined;
  return { ranges: list.map(parseRange).filter((r) => r !== undefined), useForwardedFor: useForwardedFor === true, trustEdge };
}

/** A forwarded address without the port or brackets some proxies add (`203.0.113.7:5555`, `[2001:db8::1]:443`). */
function bare(hop: string): string {
  const bracketed = /^\[([^\]]+)\](:\d+)?$/.exec(hop);
  if (bracketed) return bracketed[1]!;
  const withPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return withPort ? withPort[1]! : hop;
}

/** The client's address as this deployment can know it (see above), or undefined. */
export function clientIp(headers: RequestHeaders, source: Pick<AllowedIps, 'useForwardedFor' | 'trustEdge'>): string | undefined {
  if (source.useForwardedFor) {
    const hops = headers.get('x-forwarded-for')?.split(',').map((h) => h.trim()).filter(Boolean);
    return hops?.length ? bare(hops[hops.length - 1]!) : undefined;
  }
  return throughEdge && source.trustEdge ? headers.get('cf-connecting-ip')?.trim() || undefined : undefined;
}

/** Refuses (403, LiteLLM's words) a request from an address not allowed. */
export function checkClientIp(headers: RequestHeaders, allowed: AllowedIps): void {
  const ip = clientIp(headers, allowed);
  const address = ip === undefined ? undefined : parseIp(ip);
  if (address !== undefined && allowed.ranges.some((r) => (address & r.mask) === r.base)) return;
  const shown = ip === undefined ? 'unknown' : ip.slice(0, 64);
  const hint = ip === undefined
    ? ' (the client\'s address is read from CF-Connecting-IP on Cloudflare, or from X-Forwarded-For with general_settings.use_x_forwarded_for: true)'
    : '';
  throw new GatewayError(`Access forbidden: IP address ${shown} not allowed.${hint}`, { status: 403, type: 'auth_error', param: null });
}
