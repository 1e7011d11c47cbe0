/**
 * An independent AWS Signature Version 4 check, written from AWS's
 * specification with node:crypto, for fake AWS servers: it recomputes the
 * signature of a received request and says why it does not match.
 * (The gateway signs with aws4fetch on WebCrypto; the two must agree.)
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface AwsTestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ReceivedRequest {
  method: string;
  /** The path as it came on the wire, percent-encoding intact. */
  rawPath: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string | Buffer;
}

export type SigV4Check = { ok: true } | { ok: false; reason: string };

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

const sha256hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding of everything but the unreserved characters, as SigV4 wants. */
function uriEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

export function verifySigV4(
  req: ReceivedRequest,
  creds: AwsTestCredentials,
  scope: { service: string; region: string },
  now: Date = new Date(),
): SigV4Check {
  const fail = (reason: string): SigV4Check => ({ ok: false, reason });
  const match = AUTH.exec(req.headers.authorization ?? '');
  if (!match) return fail(`malformed authorization header: ${req.headers.authorization ?? '(none)'}`);
  const [, keyId, date, region, service, signedList, signature] = match as unknown as string[];
  if (keyId !== creds.accessKeyId) return fail(`unknown access key ${keyId}`);
  if (region !== scope.region || service !== scope.service) return fail(`scope ${region}/${service}, expected ${scope.region}/${scope.service}`);
  const amzDate = req.headers['x-amz-date'] ?? '';
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) return fail(`x-amz-date ${amzDate} does not match the credential date ${date}`);
  const signedAt = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (Math.abs(now.getTime() - signedAt) > 5 * 60_000) return fail('request time too skewed');
  const signed = signedList!.split(';');
  for (const required of ['host', 'x-amz-date', ...(creds.sessionToken ? ['x-amz-security-token'] : [])]) {
    if (!signed.includes(required)) return fail(`${required} is not signed`);
  }
  if (creds.sessionToken && req.headers['x-amz-security-token'] !== creds.sessionToken) return fail('wrong session token');
  if ([...signed].sort().join(';') !== signedList) return fail('signed headers are not sorted');

  // Non-S3 services sign each path segment encoded once more than it travelled.
  const canonicalUri = req.rawPath.split('/').map(uriEncode).join('/') || '/';
  const canonicalQuery = Object.entries(req.query)
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signed.map((name) => `${name}:${(req.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = sha256hex(req.body);
  const declared = req.headers['x-amz-content-sha256'];
  if (declared && declared !== payloadHash) return fail('x-amz-content-sha256 does not match the body');
  const canonicalRequest = [req.method.toUpperCase(), canonicalUri, canonicalQuery, canonicalHeaders, signedList, payloadHash].join('\n');
  const credentialScope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date!), region!), service!), 'aws4_request');
  const expected = hmac(key, stringToSign);
  const given = Buffer.from(signature!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail('signature mismatch');
  return { ok: true };
}
