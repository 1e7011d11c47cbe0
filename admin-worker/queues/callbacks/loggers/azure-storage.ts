/**
 * LiteLLM's `azure_storage` callback (AzureBlobStorageLogger, Enterprise there): each StandardLoggingPayload as
 * one JSON file, `<YYYY-MM-DD>/<call id>.json`, in the Azure Data Lake Storage Gen2 file system
 * `AZURE_STORAGE_FILE_SYSTEM` of the account `AZURE_STORAGE_ACCOUNT_NAME`, written through the DFS REST API at
 * `https://<account>.dfs.core.windows.net/<file system>/<path>` in LiteLLM's three steps: create the file
 * (`PUT ?resource=file`), append the JSON (`PATCH ?action=append&position=0`), flush it (`PATCH
 * ?action=flush&position=<length>`). Signed with `AZURE_STORAGE_ACCOUNT_KEY` (Shared Key) when it is set, else
 * with an Entra ID token of `AZURE_STORAGE_TENANT_ID` / `AZURE_STORAGE_CLIENT_ID` / `AZURE_STORAGE_CLIENT_SECRET`
 * (entra-token.ts). `AZURE_STORAGE_ENDPOINT` (ours) points at another DFS endpoint (another cloud's, or a
 * compatible one such as a test double), `AZURE_AUTHORITY_HOST` (the Azure SDK's) at another Entra authority.
 */
import type { EventSegment } from '../segment.ts';
import { startSeconds, utcDay } from './payloads.ts';
import { accountKeyBytes, sharedKeyAuthorization } from './azure-storage-auth.ts';
import { azureErrorCode } from './azure-error.ts';
import { type EntraClient, entraToken, EntraTokenError, forgetEntraToken } from './entra-token.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, networkFailure, type PostResult, POST_TIMEOUT_MS, putEach } from './types.ts';

type Json = Record<string, unknown>;

/** The REST API version sent (x-ms-version): one with the DFS create/append/flush and Shared Key as used here. */
const AZURE_STORAGE_VERSION = '2021-04-10';
/** The scope of an Entra token for Azure Storage. */
export const STORAGE_SCOPE = 'https://storage.azure.com/.default';

export interface AzureStorageTarget {
  account: string;
  /** The account's DFS endpoint, without a trailing `/`. */
  endpoint: string;
  fileSystem: string;
  auth: { kind: 'shared-key'; key: Uint8Array } | { kind: 'entra'; client: EntraClient };
}

/** Azure's rules: an account name is 3-24 lowercase letters and digits; a file system (container) 3-63, with `-`. */
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const FILE_SYSTEM = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/;

/** The account, file system and credentials from the admin Worker's env, or why no file can be written. */
export function azureStorageTargetOf(env: LoggerEnv): AzureStorageTarget | { error: string } {
  const account = envText(env, 'AZURE_STORAGE_ACCOUNT_NAME');
  if (!account) return { error: 'AZURE_STORAGE_ACCOUNT_NAME is not set for the admin Worker' };
  if (!ACCOUNT_NAME.test(account)) return { error: 'AZURE_STORAGE_ACCOUNT_NAME is not a storage account name (3-24 lowercase letters and digits)' };
  const fileSystem = envText(env, 'AZURE_STORAGE_FILE_SYSTEM');
  if (!fileSystem) return { error: 'AZURE_STORAGE_FILE_SYSTEM is not set for the admin Worker' };
  if (!FILE_SYSTEM.test(fileSystem)) return { error: 'AZURE_STORAGE_FILE_SYSTEM is not a file system name Azure takes' };
  const endpoint = httpUrl(envText(env, 'AZURE_STORAGE_ENDPOINT') ?? `https://${account}.dfs.core.windows.net`, 'AZURE_STORAGE_ENDPOINT');
  if ('error' in endpoint) return endpoint;
  const base = { account, endpoint: endpoint.toString().replace(/\/+$/, ''), fileSystem };
  const keyText = envText(env, 'AZURE_STORAGE_ACCOUNT_KEY');
  // LiteLLM's order: the account key when there is one, else the app registration's token.
  if (keyText) {
    const key = accountKeyBytes(keyText);
    if (!key) return { error: 'AZURE_STORAGE_ACCOUNT_KEY is not a base64 account key' };
    return { ...base, auth: { kind: 'shared-key', key } };
  }
  const tenant = envText(env, 'AZURE_STORAGE_TENANT_ID');
  const clientId = envText(env, 'AZURE_STORAGE_CLIENT_ID');
  const clientSecret = envText(env, 'AZURE_STORAGE_CLIENT_SECRET');
  const missing = [['AZURE_STORAGE_TENANT_ID', tenant], ['AZURE_STORAGE_CLIENT_ID', clientId], ['AZURE_STORAGE_CLIENT_SECRET', clientSecret]].filter(([, v]) => !v).map(([n]) => n);
  if (missing.length) return { error: `no AZURE_STORAGE_ACCOUNT_KEY, and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set for the admin Worker` };
  const authority = httpUrl(envText(env, 'AZURE_AUTHORITY_HOST') ?? 'https://login.microsoftonline.com', 'AZURE_AUTHORITY_HOST');
  if ('error' in authority) return authority;
  return { ...base, auth: { kind: 'entra', client: { authority: authority.toString(), tenant: tenant!, clientId: clientId!, clientSecret: clientSecret!, scope: STORAGE_SCOPE } } };
}

/**
 * A payload's path, as LiteLLM's account-key upload names it: `<YYYY-MM-DD>/<call id>.json`. The date is the
 * call's start (UTC) rather than the upload's, so a retried upload writes the same file. The id is one file name:
 * not every id is the gateway's UUID (a batch's or a background response's is the provider's), and a `/` in it
 * would make folders, `../` ones that the URL resolves out of the date folder or the file system, so it is made
 * `_` as in the s3 logger's keys (a `\` too, a separator to Windows tools). What is left ends in `.json`, never a
 * `.` or `..` segment, and its `%` is sent encoded (`%25`), so `%2e%2e` stays a name too.
 */
export function azureFilePath(payload: Json): string {
  const id = typeof payload.id === 'string' && payload.id ? payload.id.replace(/[/\\]/g, '_') : crypto.randomUUID();
  return `${utcDay(new Date(startSeconds(payload) * 1000))}/${id}.json`;
}

/** Azure's codes that blame the file itself (too large, a name it will not take): a retry would be refused alike. */
const FILE_REFUSED = new Set(['RequestBodyTooLarge', 'InvalidResourceName']);

/**
 * Whether Azure's refusal may pass: every answer but one that blames the file. 401/403 (AuthenticationFailed: a
 * wrong key or clock; AuthorizationPermissionMismatch: a role not granted yet), 404 (FilesystemNotFound), 409
 * (a lease, a file system being deleted), 412 (ConditionNotMet: another try wrote the file meanwhile), 429 and
 * 503 (ServerBusy) are settings or Azure to wait for.
 */
export const azureRetryable = (status: number, code: string): boolean => status !== 413 && !FILE_REFUSED.has(code);

/** A request's outcome: the answer expected, or the failure to report (with Azure's status and code when it answered). */
type Step = { ok: true; res: Response } | { ok: false; result: PostResult; status?: number; code?: string };

/** One DFS request on a file: its verb, its query (`?...`, none for the file's properties), the statuses that mean done. */
interface FileRequest {
  method: string;
  query?: string;
  expected: readonly number[];
  body?: Uint8Array;
  headers?: Record<string, string>;
}

/** The DFS URL of the file at `path` in the target's file system, each segment percent-encoded. */
function fileUrl(target: AzureStorageTarget, path: string, query: string): URL {
  return new URL(`${target.endpoint}/${encodeURIComponent(target.fileSystem)}/${path.split('/').map(encodeURIComponent).join('/')}${query}`);
}

/** An Entra token and the batch's fresh tokens (entra-token.ts), none with Shared Key. */
type SignIn = { token: string; fresh: Set<string> } | undefined;

/** One signed request on the file at `path`; an answer other than the expected becomes the failure to report, naming `path`. */
async function send(target: AzureStorageTarget, signIn: SignIn, path: string, request: FileRequest): Promise<Step> {
  const { method, body } = request;
  const url = fileUrl(target, path, request.query ?? '');
  const headers: Record<string, string> = { 'x-ms-date': new Date().toUTCString(), 'x-ms-version': AZURE_STORAGE_VERSION, 'content-length': String(body?.byteLength ?? 0), ...request.headers };
  headers.authorization = target.auth.kind === 'shared-key'
    ? await sharedKeyAuthorization(method, url, headers, target.account, target.auth.key)
    : `Bearer ${signIn?.token}`;
  try {
    const res = await fetch(url, { method, headers, body: body as Uint8Array<ArrayBuffer> | undefined, signal: AbortSignal.timeout(POST_TIMEOUT_MS), redirect: 'manual' });
    if (request.expected.includes(res.status)) {
      await res.body?.cancel();
      return { ok: true, res };
    }
    const code = azureErrorCode(res.headers, await res.text().catch(() => ''));
    const refusal = res.status === 401 && target.auth.kind === 'entra' && signIn ? await forgetEntraToken(target.auth.client, signIn.token, 'Storage', signIn.fresh, code) : undefined;
    if (refusal) return { ok: false, status: res.status, code, result: { ok: false, retry: true, reason: `no access token for the app registration: ${refusal}` } };
    return { ok: false, status: res.status, code, result: { ok: false, retry: azureRetryable(res.status, code), reason: `HTTP ${res.status}${code ? ` ${code}` : ''} for file ${path}` } };
  } catch (err) {
    return { ok: false, result: networkFailure(err) };
  }
}

/**
 * One payload's file, created, appended and flushed. Created only where none is (`If-None-Match: *`): a 409
 * PathAlreadyExists is an earlier try's file, taken as written only when its flushed length is this payload's
 * (the same message retried after its flush); an earlier try cut short between the steps left it empty, so it is
 * created again over it (`If-Match` its ETag: a try that wrote it whole since is never undone) and written. A
 * file Azure refuses to take (413) leaves no empty file behind. `fresh`: the tokens exchanged during this batch.
 */
async function writePayload(target: AzureStorageTarget, payload: Json, fresh = new Set<string>()): Promise<PostResult> {
  let signIn: SignIn;
  if (target.auth.kind === 'entra') {
    try {
      signIn = { token: await entraToken(target.auth.client, fresh), fresh };
    } catch (err) {
      return { ok: false, retry: true, reason: `no access token for the app registration: ${err instanceof EntraTokenError ? err.message : 'the exchange failed'}` };
    }
  }
  const body = new TextEncoder().encode(JSON.stringify(payload));
  const path = azureFilePath(payload);
  const file = (request: FileRequest) => send(target, signIn, path, request);
  let created = await file({ method: 'PUT', query: '?resource=file', expected: [201], headers: { 'if-none-match': '*' } });
  if (!created.ok && created.status === 409 && created.code === 'PathAlreadyExists') {
    const found = await file({ method: 'HEAD', expected: [200] });
    if (!found.ok) return found.result;
    if (found.res.headers.get('content-length') === String(body.byteLength)) return { ok: true };
    // Azure always sends the ETag; a 412 ConditionNotMet (written since) is retried, and the retry finds it whole.
    created = await file({ method: 'PUT', query: '?resource=file', expected: [201], headers: { 'if-match': found.res.headers.get('etag') ?? '*' } });
  }
  if (!created.ok) return created.result;
  const appended = await file({ method: 'PATCH', query: '?action=append&position=0', expected: [202], body, headers: { 'content-type': 'application/json' } });
  if (!appended.ok) {
    // Never retried, so never written: the empty file goes (as created here: If-Match its ETag), its outcome aside.
    if (!appended.result.ok && !appended.result.retry) await file({ method: 'DELETE', expected: [200], headers: { 'if-match': created.res.headers.get('etag') ?? '*' } });
    return appended.result;
  }
  const flushed = await file({ method: 'PATCH', query: `?action=flush&position=${body.byteLength}`, expected: [200] });
  return flushed.ok ? { ok: true } : flushed.result;
}

export const azureStoragePoster: LoggerPoster = {
  // The DFS API writes one file a request sequence (LiteLLM uploads one a payload too): a request is one file.
  maxPayloads: 1,
  // An append of up to 100 MiB is one request; a Queue message is far smaller.
  maxBytes: 5 * 1024 * 1024,
  target(env: LoggerEnv) {
    const target = azureStorageTargetOf(env);
    // Kept for a retry (the dead-letter queue at worst) while the operator mends the settings.
    if ('error' in target) return { error: target.error, retry: true };
    return {
      where: new URL(target.endpoint).origin,
      post: async (segments: readonly EventSegment[]) => {
        // The tokens exchanged during this batch: Storage refusing one of those is the app registration's fault.
        const fresh = new Set<string>();
        return putEach(segments, (payload) => writePayload(target, payload as Json, fresh));
      },
    };
  },
};
