/**
 * A fake Google Cloud Storage on loopback, with Google's OAuth token endpoint beside it: `POST /token` takes
 * a jwt-bearer grant whose RS256 assertion checks out against the test service account's public key
 * (node:crypto, independently of the gateway's WebCrypto signer; fakes/google.ts) and hands out numbered
 * tokens; `POST /upload/storage/v1/b/<bucket>/o?uploadType=media&name=<object>` writes an object when its
 * `Authorization: Bearer` is a token it issued. A wrong token is a 401, an unknown bucket a 404, each in GCS's
 * JSON error shape. It can be told to fail the next uploads with a status and GCS's error reason.
 */
import { serveBodies } from './fake-server.ts';
import { type JwtCheck, type TestServiceAccount, testServiceAccount, verifyAssertion } from './google.ts';

export interface GcsObject {
  bucket: string;
  name: string;
  body: string;
  headers: Record<string, string>;
}

export interface FakeGcs {
  url: string;
  /** The token endpoint's URL (the service account's `token_uri`). */
  tokenUri: string;
  account: TestServiceAccount;
  /** Token requests' checks, in order (each a JWT verified with the public key). */
  tokenChecks: JwtCheck[];
  /** Objects written (200), in order; a name written twice appears twice. */
  objects: GcsObject[];
  /** Uploads answered with a failNext() status and reason. */
  refused: { name: string; status: number; reason: string }[];
  /** Uploads refused for their form or credentials (why). */
  rejected: string[];
  /** The next `times` uploads are answered `status` and GCS's `reason`; with `echo`, the message quotes the request's token. */
  failNext(status: number, times?: number, reason?: string, options?: { echo?: boolean }): void;
  /** Revokes every token handed out so far: uploads with one are a 401 `Invalid Credentials`. */
  revokeTokens(): void;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 400: 'invalid', 401: 'required', 403: 'forbidden', 404: 'notFound', 429: 'rateLimitExceeded', 503: 'backendError' };

export async function startFakeGcs(options: { bucket: string }): Promise<FakeGcs> {
  const issued = new Set<string>();
  let handedOut = 0;
  let failing: { status: number; times: number; reason: string; echo?: boolean } | undefined;
  const fake = {
    tokenChecks: [] as JwtCheck[], objects: [] as GcsObject[], refused: [] as FakeGcs['refused'], rejected: [] as string[],
    failNext(status: number, times = 1, reason?: string, options: { echo?: boolean } = {}) {
      failing = { status, times, reason: reason ?? REASONS[status] ?? 'backendError', echo: options.echo === true };
    },
    revokeTokens() {
      issued.clear();
    },
  };
  let account: TestServiceAccount;
  let tokenUri = '';
  const server = await serveBodies('fake GCS', (req, res, bytes, headers) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(body));
    };
    const gcsError = (status: number, reason: string, message: string) => json(status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });
    const body = bytes.toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method === 'POST' && url.pathname === '/token') {
      const check = headers['content-type'] === 'application/x-www-form-urlencoded'
        ? verifyAssertion(new URLSearchParams(body), account, tokenUri)
        : { ok: false as const, reason: `content-type ${headers['content-type']}` };
      fake.tokenChecks.push(check);
      if (!check.ok) return json(400, { error: 'invalid_grant', error_description: check.reason });
      const token = `ya29.gcs-test-token-${++handedOut}`;
      issued.add(token);
      return json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (req.method !== 'POST' || !upload) return gcsError(404, 'notFound', 'Not Found');
    const name = url.searchParams.get('name') ?? '';
    const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    if (!token || !issued.has(token)) {
      fake.rejected.push(`token ${token ? 'not issued' : 'missing'} for ${name}`);
      return gcsError(401, 'required', 'Invalid Credentials');
    }
    if (decodeURIComponent(upload[1]!) !== options.bucket) return gcsError(404, 'notFound', 'The specified bucket does not exist.');
    if (url.searchParams.get('uploadType') !== 'media' || !name || !headers['content-type']?.startsWith('application/json')) {
      fake.rejected.push(`upload ${url.search} ${headers['content-type']}`);
      return gcsError(400, 'invalid', 'bad upload');
    }
    if (failing && failing.times > 0) {
      failing.times--;
      fake.refused.push({ name, status: failing.status, reason: failing.reason });
      return gcsError(failing.status, failing.reason, `refused by the test${failing.echo ? `: you sent ${headers.authorization}` : ''}`);
    }
    try {
      JSON.parse(body);
    } catch {
      fake.rejected.push(`body of ${name} is not JSON`);
      return gcsError(400, 'parseError', 'not JSON');
    }
    fake.objects.push({ bucket: options.bucket, name, body, headers });
    return json(200, { kind: 'storage#object', bucket: options.bucket, name, size: String(Buffer.byteLength(body)) });
  });
  const { url } = server;
  tokenUri = `${url}/token`;
  account = testServiceAccount(tokenUri);
  return Object.assign(fake, {
    url, tokenUri, account, close: server.close,
  });
}
