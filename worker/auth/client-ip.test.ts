import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { validateConfig } from '../config/validate.ts';
import { allowedIps, checkClientIp, clientIp, noteEdge, parseIp, parseRange } from './client-ip.ts';

const FORWARDED = { useForwardedFor: true, trustEdge: true };
const EDGE = { useForwardedFor: false, trustEdge: true };
const headers = (h: Record<string, string>) => new Headers(h);
const refused = (h: Record<string, string>, allowed = allowedIps(['203.0.113.7', '10.0.0.0/8', '192.0.2.0/30'], false)!) => {
  try {
    checkClientIp(headers(h), allowed);
    return undefined;
  } catch (err) {
    return err as GatewayError;
  }
};

describe('the client\'s address', () => {
  it('is the last X-Forwarded-For entry with use_x_forwarded_for, never CF-Connecting-IP', () => {
    expect(clientIp(headers({ 'x-forwarded-for': '1.1.1.1, 2.2.2.2 ,3.3.3.3', 'cf-connecting-ip': '9.9.9.9' }), FORWARDED)).toBe('3.3.3.3');
    expect(clientIp(headers({ 'cf-connecting-ip': '9.9.9.9' }), FORWARDED)).toBeUndefined();
  });

  it('is CF-Connecting-IP only once requests are seen coming through Cloudflare\'s edge (their cf object)', () => {
    expect(clientIp(headers({ 'cf-connecting-ip': '203.0.113.7' }), EDGE)).toBeUndefined();
    expect(refused({ 'cf-connecting-ip': '203.0.113.7' })?.status).toBe(403);
    const edgeRequest = Object.assign(new Request('https://gateway.example/v1/models'), { cf: { colo: 'AMS' } });
    noteEdge(edgeRequest);
    expect(clientIp(headers({ 'cf-connecting-ip': '203.0.113.7', 'x-forwarded-for': '10.0.0.1' }), EDGE)).toBe('203.0.113.7');
    expect(refused({ 'cf-connecting-ip': '203.0.113.7' })).toBeUndefined();
    expect(refused({ 'cf-connecting-ip': '10.200.3.4' })).toBeUndefined();
    expect(refused({ 'cf-connecting-ip': '192.0.2.3' })).toBeUndefined();
    expect(refused({ 'cf-connecting-ip': '192.0.2.4' })?.message).toBe('Access forbidden: IP address 192.0.2.4 not allowed.');
    // Under the local runtime (Miniflare makes up a cf object), the header is the client's own: not trusted.
    expect(clientIp(headers({ 'cf-connecting-ip': '203.0.113.7' }), { ...EDGE, trustEdge: false })).toBeUndefined();
    expect(refused({ 'cf-connecting-ip': '203.0.113.7' }, allowedIps(['203.0.113.7'], false, false))?.status).toBe(403);
  });
});

describe('allowed_ips', () => {
  it('matches ranges by their prefix, /0 and /32 included', () => {
    const all = allowedIps(['0.0.0.0/0'], true)!;
    const one = allowedIps(['198.51.100.8/32'], true)!;
    const check = (ip: string, a: ReturnType<typeof allowedIps>) => {
      try {
        checkClientIp(headers({ 'x-forwarded-for': ip }), a!);
        return true;
      } catch {
        return false;
      }
    };
    expect(check('255.255.255.255', all)).toBe(true);
    expect(check('198.51.100.8', one)).toBe(true);
    expect(check('198.51.100.9', one)).toBe(false);
    expect(check('not-an-ip', one)).toBe(false);
  });

  it('is off when the config sets none', () => {
    expect(allowedIps(undefined, true)).toBeUndefined();
  });
});

describe('addresses and ranges', () => {
  const allows = (entries: string[], from: string) => {
    try {
      checkClientIp(headers({ 'x-forwarded-for': from }), allowedIps(entries, true)!);
      return true;
    } catch {
      return false;
    }
  };

  it('matches an IPv6 address in any spelling, an IPv4-mapped one in either form, and IPv6 ranges', () => {
    expect(allows(['2001:DB8:0:0::1'], '2001:db8::1')).toBe(true);
    expect(allows(['2001:db8::1'], '2001:0db8:0000:0000:0000:0000:0000:0001')).toBe(true);
    expect(allows(['203.0.113.7'], '::ffff:cb00:7107')).toBe(true);
    expect(allows(['203.0.113.7'], '::ffff:203.0.113.7')).toBe(true);
    expect(allows(['2001:db8:abcd::/48'], '2001:db8:abcd:12::7')).toBe(true);
    expect(allows(['2001:db8:abcd::/48'], '2001:db8:abce::7')).toBe(false);
    expect(allows(['::/0'], '198.51.100.1')).toBe(true);
    expect(allows(['2001:db8::1'], '2001:db8::2')).toBe(false);
  });

  it('takes the port and brackets off a forwarded address', () => {
    expect(allows(['203.0.113.7'], '198.51.100.1, 203.0.113.7:5555')).toBe(true);
    expect(allows(['2001:db8::1'], '[2001:db8::1]:443')).toBe(true);
    expect(allows(['2001:db8::1'], '[2001:db8::1]')).toBe(true);
  });

  it('parses only real addresses and ranges (what config.yaml\'s allowed_ips accepts)', () => {
    for (const bad of ['999.1.1.1', '1.2.3.4/40', '::::', '1.2.3', '2001:db8::1::2', '1.2.3.4/8/1', 'localhost', '2001:db8::/129', '1:2:3:4:5:6:7:8:9']) {
      expect(parseRange(bad), bad).toBeUndefined();
    }
    for (const good of ['10.0.0.0/8', '0.0.0.0/0', '2001:db8::/32', '::1', '1:2:3:4:5:6:7:8', '::ffff:1.2.3.4']) expect(parseRange(good), good).toBeDefined();
    expect(parseIp('0.0.0.1')).toBe((0xffffn << 32n) | 1n);
  });
});

describe('allowed_ips in config.yaml', () => {
  it('refuses an entry that is no address or range, naming it', () => {
    const result = validateConfig({ general_settings: { allowed_ips: ['10.0.0.0/8', '999.1.1.1'] } }, {});
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.errors.join('\n')).toMatch(/general_settings\.allowed_ips\[1\]: expected an IP address or a CIDR range/);
    expect(validateConfig({ general_settings: { allowed_ips: ['10.0.0.0/8', '2001:db8::/32'] } }, {}).ok).toBe(true);
  });
});
