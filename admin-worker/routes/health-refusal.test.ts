import { describe, expect, it } from 'vitest';
import { failureClass, refusalDetail } from './health-refusal.ts';

describe('a /health/services refusal', () => {
  const env = {
    GENERIC_LOGGER_ENDPOINT: 'https://logs.example.com/ingest?token=query-secret-0001',
    GENERIC_LOGGER_HEADERS: `Authorization=Bearer header-secret-0002, x-team = blue, x-proxy-auth=Basic ${btoa('basic-user-0006:basic-pass-0007')}`,
    DD_API_KEY: 'dd-secret-0003',
    MY_STS: 'sts-session-0004',
    GCS_PATH_SERVICE_ACCOUNT: JSON.stringify({ client_email: 'a@b', private_key: '-----BEGIN PRIVATE KEY-----\nMIIEpem-0005\n-----END PRIVATE KEY-----\n' }),
    DD_SITE: 'us5.datadoghq.com',
  };

  it('never quotes a secret the destination or the network error echoes: headers, query values, keys, os.environ/ credentials', () => {
    const reason = 'unreachable (connect to https://logs.example.com/ingest?token=query-secret-0001 failed: Bearer header-secret-0002 dd-secret-0003 sts-session-0004 MIIEpem-0005)';
    const detail = refusalDetail({ reason, retry: true }, env, { s3_aws_session_token: 'os.environ/MY_STS', s3_bucket_name: 'blue' });
    for (const secret of ['query-secret-0001', 'header-secret-0002', 'dd-secret-0003', 'sts-session-0004', 'MIIEpem-0005']) expect(detail).not.toContain(secret);
    expect(detail).toMatch(/^\(unreachable\): unreachable \(connect to/);
    // What is not a secret stays, so the operator can read it.
    expect(refusalDetail({ reason: 'HTTP 403: forbidden for team green at us5.datadoghq.com', retry: true }, env, { s3_bucket_name: 'green' })).toBe('(credentials refused): HTTP 403: forbidden for team green at us5.datadoghq.com');
  });

  it('never quotes a header\'s token alone, a Basic value\'s user or password, nor the key as JSON escapes or base64 lines', () => {
    const key = JSON.parse(env.GCS_PATH_SERVICE_ACCOUNT).private_key as string;
    const quotes = ['header-secret-0002', 'basic-user-0006', 'basic-pass-0007', 'basic-user-0006:basic-pass-0007', JSON.stringify(key).slice(1, -1), 'MIIEpem-0005'];
    for (const quoted of quotes) {
      const detail = refusalDetail({ reason: `HTTP 401: {"detail":"bad credentials: ${quoted}"}`, retry: true }, env, undefined);
      expect(detail).toBe('(credentials refused): HTTP 401: {"detail":"bad credentials: [redacted]"}');
    }
  });

  it('scrubs a long answer before cutting it, so a secret at the cut is never quoted in part', () => {
    for (const at of [185, 190, 295, 8190]) {
      const reason = `HTTP 500: ${'.'.repeat(at)}Bearer header-secret-0002 and more`;
      const detail = refusalDetail({ reason, retry: true }, env, undefined);
      expect(detail).not.toMatch(/header-s|secret-0002/);
      // A secret the answer was cut in (at its cap) is taken out too, down to its first 4 characters.
      for (const keep of [11, 16, 20]) expect(refusalDetail({ reason: reason.slice(0, 10 + at + keep), retry: true, cut: true }, env, undefined)).not.toMatch(/Bearer h|header-s/);
      expect(refusalDetail({ reason: reason.slice(0, 10 + at + 4), retry: true, cut: true }, env, undefined)).not.toContain('Bear');
    }
    expect(refusalDetail({ reason: `HTTP 500: ${'.'.repeat(185)}Bearer header-secret-0002 and more`, retry: true }, env, undefined)).toContain('[redacted] and more');
  });

  it('takes out a secret set with a trailing newline or spaces (the posters send it trimmed), an os.environ/ one too', () => {
    const padded = { DD_API_KEY: 'dd-trimmed-key-0008\n', MY_STS: '  sts-trimmed-0009 \n' };
    const detail = refusalDetail({ reason: 'HTTP 403: bad key dd-trimmed-key-0008, session sts-trimmed-0009', retry: true }, padded, { s3_aws_session_token: ' os.environ/MY_STS\n' });
    expect(detail).toBe('(credentials refused): HTTP 403: bad key [redacted], session [redacted]');
  });

  it('keeps what is not a credential readable: plain query values, non-auth headers, an uncut answer ending in a scheme', () => {
    const plain = {
      DATABASE_URL: 'postgres://app:db-pass-0010@db.internal/app?sslmode=require&application_name=tollgate',
      GENERIC_LOGGER_ENDPOINT: 'https://logs.example.com/ingest?region=eu-west&sig=sg12&x=Ab3dEf9hIj',
      GENERIC_LOGGER_HEADERS: 'Content-Type=application/json, x-team=blue, Authorization=Bearer header-secret-0002',
    };
    const reason = 'HTTP 401: TLS required for tollgate, eu-west, application/json from team blue; missing Authorization: Bearer';
    expect(refusalDetail({ reason, retry: true }, plain, undefined)).toBe(`(credentials refused): ${reason}`);
    // Credentials stay out: a URL's password, a credential-named query value, a long value that is not words.
    expect(refusalDetail({ reason: 'HTTP 401: db-pass-0010 sig=sg12 x=Ab3dEf9hIj', retry: true }, plain, undefined)).toBe('(credentials refused): HTTP 401: [redacted] sig=[redacted] x=[redacted]');
    // Cut at the cap, the same ending may be a secret's start: then it goes.
    expect(refusalDetail({ reason, retry: true, cut: true }, plain, undefined)).toMatch(/missing Authorization: \[redacted\]$/);
  });

  it('takes out a secret as JSON escapes it (`\\/`) and an endpoint\'s URL and long path segments', () => {
    const slashed = { DD_API_KEY: 'dd/key+0011/x', GENERIC_LOGGER_ENDPOINT: 'https://intake.example.com/v1/input/PathToken0123456789abc' };
    for (const quoted of ['dd\\/key+0011\\/x', 'dd%2Fkey%2B0011%2Fx', 'PathToken0123456789abc', 'https://intake.example.com/v1/input/PathToken0123456789abc']) {
      expect(refusalDetail({ reason: `HTTP 404: {"detail":"no intake ${quoted}"}`, retry: true }, slashed, undefined)).toBe('(destination not found): HTTP 404: {"detail":"no intake [redacted]"}');
    }
    expect(refusalDetail({ reason: 'unreachable (fetch https://logs.example.com/ failed)', retry: true }, { GENERIC_LOGGER_ENDPOINT: 'https://logs.example.com' }, undefined)).toBe('(unreachable): unreachable (fetch [redacted] failed)');
  });

  it('takes out a token in an API base\'s path or query (LAGO_API_BASE, BRAINTRUST_API_BASE), as it does an endpoint\'s', () => {
    const bases = { LAGO_API_BASE: 'https://lago.example.test/t/LagoPathToken0123456789?access_token=lago-query-0012', BRAINTRUST_API_BASE: 'https://bt.example.test/?key=bt-query-0013' };
    const reason = 'unreachable (fetch https://lago.example.test/t/LagoPathToken0123456789/api/v1/events?access_token=lago-query-0012 failed; bt-query-0013)';
    const detail = refusalDetail({ reason, retry: true }, bases, undefined);
    for (const secret of ['LagoPathToken0123456789', 'lago-query-0012', 'bt-query-0013']) expect(detail).not.toContain(secret);
    expect(detail).toMatch(/^\(unreachable\): unreachable \(fetch https:\/\/lago\.example\.test\/t\/\[redacted\]/);
  });

  it('names the failure class from the poster\'s reason', () => {
    expect(failureClass('HTTP 401: no', true)).toBe('credentials refused');
    expect(failureClass('HTTP 404 NoSuchBucket for object x', true)).toBe('destination not found');
    expect(failureClass('HTTP 503', true)).toBe('destination error');
    expect(failureClass('HTTP 413', false)).toBe('test payload refused');
    expect(failureClass('HTTP 302', true)).toBe('redirected');
    expect(failureClass('no answer within 10000 ms', true)).toBe('timed out');
    expect(failureClass('no access token for the service account: invalid_grant', true)).toBe('credentials refused');
  });
});
