import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { workerBindings } from '../../../../scripts/lib/stack.ts';
import { gcsBucketPoster, gcsObjectName, gcsRetryable, gcsTargetOf } from './gcs-bucket.ts';
import { TOKEN_FAILURE_MS } from './service-account-tokens.ts';
import type { LoggerTarget } from './types.ts';

const KEY = JSON.stringify({ type: 'service_account', client_email: 'logs@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n' });

describe('the gcs_bucket logger', () => {
  it('names objects as LiteLLM does: <date>/<response id>, a failure <date>/failure-<hex>, under a bucket name\'s folder', () => {
    const start = Date.UTC(2026, 0, 31, 23, 59, 59) / 1000;
    expect(gcsObjectName({ id: 'c1', startTime: start, response: { id: 'chatcmpl-9' }, error_str: null }, '')).toBe('2026-01-31/chatcmpl-9');
    expect(gcsObjectName({ id: 'c1', startTime: start, response: null, error_str: null }, 'a/b')).toBe('a/b/2026-01-31/c1');
    expect(gcsObjectName({ id: '0f8c-11aa', startTime: start, response: null, error_str: 'boom' }, 'logs')).toBe('logs/2026-01-31/failure-0f8c11aa');
  });

  it('drops only an object GCS refuses as such', () => {
    expect(gcsRetryable(400, 'invalid')).toBe(false);
    expect(gcsRetryable(413, '')).toBe(false);
    for (const [status, reason] of [[400, 'userProjectMissing'], [401, 'required'], [403, 'forbidden'], [404, 'notFound'], [429, 'rateLimitExceeded'], [503, 'backendError']] as const) {
      expect(gcsRetryable(status, reason)).toBe(true);
    }
  });

  it('reads the bucket, its folder and the key\'s JSON; a path or a missing setting is an error naming it, never the key', () => {
    const target = gcsTargetOf({ GCS_BUCKET_NAME: 'my-bucket/litellm/dev/', GCS_PATH_SERVICE_ACCOUNT: KEY });
    expect(target).toMatchObject({ bucket: 'my-bucket', folder: 'litellm/dev', base: new URL('https://storage.googleapis.com') });
    expect(gcsTargetOf({ GCS_PATH_SERVICE_ACCOUNT: KEY })).toEqual({ error: expect.stringContaining('GCS_BUCKET_NAME') });
    expect(gcsTargetOf({ GCS_BUCKET_NAME: 'b-1', GCS_PATH_SERVICE_ACCOUNT: '/secrets/key.json' })).toEqual({ error: expect.stringContaining('is a path') });
    const bad = gcsTargetOf({ GCS_BUCKET_NAME: 'b-1', GCS_PATH_SERVICE_ACCOUNT: '{"private_key":"pk-secret-1"}' });
    expect(bad).toEqual({ error: expect.stringContaining('not a service account key') });
    expect(JSON.stringify(bad)).not.toContain('pk-secret-1');
    // For the dispatcher, a settings error keeps the payloads for a retry (the dead-letter queue at worst).
    expect(gcsBucketPoster.target({ GCS_BUCKET_NAME: 'b-1', GCS_PATH_SERVICE_ACCOUNT: '/secrets/key.json' })).toEqual({ error: expect.stringContaining('is a path'), retry: true });
  });

  it('npm start passes a key file\'s JSON for a path in GCS_PATH_SERVICE_ACCOUNT (a Worker reads no files)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gcs-key-')), 'key.json');
    writeFileSync(file, KEY);
    expect(workerBindings({}, { GCS_PATH_SERVICE_ACCOUNT: file, GCS_BUCKET_NAME: 'b-1' })).toMatchObject({ GCS_PATH_SERVICE_ACCOUNT: KEY, GCS_BUCKET_NAME: 'b-1' });
    expect(workerBindings({}, { GCS_PATH_SERVICE_ACCOUNT: KEY }).GCS_PATH_SERVICE_ACCOUNT).toBe(KEY);
  });
});

describe('the gcs_bucket logger when the service account gets no usable token', () => {
  // A loopback token endpoint and GCS: `/bad/token` refuses the key (OAuth's invalid_grant), `/good/token` gives a
  // token GCS then refuses (a 401: the account has no access).
  let server: Server;
  let base = '';
  const hits = { bad: 0, good: 0, uploads: 0 };
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/bad/token') {
          hits.bad++;
          res.writeHead(400).end(JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }));
        } else if (req.url === '/good/token') {
          hits.good++;
          res.writeHead(200).end(JSON.stringify({ access_token: `ya29.t-${hits.good}`, expires_in: 3600, token_type: 'Bearer' }));
        } else {
          hits.uploads++;
          res.writeHead(401).end(JSON.stringify({ error: { code: 401, message: 'Invalid Credentials', errors: [{ reason: 'required' }] } }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const target = (tokenPath: string): LoggerTarget => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = JSON.stringify({ type: 'service_account', client_email: `l-${tokenPath.length}@p.iam.gserviceaccount.com`, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }), token_uri: `${base}${tokenPath}` });
    const made = gcsBucketPoster.target({ GCS_BUCKET_NAME: 'logs-1', GCS_PATH_SERVICE_ACCOUNT: key, GCS_API_BASE: base });
    if ('error' in made) throw new Error(made.error);
    return made;
  };
  const segment = (id: string) => [{ bytes: new TextEncoder().encode(JSON.stringify({ id, startTime: 1, error_str: null })), events: 1 }];
  const wave = (t: LoggerTarget, n: number) => Promise.all(Array.from({ length: n }, (_, i) => t.post(segment(`c${i}`))));

  it('sends one token exchange a batch (and none for 30 s) once the token endpoint refused the key: the other uploads are retried at once', async () => {
    const t = target('/bad/token');
    const first = await wave(t, 6);
    expect(first.every((r) => !r.ok && r.retry && r.reason === 'no access token for the service account: could not get an access token: invalid_grant: Invalid JWT Signature.')).toBe(true);
    await wave(t, 6);
    expect(hits.bad).toBe(1);
    // Past the 30 s, the key is tried again (an operator may have mended the account).
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + TOKEN_FAILURE_MS + 1);
    try {
      await wave(t, 2);
    } finally {
      clock.mockRestore();
    }
    expect(hits.bad).toBe(2);
  });

  it('fails the rest of the batch fast when GCS answers 401 for a token just exchanged', async () => {
    const t = target('/good/token');
    const [first] = await wave(t, 1);
    expect(first).toMatchObject({ ok: false, retry: true, reason: expect.stringContaining('GCS refused a fresh one (HTTP 401 required)') });
    const rest = await wave(t, 6);
    expect(rest.every((r) => !r.ok && r.retry)).toBe(true);
    expect({ exchanges: hits.good, uploads: hits.uploads }).toEqual({ exchanges: 1, uploads: 1 });
  });
});
