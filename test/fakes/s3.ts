/**
 * A small S3-compatible server on loopback, for workerd's cluster mode (`Config.cluster`, an
 * `s3://` bucket): the calls workerd 1.20261117.1 was seen to make (joining, leases, Durable
 * Object ownership, storage commits and snapshots, handoff, takeover, alarms), with S3's semantics
 * and error shapes. Path-style addressing (`/<bucket>/<key>`), as workerd sends it to
 * `aws_endpoint`; objects in memory, so a test's bucket dies with it.
 *
 * - GetObject (and HeadObject; `If-Match`, `If-None-Match`).
 * - PutObject, with S3's conditional writes: `If-None-Match: *` (create only) and
 *   `If-Match: "<etag>"` (replace only that version); a failed condition is 412
 *   PreconditionFailed, as S3 answers. workerd probes for them when it joins, and refuses a
 *   bucket that ignores them ("the bucket ignores conditional writes"), as s3rver's PutObject
 *   does; it claims every lease and ownership record this way.
 * - DeleteObject (`If-Match` too, as S3 has it; workerd sends none).
 * - ListObjectsV2 (`list-type=2`, `prefix`, `delimiter`, `start-after`, `max-keys`,
 *   `continuation-token`).
 *
 * Each request's AWS Signature Version 4 is checked against the credentials given (S3's rules:
 * the path encoded once, `UNSIGNED-PAYLOAD` allowed), so a test proves the instances sign with the
 * credentials from their environment. Anything else is 501 NotImplemented, logged, so that a newer
 * workerd that needs more shows up as a failed test rather than as a silent misbehaviour.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSignature, header, S3Error } from './s3-auth.ts';
import { listV2, type S3Object, xml } from './s3-list.ts';

export interface FakeS3Options {
  /** Buckets that exist from the start (default none: CreateBucket is a PUT on `/<bucket>`). */
  buckets?: string[];
  /** The signing credentials accepted (several while a rotation is under way); absent, requests are not checked. */
  credentials?: S3Credentials | S3Credentials[];
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
  /** Answer each request this much later, as a real bucket's round trip would (default 0). */
  latencyMs?: number;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3Call {
  method: string;
  bucket: string;
  key: string;
  /** The S3 operation this was taken as. */
  op: string;
  status: number;
  /** `if-match` / `if-none-match` as sent. */
  conditions?: string;
  /** The query string, if any (ListObjectsV2's parameters). */
  query?: string;
  /** The access key the request was signed with. */
  accessKeyId?: string;
  at: number;
}

export interface FakeS3 {
  /** `http://127.0.0.1:PORT`: `aws_endpoint` / AWS_ENDPOINT_URL. */
  endpoint: string;
  port: number;
  calls: S3Call[];
  /** Keys under a bucket (and a prefix), sorted. */
  keys(bucket: string, prefix?: string): string[];
  get(bucket: string, key: string): Buffer | undefined;
  /** Answer every request with 503 SlowDown while set (a bucket outage). */
  setUnavailable(unavailable: boolean): void;
  /** Change the added round trip (see `latencyMs`). */
  setLatency(ms: number): void;
  /** Change the credentials accepted from now on. */
  setCredentials(credentials: S3Credentials[]): void;
  close(): Promise<void>;
}

export async function startFakeS3(options: FakeS3Options = {}): Promise<FakeS3> {
  const buckets = new Map<string, Map<string, S3Object>>();
  for (const b of options.buckets ?? []) buckets.set(b, new Map());
  const calls: S3Call[] = [];
  let unavailable = false;
  let latency = options.latencyMs ?? 0;
  const given = options.credentials;
  let accepted: S3Credentials[] | undefined = given === undefined ? undefined : Array.isArray(given) ? given : [given];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (latency > 0) setTimeout(() => respond(Buffer.concat(chunks)), latency);
      else respond(Buffer.concat(chunks));
    });
    // Handled whole once the body is in, one request at a time: conditional writes are atomic.
    const respond = (body: Buffer) => {
      const call: S3Call = { method: req.method ?? '', bucket: '', key: '', op: '?', status: 0, at: Date.now() };
      const conditions = ['if-match', 'if-none-match'].filter((h) => req.headers[h]).map((h) => `${h}: ${req.headers[h]}`).join(', ');
      if (conditions) call.conditions = conditions;
      try {
        if (unavailable) throw new S3Error(503, 'SlowDown', 'Please reduce your request rate.');
        handle(req, res, body, call);
      } catch (err) {
        const e = err instanceof S3Error ? err : new S3Error(500, 'InternalError', String(err));
        call.status = e.status;
        sendError(res, e, req.method === 'HEAD');
      }
      calls.push(call);
      if (calls.length > 100_000) calls.splice(0, 50_000);
    };
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer, call: S3Call): void {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    const rawSegments = url.pathname.split('/').slice(1);
    const bucketName = decodeURIComponent(rawSegments[0] ?? '');
    const key = rawSegments.slice(1).map(decodeURIComponent).join('/');
    Object.assign(call, { bucket: bucketName, key });
    if (url.search) call.query = url.search.slice(1);
    if (accepted) call.accessKeyId = checkSignature(req, url, body, accepted);
    const method = req.method ?? 'GET';
    if (!bucketName) throw new S3Error(501, 'NotImplemented', 'ListBuckets is not implemented');

    if (!key) {
      if (method === 'PUT') {
        call.op = 'CreateBucket';
        if (!buckets.has(bucketName)) buckets.set(bucketName, new Map());
        return send(res, call, 200);
      }
      const bucket = requireBucket(bucketName);
      if (method === 'HEAD') return (call.op = 'HeadBucket'), send(res, call, 200);
      if (method === 'GET' && url.searchParams.get('list-type') === '2') {
        call.op = 'ListObjectsV2';
        return send(res, call, 200, { 'content-type': 'application/xml' }, listV2(bucketName, bucket, url.searchParams));
      }
      throw new S3Error(501, 'NotImplemented', `${method} ${url.search || '(no query)'} on a bucket is not implemented`);
    }

    const bucket = requireBucket(bucketName);
    const known = new Set(['x-id']);
    const unknownQuery = [...url.searchParams.keys()].filter((k) => !known.has(k));
    if (unknownQuery.length) throw new S3Error(501, 'NotImplemented', `object sub-resource ?${unknownQuery.join('&')} is not implemented`);
    const existing = bucket.get(key);
    const ifMatch = header(req, 'if-match');
    const ifNoneMatch = header(req, 'if-none-match');

    if (method === 'GET' || method === 'HEAD') {
      call.op = method === 'GET' ? 'GetObject' : 'HeadObject';
      if (!existing) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
      if (ifMatch !== undefined && !etagMatches(ifMatch, existing.etag)) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, existing.etag)) return send(res, call, 304, { etag: existing.etag });
      const headers: Record<string, string> = {
        etag: existing.etag, 'last-modified': existing.modified.toUTCString(), 'content-type': 'application/octet-stream',
      };
      return send(res, call, 200, headers, method === 'GET' ? existing.body : undefined, existing.body.length);
    }

    if (method === 'PUT') {
      call.op = 'PutObject';
      if (req.headers['x-amz-copy-source']) throw new S3Error(501, 'NotImplemented', 'CopyObject is not implemented');
      if (ifNoneMatch !== undefined) {
        if (ifNoneMatch.trim() !== '*') throw new S3Error(501, 'NotImplemented', 'If-None-Match on PUT takes only *');
        if (existing) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      if (ifMatch !== undefined) {
        // S3 answers 404 for an If-Match on a missing key.
        if (!existing) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
        if (!etagMatches(ifMatch, existing.etag)) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      const etag = `"${createHash('md5').update(body).digest('hex')}"`;
      bucket.set(key, { body, etag, modified: new Date() });
      return send(res, call, 200, { etag });
    }

    if (method === 'DELETE') {
      call.op = 'DeleteObject';
      if (ifMatch !== undefined) {
        if (!existing) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
        if (!etagMatches(ifMatch, existing.etag)) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      bucket.delete(key);
      return send(res, call, 204);
    }
    throw new S3Error(501, 'NotImplemented', `${method} on an object is not implemented`);
  }

  function requireBucket(name: string): Map<string, S3Object> {
    const bucket = buckets.get(name);
    if (!bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    return bucket;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    calls,
    keys: (bucket, prefix = '') => [...(buckets.get(bucket)?.keys() ?? [])].filter((k) => k.startsWith(prefix)).sort(),
    get: (bucket, key) => buckets.get(bucket)?.get(key)?.body,
    setUnavailable: (value) => void (unavailable = value),
    setLatency: (ms) => void (latency = ms),
    setCredentials: (list) => void (accepted = [...list]),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function etagMatches(condition: string, etag: string): boolean {
  return condition.split(',').map((t) => t.trim().replace(/^W\//, '')).some((t) => t === '*' || t === etag || `"${t}"` === etag);
}

function send(res: ServerResponse, call: S3Call, status: number, headers: Record<string, string> = {}, body?: Buffer | string, length?: number): void {
  call.status = status;
  const data = body === undefined ? undefined : Buffer.from(body);
  res.writeHead(status, { 'x-amz-request-id': call.at.toString(36), ...headers, 'content-length': String(length ?? data?.length ?? 0) });
  res.end(data);
}

function sendError(res: ServerResponse, e: S3Error, head: boolean): void {
  if (res.headersSent) return void res.destroy();
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code}</Code><Message>${xml(e.message)}</Message></Error>`;
  res.writeHead(e.status, { 'content-type': 'application/xml', 'content-length': head ? '0' : String(Buffer.byteLength(body)) });
  res.end(head ? undefined : body);
}

