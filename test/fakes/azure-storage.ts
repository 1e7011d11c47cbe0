/**
 * A fake Azure Data Lake Storage Gen2 account on loopback, with Entra ID's token endpoint beside it. The DFS
 * side (`/<file system>/<path>`) takes create (`PUT ?resource=file`, 409 PathAlreadyExists under `If-None-Match:
 * *`, 412 ConditionNotMet when `If-Match` is not its ETag), append (`PATCH ?action=append&position=<end>`), flush
 * (`PATCH ?action=flush&position=<length>`), get properties (`HEAD`) and delete (`DELETE`, `If-Match` honoured),
 * as the service does: appended data counts only once flushed, and the ETag changes on each create and flush. Each request is
 * authenticated as Azure does it: a Shared Key signature recomputed here with node:crypto from Azure's documented
 * string to sign (a mismatch or a stale x-ms-date is a 403 AuthenticationFailed), or a bearer token this fake's
 * `POST /<tenant>/oauth2/v2.0/token` issued for the client-credentials grant (else a 401
 * InvalidAuthenticationInfo). Errors come in Azure's shape: `x-ms-error-code` and `{"error":{"code","message"}}`.
 */
import { createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { serveBodies } from './fake-server.ts';

export interface AzureFile {
  path: string;
  /** The flushed content. */
  body: string;
  /** The append's headers. */
  headers: Record<string, string>;
}

export type AzureStep = 'create' | 'append' | 'flush' | 'head' | 'delete';

export interface FakeAzureStorage {
  url: string;
  /** The account key (base64) and the app registration the fake takes. */
  accountKey: string;
  client: { tenant: string; clientId: string; clientSecret: string };
  /** Files flushed, in order; a path flushed twice appears twice. */
  files: AzureFile[];
  /** Every DFS request: its step (or `head`), path and the status answered. */
  requests: { step: string; path: string; status: number }[];
  /** Token requests: whether each was granted. */
  tokenRequests: boolean[];
  /** Requests refused for their authentication (why). */
  rejected: string[];
  /** The next `times` requests of `step` are answered `status` with Azure's `code` (and `retry-after` for 429/503). */
  failNext(step: AzureStep, status: number, code: string, times?: number): void;
  /** The next `step` is done, but its connection is cut before the answer: an answer lost on the way. */
  dropNextAnswer(step: AzureStep): void;
  /** The next `step` is done at once, its answer held until `release` (`held` settles when it is done). */
  holdNextAnswer(step: AzureStep): { held: Promise<void>; release(): void };
  /** A file's flushed content now, undefined when there is none. */
  contentOf(path: string): string | undefined;
  /** Revokes every token issued so far. */
  revokeTokens(): void;
  /** While on, the tokens issued are ones Storage refuses (401 InvalidAuthenticationInfo), as another tenant's are. */
  issueForeignTokens(on: boolean): void;
  close(): Promise<void>;
}

const MESSAGES: Record<string, string> = {
  AuthenticationFailed: 'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
  InvalidAuthenticationInfo: 'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
  PathAlreadyExists: 'The specified path already exists.',
  PathNotFound: 'The specified path does not exist.',
  ConditionNotMet: 'The condition specified using HTTP conditional header(s) is not met.',
  FilesystemNotFound: 'The specified filesystem does not exist.',
  ServerBusy: 'Operations per second is over the account limit.',
  InvalidFlushPosition: 'The uploaded data is not contiguous or the position query parameter value is not equal to the length of the file after appending the uploaded data.',
};

/** Azure's Shared Key string to sign, computed here on its own from the documented rules (not the gateway's code). */
function stringToSign(method: string, rawUrl: string, headers: Record<string, string>, account: string): string {
  const [rawPath = '/', rawQuery = ''] = rawUrl.split('?');
  const standard = ['content-encoding', 'content-language', 'content-length', 'content-md5', 'content-type', 'date', 'if-modified-since', 'if-match', 'if-none-match', 'if-unmodified-since', 'range']
    .map((h) => (h === 'content-length' && headers[h] === '0' ? '' : headers[h] ?? ''));
  const ms = Object.keys(headers).filter((h) => h.startsWith('x-ms-')).sort().map((h) => `${h}:${headers[h]!.trim()}\n`).join('');
  const params: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) (params[k.toLowerCase()] ??= []).push(v);
  const query = Object.keys(params).sort().map((k) => `\n${k}:${params[k]!.sort().join(',')}`).join('');
  return [method, ...standard].join('\n') + `\n${ms}/${account}${rawPath}${query}`;
}

export async function startFakeAzureStorage(options: { account: string; fileSystem: string }): Promise<FakeAzureStorage> {
  const accountKey = Buffer.from(`fake-azure-account-key-${options.account}-0123456789`).toString('base64');
  const client = { tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47', clientId: 'c0ffee00-0000-4000-8000-000000000001', clientSecret: 'azure~client~secret~0001' };
  const issued = new Set<string>();
  const stored = new Map<string, { flushed: Buffer; pending: Buffer; etag: string }>();
  const failing: Partial<Record<AzureStep, { status: number; code: string; times: number }>> = {};
  const answering: Partial<Record<AzureStep, 'drop' | { reached(): void; released: Promise<void> }>> = {};
  let version = 0;
  const etag = () => `"0x8DC${(++version).toString(16).toUpperCase().padStart(12, '0')}"`;
  const lastAppend = new Map<string, Record<string, string>>();
  let handed = 0;
  let foreign = false;
  const fake = {
    accountKey, client, files: [] as AzureFile[], requests: [] as FakeAzureStorage['requests'], tokenRequests: [] as boolean[], rejected: [] as string[],
    failNext(step: AzureStep, status: number, code: string, times = 1) {
      failing[step] = { status, code, times };
    },
    dropNextAnswer(step: AzureStep) {
      answering[step] = 'drop';
    },
    holdNextAnswer(step: AzureStep) {
      let reached!: () => void;
      let release!: () => void;
      const held = new Promise<void>((r) => { reached = r; });
      answering[step] = { reached, released: new Promise<void>((r) => { release = r; }) };
      return { held, release };
    },
    contentOf(path: string) {
      return stored.get(path)?.flushed.toString('utf8');
    },
    revokeTokens() {
      issued.clear();
    },
    issueForeignTokens(on: boolean) {
      foreign = on;
    },
  };
  const server = await serveBodies('fake Azure Storage', (req, res, bytes, headers) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const json = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...extra }).end(JSON.stringify(body));
    };
    if (req.method === 'POST' && url.pathname === `/${client.tenant}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(bytes.toString('utf8'));
      const ok = headers['content-type'] === 'application/x-www-form-urlencoded' && form.get('grant_type') === 'client_credentials'
        && form.get('client_id') === client.clientId && form.get('client_secret') === client.clientSecret && form.get('scope') === 'https://storage.azure.com/.default';
      fake.tokenRequests.push(ok);
      if (!ok) return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] });
      const token = `eyJ0eXAiOiJKV1QifQ.azure-test-token-${++handed}`;
      if (!foreign) issued.add(token);
      return json(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
    }
    const query = url.searchParams;
    const step = req.method === 'PUT' && query.get('resource') === 'file' ? 'create'
      : req.method === 'PATCH' && query.get('action') === 'append' ? 'append'
        : req.method === 'PATCH' && query.get('action') === 'flush' ? 'flush'
          : req.method === 'HEAD' ? 'head' : req.method === 'DELETE' ? 'delete' : 'other';
    const [, fileSystem = '', ...rest] = url.pathname.split('/');
    const path = decodeURIComponent(rest.join('/'));
    const fail = (status: number, code: string, extra: Record<string, string> = {}) => {
      fake.requests.push({ step, path, status });
      const head = { 'x-ms-error-code': code, 'x-ms-request-id': 'fake-request', ...extra };
      if (req.method === 'HEAD') return (res as ServerResponse).writeHead(status, head).end();
      return json(status, { error: { code, message: `${MESSAGES[code] ?? code}\nRequestId:fake-request\nTime:${new Date().toISOString()}` } }, head);
    };
    const auth = headers.authorization ?? '';
    if (!headers['x-ms-version']) return fail(400, 'MissingRequiredHeader');
    if (auth.startsWith('SharedKey ')) {
      const expected = createHmac('sha256', Buffer.from(accountKey, 'base64')).update(stringToSign(req.method ?? '', req.url ?? '/', headers, options.account), 'utf8').digest('base64');
      const skew = Math.abs(Date.now() - Date.parse(headers['x-ms-date'] ?? ''));
      if (auth !== `SharedKey ${options.account}:${expected}` || !(skew < 15 * 60_000)) {
        fake.rejected.push(`signature ${skew < 15 * 60_000 ? 'mismatch' : 'date'} for ${step} ${path}`);
        return fail(403, 'AuthenticationFailed');
      }
    } else {
      const token = /^Bearer (.+)$/.exec(auth)?.[1];
      if (!token || !issued.has(token)) {
        fake.rejected.push(`token ${token ? 'not issued' : 'missing'} for ${step} ${path}`);
        return fail(401, 'InvalidAuthenticationInfo', { 'www-authenticate': 'Bearer authorization_uri=https://login.microsoftonline.com/x/oauth2/authorize resource_id=https://storage.azure.com' });
      }
    }
    if (fileSystem !== options.fileSystem) return fail(404, 'FilesystemNotFound');
    const failure = step === 'other' ? undefined : failing[step];
    if (failure && failure.times > 0) {
      failure.times--;
      return fail(failure.status, failure.code, failure.status === 429 || failure.status === 503 ? { 'retry-after': '1' } : {});
    }
    const file = stored.get(path);
    const done = (status: number, extra: Record<string, string> = {}) => {
      fake.requests.push({ step, path, status });
      const answer = () => res.writeHead(status, { 'x-ms-request-id': 'fake-request', ...extra }).end();
      const how = step === 'other' ? undefined : answering[step];
      if (!how) return answer();
      delete answering[step as AzureStep];
      if (how === 'drop') return req.socket.destroy();
      how.reached();
      return how.released.then(answer);
    };
    // `If-Match: *` asks only that the path exist; any other value must be its ETag now.
    const ifMatch = headers['if-match'];
    if (ifMatch !== undefined && !(file && (ifMatch === '*' || ifMatch === file.etag))) return fail(412, 'ConditionNotMet');
    if (step === 'create') {
      if (file && headers['if-none-match'] === '*') return fail(409, 'PathAlreadyExists');
      const created = { flushed: Buffer.alloc(0), pending: Buffer.alloc(0), etag: etag() };
      stored.set(path, created);
      return done(201, { etag: created.etag });
    }
    if (step === 'head') return file ? done(200, { 'content-length': String(file.flushed.length), 'x-ms-resource-type': 'file', etag: file.etag }) : fail(404, 'PathNotFound');
    if (!file) return fail(404, 'PathNotFound');
    if (step === 'delete') {
      stored.delete(path);
      return done(200);
    }
    const end = file.flushed.length + file.pending.length;
    if (step === 'append') {
      if (Number(query.get('position')) !== end) return fail(400, 'InvalidAppendPosition');
      file.pending = Buffer.concat([file.pending, bytes]);
      lastAppend.set(path, headers);
      return done(202);
    }
    if (step === 'flush') {
      if (Number(query.get('position')) !== end) return fail(400, 'InvalidFlushPosition');
      file.flushed = Buffer.concat([file.flushed, file.pending]);
      file.pending = Buffer.alloc(0);
      file.etag = etag();
      fake.files.push({ path, body: file.flushed.toString('utf8'), headers: lastAppend.get(path) ?? {} });
      return done(200, { etag: file.etag });
    }
    return fail(400, 'UnsupportedHttpVerb');
  });
  return Object.assign(fake, { url: server.url, close: server.close });
}
