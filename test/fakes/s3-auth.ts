/**
 * The fake S3's errors and its check of each request's AWS Signature Version 4 (S3's rules: the
 * path encoded once, `UNSIGNED-PAYLOAD` allowed).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { S3Credentials } from './s3.ts';

export class S3Error extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const sha256hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const uriEncode = (value: string) => [...Buffer.from(value, 'utf8')]
  .map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
  .join('');

/** S3's SigV4: the path's segments encoded once, `x-amz-content-sha256` the payload's hash or `UNSIGNED-PAYLOAD`. Answers the key id. */
export function checkSignature(req: IncomingMessage, url: URL, body: Buffer, accepted: S3Credentials[]): string {
  const denied = (why: string) => new S3Error(403, 'SignatureDoesNotMatch', why);
  const m = AUTH.exec(header(req, 'authorization') ?? '');
  if (!m) throw new S3Error(403, 'AccessDenied', 'missing or malformed Authorization');
  const [, keyId, date, region, signedList, signature] = m as unknown as string[];
  const creds = accepted.find((c) => c.accessKeyId === keyId);
  if (!creds) throw new S3Error(403, 'InvalidAccessKeyId', `unknown access key ${keyId}`);
  const amzDate = header(req, 'x-amz-date') ?? '';
  if (amzDate.slice(0, 8) !== date) throw denied('x-amz-date does not match the credential date');
  const declared = header(req, 'x-amz-content-sha256') ?? '';
  if (declared !== 'UNSIGNED-PAYLOAD' && declared !== sha256hex(body)) throw new S3Error(400, 'XAmzContentSHA256Mismatch', 'payload hash mismatch');
  const signed = signedList!.split(';');
  if (!signed.includes('host')) throw denied('host is not signed');
  const path = url.pathname.split('/').map((s) => uriEncode(decodeURIComponent(s))).join('/');
  const query = [...url.searchParams].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
  const headers = signed.map((n) => `${n}:${(header(req, n) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [req.method, path, query, headers, signedList, declared || sha256hex(body)].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/s3/aws4_request`, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date!), region!), 's3'), 'aws4_request');
  const expected = hmac(key, toSign);
  const given = Buffer.from(signature!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw denied('signature mismatch');
  return creds.accessKeyId;
}
