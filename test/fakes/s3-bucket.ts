/**
 * A fake S3-compatible store on loopback (path-style, as MinIO serves it): `PUT /<bucket>/<key>` writes an
 * object when its AWS SigV4 signature checks out against the test credentials, recomputed here from the
 * request as S3 does (canonical request, string to sign, HMAC chain; the body against
 * `x-amz-content-sha256` and `Content-MD5`). A wrong signature, key id or token is a 403
 * `SignatureDoesNotMatch` / `InvalidAccessKeyId`, an unknown bucket a 404 `NoSuchBucket`, as XML. It can be
 * told to fail the next PUTs with a status and S3's error code (`ExpiredToken`, `EntityTooLarge`, ...).
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface S3Object {
  key: string;
  body: string;
  headers: Record<string, string>;
}

export interface FakeS3 {
  url: string;
  /** Objects written (2xx), in order; a key written twice appears twice. */
  puts: S3Object[];
  /** PUTs answered with a failNext() status and code. */
  refused: { key: string; status: number; code: string }[];
  /** PUTs refused for their signature or form (the reason). */
  rejected: string[];
  /** The next `times` PUTs (that sign well) are answered `status` with S3's XML error `code` (by default by status). */
  failNext(status: number, times?: number, code?: string): void;
  close(): Promise<void>;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function xmlError(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

/** Why this request's signature does not hold, or undefined when it does. */
function signatureProblem(req: IncomingMessage, body: Buffer, creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string; region: string }): string | undefined {
  const auth = String(req.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'InvalidAccessKeyId: no SigV4 Authorization header for s3';
  const [, keyId, day, region, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string];
  if (keyId !== creds.accessKeyId) return 'InvalidAccessKeyId: unknown access key id';
  if (region !== creds.region) return `AuthorizationHeaderMalformed: region ${region}`;
  if (creds.sessionToken && req.headers['x-amz-security-token'] !== creds.sessionToken) return 'InvalidToken: session token';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(day)) return 'SignatureDoesNotMatch: x-amz-date';
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
  if (payloadHash !== sha256(body)) return 'XAmzContentSHA256Mismatch';
  const md5 = req.headers['content-md5'];
  if (md5 !== undefined && md5 !== createHash('md5').update(body).digest('base64')) return 'BadDigest: Content-MD5';
  const names = signedHeaders.split(';');
  // S3's rule: the host and every x-amz-* header sent are signed.
  const required = ['host', ...Object.keys(req.headers).filter((n) => n.startsWith('x-amz-'))];
  for (const name of required) if (!names.includes(name)) return `SignatureDoesNotMatch: ${name} not signed`;
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?');
  const canonicalPath = rawPath.split('/').map((s) => rfc3986(decodeURIComponent(s))).join('/');
  const canonicalQuery = rawQuery.split('&').filter(Boolean).map((p) => p.split('=').map((x) => rfc3986(decodeURIComponent(x ?? ''))).join('=')).sort().join('&');
  const headerLines = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [req.method, canonicalPath, canonicalQuery, headerLines, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), 's3'), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex') === signature ? undefined : 'SignatureDoesNotMatch';
}

export async function startFakeS3(options: { bucket: string; accessKeyId: string; secretAccessKey: string; sessionToken?: string; region: string }): Promise<FakeS3> {
  let failing = { status: 0, times: 0, code: '' };
  const s3: Omit<FakeS3, 'url' | 'close'> = {
    puts: [], refused: [], rejected: [],
    failNext(status, times = 1, code = status >= 500 ? 'ServiceUnavailable' : 'InvalidRequest') {
      failing = { status, times, code };
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, code?: string, message = '') => {
        res.writeHead(status, code ? { 'content-type': 'application/xml' } : { etag: '"etag"' });
        res.end(code ? xmlError(code, message) : '');
      };
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0]!;
      const [, bucket = '', ...rest] = path.split('/');
      if (req.method !== 'PUT' || !rest.length) return answer(405, 'MethodNotAllowed', 'only PUT object');
      const problem = signatureProblem(req, body, options);
      if (problem) {
        s3.rejected.push(problem);
        return answer(403, problem.split(':')[0], problem);
      }
      if (bucket !== options.bucket) return answer(404, 'NoSuchBucket', 'The specified bucket does not exist');
      const key = rest.map(decodeURIComponent).join('/');
      if (failing.times > 0) {
        failing.times--;
        s3.refused.push({ key, status: failing.status, code: failing.code });
        return answer(failing.status, failing.code, 'refused by the test');
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = [value].flat().join(', ');
      s3.puts.push({ key, body: body.toString('utf8'), headers });
      return answer(200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(s3, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
