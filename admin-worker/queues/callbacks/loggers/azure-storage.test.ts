import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeAzureStorage, startFakeAzureStorage } from '../../../../test/fakes/azure-storage.ts';
import { sharedKeyStringToSign } from './azure-storage-auth.ts';
import { azureFilePath, azureRetryable, azureStoragePoster, azureStorageTargetOf, STORAGE_SCOPE } from './azure-storage.ts';
import { entraToken, forgetEntraToken } from './entra-token.ts';
import type { LoggerEnv, PostResult } from './types.ts';

const START = Date.UTC(2026, 0, 31, 23, 59, 59) / 1000;
const payload = (id: string, extra: Record<string, unknown> = {}) => ({ id, startTime: START, status: 'success', messages: [{ role: 'user', content: 'hi' }], ...extra });
const post = (env: LoggerEnv, body: unknown): Promise<PostResult> => {
  const target = azureStoragePoster.target(env);
  if ('error' in target) throw new Error(target.error);
  return target.post([{ bytes: new TextEncoder().encode(JSON.stringify(body)), events: 1 }]);
};

describe('the azure_storage logger', () => {
  it('signs Azure\'s Shared Key string: verb, standard headers (a 0 length as empty), sorted x-ms-* headers, account, path, sorted query', () => {
    const url = new URL('https://acct.dfs.core.windows.net/logs/2026-01-31/c%201.json?position=0&action=append');
    const text = sharedKeyStringToSign('patch', url, { 'Content-Length': '12', 'Content-Type': 'application/json', 'x-ms-version': '2021-04-10', 'X-MS-Date': 'Sat, 31 Jan 2026 23:59:59 GMT' }, 'acct');
    expect(text).toBe('PATCH\n\n\n12\n\napplication/json\n\n\n\n\n\n\nx-ms-date:Sat, 31 Jan 2026 23:59:59 GMT\nx-ms-version:2021-04-10\n/acct/logs/2026-01-31/c%201.json\naction:append\nposition:0');
    expect(sharedKeyStringToSign('PUT', new URL('https://a/fs/f?resource=file'), { 'content-length': '0', 'if-none-match': '*', 'x-ms-version': 'v' }, 'acct'))
      .toBe('PUT\n\n\n\n\n\n\n\n\n*\n\n\nx-ms-version:v\n/acct/fs/f\nresource:file');
  });

  it('names files as LiteLLM\'s account-key upload does: <date>/<call id>.json, the date the call\'s start', () => {
    expect(azureFilePath(payload('call-1'))).toBe('2026-01-31/call-1.json');
  });

  it('keeps a provider\'s id one file name in the date folder: no `/`, `\\` or dot segment a URL would resolve', () => {
    expect(azureFilePath(payload('../../other-fs/victim'))).toBe('2026-01-31/.._.._other-fs_victim.json');
    expect(azureFilePath(payload('batch\\..\\x'))).toBe('2026-01-31/batch_.._x.json');
    expect(azureFilePath(payload('..'))).toBe('2026-01-31/...json');
    expect(azureFilePath(payload('%2e%2e/%2E%2E/x'))).toBe('2026-01-31/%2e%2e_%2E%2E_x.json');
  });

  it('drops only a file Azure refuses as such; credentials, throttling and outages are retried', () => {
    expect(azureRetryable(413, 'RequestBodyTooLarge')).toBe(false);
    expect(azureRetryable(400, 'InvalidResourceName')).toBe(false);
    for (const [status, code] of [[403, 'AuthenticationFailed'], [403, 'AuthorizationPermissionMismatch'], [401, 'InvalidAuthenticationInfo'], [404, 'FilesystemNotFound'], [429, ''], [503, 'ServerBusy'], [409, 'LeaseIdMissing']] as const) {
      expect(azureRetryable(status, code)).toBe(true);
    }
  });

  it('reads the account, the file system and a credential; a missing or malformed one is named, never quoted', () => {
    const env = { AZURE_STORAGE_ACCOUNT_NAME: 'acct', AZURE_STORAGE_FILE_SYSTEM: 'litellm-logs', AZURE_STORAGE_ACCOUNT_KEY: 'a2V5LWJ5dGVz' };
    expect(azureStorageTargetOf(env)).toMatchObject({ account: 'acct', endpoint: 'https://acct.dfs.core.windows.net', fileSystem: 'litellm-logs', auth: { kind: 'shared-key' } });
    expect(azureStorageTargetOf({ ...env, AZURE_STORAGE_FILE_SYSTEM: undefined })).toEqual({ error: expect.stringContaining('AZURE_STORAGE_FILE_SYSTEM is not set') });
    const bad = azureStorageTargetOf({ ...env, AZURE_STORAGE_ACCOUNT_KEY: 'not base64 secret!' });
    expect(bad).toEqual({ error: 'AZURE_STORAGE_ACCOUNT_KEY is not a base64 account key' });
    const noKey = { ...env, AZURE_STORAGE_ACCOUNT_KEY: undefined, AZURE_STORAGE_TENANT_ID: 't' };
    expect(azureStorageTargetOf(noKey)).toEqual({ error: 'no AZURE_STORAGE_ACCOUNT_KEY, and AZURE_STORAGE_CLIENT_ID, AZURE_STORAGE_CLIENT_SECRET are not set for the admin Worker' });
    expect(azureStorageTargetOf({ ...noKey, AZURE_STORAGE_CLIENT_ID: 'c', AZURE_STORAGE_CLIENT_SECRET: 's' })).toMatchObject({ auth: { kind: 'entra', client: { authority: 'https://login.microsoftonline.com/', tenant: 't' } } });
    // Kept for a retry while the settings are mended (the dead-letter queue at worst), not dropped.
    expect(azureStoragePoster.target({ AZURE_STORAGE_ACCOUNT_NAME: 'acct' })).toEqual({ error: expect.stringContaining('AZURE_STORAGE_FILE_SYSTEM'), retry: true });
  });
});

describe('the azure_storage logger against a DFS endpoint', () => {
  let azure: FakeAzureStorage;
  let keyEnv: LoggerEnv;
  let entraEnv: LoggerEnv;
  beforeAll(async () => {
    azure = await startFakeAzureStorage({ account: 'tollgatelogs', fileSystem: 'litellm-logs' });
    const base = { AZURE_STORAGE_ACCOUNT_NAME: 'tollgatelogs', AZURE_STORAGE_FILE_SYSTEM: 'litellm-logs', AZURE_STORAGE_ENDPOINT: azure.url };
    keyEnv = { ...base, AZURE_STORAGE_ACCOUNT_KEY: azure.accountKey };
    entraEnv = { ...base, AZURE_STORAGE_TENANT_ID: azure.client.tenant, AZURE_STORAGE_CLIENT_ID: azure.client.clientId, AZURE_STORAGE_CLIENT_SECRET: azure.client.clientSecret, AZURE_AUTHORITY_HOST: azure.url };
  });
  afterAll(() => azure.close());
  const filesAt = (path: string) => azure.files.filter((f) => f.path === path);
  const stepsOf = (path: string) => azure.requests.filter((r) => r.path === path).map((r) => `${r.step} ${r.status}`);

  it('creates, appends and flushes the payload\'s JSON with a Shared Key signature Azure recomputes', async () => {
    expect(await post(keyEnv, payload('k-1'))).toEqual({ ok: true });
    const [file] = filesAt('2026-01-31/k-1.json');
    expect(JSON.parse(file!.body)).toEqual(payload('k-1'));
    expect(file!.headers).toMatchObject({ 'content-type': 'application/json', 'x-ms-version': '2021-04-10', authorization: expect.stringMatching(/^SharedKey tollgatelogs:/) });
    expect(stepsOf('2026-01-31/k-1.json')).toEqual(['create 201', 'append 202', 'flush 200']);
    expect(azure.rejected).toEqual([]);
  });

  it('on a retry after a cut-short try, writes over the empty file; a retry after a whole one writes nothing again', async () => {
    azure.failNext('flush', 503, 'ServerBusy');
    const failed = await post(keyEnv, payload('k-2'));
    expect(failed).toEqual({ ok: false, retry: true, reason: 'HTTP 503 ServerBusy for file 2026-01-31/k-2.json' });
    expect(await post(keyEnv, payload('k-2'))).toEqual({ ok: true });
    expect(await post(keyEnv, payload('k-2'))).toEqual({ ok: true });
    expect(filesAt('2026-01-31/k-2.json')).toHaveLength(1);
    expect(stepsOf('2026-01-31/k-2.json')).toEqual([
      'create 201', 'append 202', 'flush 503',
      'create 409', 'head 200', 'create 201', 'append 202', 'flush 200',
      'create 409', 'head 200',
    ]);
  });

  it('retries a 429 and a wrong key\'s 403 AuthenticationFailed (never quoting the key); drops a 413', async () => {
    azure.failNext('create', 429, 'TooManyRequests');
    expect(await post(keyEnv, payload('k-3'))).toMatchObject({ ok: false, retry: true, reason: 'HTTP 429 TooManyRequests for file 2026-01-31/k-3.json' });
    const wrongKey = Buffer.from('another-account-key-0123456789').toString('base64');
    const refused = await post({ ...keyEnv, AZURE_STORAGE_ACCOUNT_KEY: wrongKey }, payload('k-3'));
    expect(refused).toEqual({ ok: false, retry: true, reason: 'HTTP 403 AuthenticationFailed for file 2026-01-31/k-3.json' });
    expect(azure.rejected.splice(0)).toEqual(['signature mismatch for create 2026-01-31/k-3.json']);
    azure.failNext('append', 413, 'RequestBodyTooLarge');
    expect(await post(keyEnv, payload('k-4'))).toMatchObject({ ok: false, retry: false, reason: 'HTTP 413 RequestBodyTooLarge for file 2026-01-31/k-4.json' });
    // Never to be written: the empty file it created goes.
    expect(stepsOf('2026-01-31/k-4.json')).toEqual(['create 201', 'append 413', 'delete 200']);
    expect(azure.contentOf('2026-01-31/k-4.json')).toBeUndefined();
  });

  it('takes a file whose flush answer was lost as written: the retry finds it whole and writes nothing again', async () => {
    azure.dropNextAnswer('flush');
    expect(await post(keyEnv, payload('k-5'))).toMatchObject({ ok: false, retry: true });
    expect(await post(keyEnv, payload('k-5'))).toEqual({ ok: true });
    expect(stepsOf('2026-01-31/k-5.json')).toEqual(['create 201', 'append 202', 'flush 200', 'create 409', 'head 200']);
    expect(JSON.parse(azure.contentOf('2026-01-31/k-5.json')!)).toEqual(payload('k-5'));
  });

  it('never empties a file a later try wrote whole after this one looked: the re-create is If-Match the ETag seen, 412 retried', async () => {
    azure.failNext('flush', 503, 'ServerBusy');
    expect(await post(keyEnv, payload('k-6'))).toMatchObject({ ok: false, retry: true });
    // A slow retry sees the empty file; before its re-create lands, another delivery writes the file whole.
    const head = azure.holdNextAnswer('head');
    const late = post(keyEnv, payload('k-6'));
    await head.held;
    expect(await post(keyEnv, payload('k-6'))).toEqual({ ok: true });
    head.release();
    expect(await late).toEqual({ ok: false, retry: true, reason: 'HTTP 412 ConditionNotMet for file 2026-01-31/k-6.json' });
    expect(JSON.parse(azure.contentOf('2026-01-31/k-6.json')!)).toEqual(payload('k-6'));
    expect(await post(keyEnv, payload('k-6'))).toEqual({ ok: true });
    expect(filesAt('2026-01-31/k-6.json')).toHaveLength(1);
  });

  it('writes a file whose id holds `../` or `%2e%2e/` in the date folder, never in another folder or file system', async () => {
    expect(await post(keyEnv, payload('../../other-fs/k-8'))).toEqual({ ok: true });
    expect(await post(keyEnv, payload('%2e%2e/%2E%2E/k-9'))).toEqual({ ok: true });
    expect(stepsOf('2026-01-31/.._.._other-fs_k-8.json')).toEqual(['create 201', 'append 202', 'flush 200']);
    expect(stepsOf('2026-01-31/%2e%2e_%2E%2E_k-9.json')).toEqual(['create 201', 'append 202', 'flush 200']);
    expect(azure.requests.filter((r) => !r.path.startsWith('2026-01-31/') || r.status === 404)).toEqual([]);
  });

  it('names the file by its path in the file system, whatever path the endpoint has (a path-style endpoint\'s /<account>)', async () => {
    const pathStyle = { ...keyEnv, AZURE_STORAGE_ENDPOINT: `${azure.url}/tollgatelogs` };
    expect(await post(pathStyle, payload('k-7'))).toEqual({ ok: false, retry: true, reason: 'HTTP 404 FilesystemNotFound for file 2026-01-31/k-7.json' });
  });

  it('writes with an Entra ID token of the client-credentials grant, kept for the next files', async () => {
    const before = azure.tokenRequests.length;
    expect(await post(entraEnv, payload('e-1'))).toEqual({ ok: true });
    expect(await post(entraEnv, payload('e-2'))).toEqual({ ok: true });
    expect(azure.tokenRequests.slice(before)).toEqual([true]);
    expect(filesAt('2026-01-31/e-2.json')[0]!.headers.authorization).toMatch(/^Bearer eyJ0eXAiOiJKV1QifQ\.azure-test-token-\d+$/);
  });

  it('asks for a new token after a 401 for the kept one; a refused secret is retried, its reason Entra\'s code', async () => {
    azure.revokeTokens();
    expect(await post(entraEnv, payload('e-3'))).toMatchObject({ ok: false, retry: true, reason: 'HTTP 401 InvalidAuthenticationInfo for file 2026-01-31/e-3.json' });
    expect(azure.rejected.splice(0)).toEqual(['token not issued for create 2026-01-31/e-3.json']);
    expect(await post(entraEnv, payload('e-3'))).toEqual({ ok: true });
    const wrong = await post({ ...entraEnv, AZURE_STORAGE_CLIENT_SECRET: 'wrong~secret~value' }, payload('e-4'));
    expect(wrong).toEqual({ ok: false, retry: true, reason: 'no access token for the app registration: the token endpoint answered HTTP 401 invalid_client (AADSTS7000215)' });
    expect(azure.tokenRequests.at(-1)).toBe(false);
  });

  it('remembers for 30 s a token Storage refuses as soon as it is issued (another tenant\'s): no exchange a batch', async () => {
    azure.issueForeignTokens(true);
    azure.revokeTokens();
    const exchanges = azure.tokenRequests.length;
    // The kept token refused: dropped, and the next batch exchanges anew.
    expect(await post(entraEnv, payload('e-5'))).toEqual({ ok: false, retry: true, reason: 'HTTP 401 InvalidAuthenticationInfo for file 2026-01-31/e-5.json' });
    const refusedFresh = { ok: false, retry: true, reason: 'no access token for the app registration: Storage refused a fresh token (HTTP 401 InvalidAuthenticationInfo)' };
    expect(await post(entraEnv, payload('e-5'))).toEqual(refusedFresh);
    const sent = azure.requests.length;
    expect(await post(entraEnv, payload('e-5'))).toEqual(refusedFresh);
    expect(await post(entraEnv, payload('e-6'))).toEqual(refusedFresh);
    expect(azure.tokenRequests.length - exchanges).toBe(1);
    expect(azure.requests).toHaveLength(sent);
    azure.issueForeignTokens(false);
    const now = Date.now();
    const later = vi.spyOn(Date, 'now').mockImplementation(() => now + 31_000);
    try {
      expect(await post(entraEnv, payload('e-5'))).toEqual({ ok: true });
    } finally {
      later.mockRestore();
    }
    expect(azure.tokenRequests.length - exchanges).toBe(2);
    expect(azure.rejected.splice(0)).toEqual(['token not issued for create 2026-01-31/e-5.json', 'token not issued for create 2026-01-31/e-5.json']);
  });

  it('forgets only the token Azure refused, never a newer one asked for while it was being forgotten', async () => {
    const client = { authority: azure.url, scope: STORAGE_SCOPE, ...azure.client };
    const refused = await entraToken(client, new Set());
    const forgetting = forgetEntraToken(client, refused, 'Storage');
    // Another upload renews meanwhile (the kept token past its renewal time).
    const renewed = entraToken(client, new Set(), Date.now() + 24 * 3600_000);
    await forgetting;
    const newer = await renewed;
    const exchanges = azure.tokenRequests.length;
    expect(await entraToken(client, new Set())).toBe(newer);
    expect(azure.tokenRequests).toHaveLength(exchanges);
  });
});
