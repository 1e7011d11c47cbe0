import { describe, expect, it } from 'vitest';
import type { LoggerEnv } from './types.ts';
import { validateConfig } from '../../../../worker/config/validate.ts';
import { s3Retryable, s3TargetOf } from './s3.ts';
import { s3DownloadFilename, s3ObjectKey } from './s3-key.ts';

const env = (vars: Record<string, string>) => vars as LoggerEnv;
const urlOf = (target: ReturnType<typeof s3TargetOf>, key: string) => ('error' in target ? target.error : target.objectUrl(key).toString());

describe('s3 targets', () => {
  it('reaches AWS virtual-hosted, an endpoint path-style (or virtual-hosted when asked), keys encoded once', () => {
    const creds = { AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'secret' };
    expect(urlOf(s3TargetOf({ s3_bucket_name: 'logs', s3_region_name: 'eu-west-1' }, env(creds)), 'a b/c=1+2.json')).toBe('https://logs.s3.eu-west-1.amazonaws.com/a%20b/c%3D1%2B2.json');
    expect(urlOf(s3TargetOf({ s3_bucket_name: 'logs' }, env(creds)), 'k')).toBe('https://logs.s3.us-east-1.amazonaws.com/k');
    expect(urlOf(s3TargetOf({ s3_bucket_name: 'logs', s3_region_name: 'cn-north-1' }, env(creds)), 'k')).toBe('https://logs.s3.cn-north-1.amazonaws.com.cn/k');
    expect(urlOf(s3TargetOf({ s3_bucket_name: 'logs', s3_endpoint_url: 'http://minio:9000/' }, env(creds)), 'p/k(1).json')).toBe('http://minio:9000/logs/p/k%281%29.json');
    expect(urlOf(s3TargetOf({ s3_bucket_name: 'logs', s3_endpoint_url: 'https://r2.example.test', s3_use_virtual_hosted_style: true }, env(creds)), 'k')).toBe('https://logs.r2.example.test/k');
  });

  it('reads os.environ/ credentials from the admin Worker at post time, else AWS_*; says what is missing, never a value', () => {
    const params = { s3_bucket_name: 'logs', s3_aws_access_key_id: 'os.environ/MY_ID', s3_aws_secret_access_key: 'os.environ/MY_SECRET' };
    const target = s3TargetOf(params, env({ MY_ID: 'AKIA1', MY_SECRET: 's1', AWS_SESSION_TOKEN: 'not-mine' }));
    expect('error' in target ? target : target.auth).toEqual({ kind: 'sigv4', accessKeyId: 'AKIA1', secretAccessKey: 's1', region: 'us-east-1' });
    expect(s3TargetOf(params, env({ MY_ID: 'AKIA1' }))).toEqual({ error: expect.stringContaining('MY_SECRET is not set') });
    // Never a key pieced from the config and the env.
    const envCreds = { AWS_ACCESS_KEY_ID: 'env-id', AWS_SECRET_ACCESS_KEY: 'env-secret' };
    expect(s3TargetOf({ s3_bucket_name: 'logs', s3_aws_secret_access_key: 'cfg-secret' }, env(envCreds))).toEqual({ error: expect.stringContaining('sets only one of s3_aws_access_key_id and s3_aws_secret_access_key') });
    expect(s3TargetOf({ s3_bucket_name: 'logs', s3_aws_access_key_id: 'cfg-id' }, env(envCreds))).toEqual({ error: expect.stringContaining('s3_callback_params sets only one') });
    expect(s3TargetOf({ s3_bucket_name: 'logs' }, env({}))).toEqual({ error: expect.stringContaining('no AWS credentials') });
    expect(s3TargetOf(undefined, env({}))).toEqual({ error: expect.stringContaining('s3_bucket_name') });
    expect(s3TargetOf({ s3_bucket_name: 'logs', s3_endpoint_url: 'https://u:p@x.test' }, env({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }))).toEqual({ error: expect.stringContaining('credentials') });
  });

  it('says a bucket or region no URL takes is a setting to fix, never throwing (a throw used to retry every logger\'s messages)', () => {
    const creds = { AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'secret' };
    // The admin Worker's env region is not checked by config validation.
    expect(s3TargetOf({ s3_bucket_name: 'logs' }, env({ ...creds, AWS_REGION_NAME: 'us east' }))).toEqual({ error: expect.stringContaining('not a region name') });
    // A bucket only a config that skipped validation could hold.
    expect(s3TargetOf({ s3_bucket_name: 'logs bucket' }, env(creds))).toEqual({ error: expect.stringContaining('URL is not valid') });
    const bad = validateConfig({ litellm_settings: { callbacks: ['s3'], s3_callback_params: { s3_bucket_name: 'logs bucket', s3_region_name: 'us east' } } }, {});
    expect(bad.ok).toBe(false);
    const problems = JSON.stringify(bad);
    expect(problems).toContain('s3_bucket_name');
    expect(problems).toContain('s3_region_name');
    for (const name of ['my.logs-bucket_1', 'Legacy_Bucket']) {
      expect(validateConfig({ litellm_settings: { s3_callback_params: { s3_bucket_name: name, s3_region_name: 'ap-southeast-2' } } }, {}).ok, name).toBe(true);
    }
  });

  it('keeps the credentials\' os.environ/ names unresolved in the config, and warns of a secret written in it', () => {
    const raw = { litellm_settings: { callbacks: ['s3'], s3_callback_params: { s3_bucket_name: 'logs', s3_aws_access_key_id: 'os.environ/MY_ID', s3_aws_secret_access_key: 'plain-secret', s3_batch_size: 10 } } };
    const result = validateConfig(raw, {});
    expect(result.ok && result.config.litellm_settings.s3_callback_params?.s3_aws_access_key_id).toBe('os.environ/MY_ID');
    expect(result.warnings.some((w) => w.includes('s3_aws_secret_access_key: compiled into the Worker bundle'))).toBe(true);
    expect(result.warnings.some((w) => w.includes('s3_batch_size: not needed'))).toBe(true);
    expect(result.warnings.some((w) => w.includes('plain-secret') || /callback "s3" is not supported/.test(w))).toBe(false);
    expect(validateConfig({ litellm_settings: { success_callback: ['s3'] } }, {}).warnings).toContainEqual(expect.stringContaining('s3_callback_params: not set'));
  });
});

describe('s3 answers', () => {
  it('drop only an object S3 refuses as such; credentials, clock and request faults wait for a retry', () => {
    for (const code of ['EntityTooLarge', 'KeyTooLongError', 'XMinioInvalidObjectName']) expect(s3Retryable(400, code)).toBe(false);
    expect(s3Retryable(413, '')).toBe(false);
    for (const code of ['ExpiredToken', 'InvalidToken', 'AuthorizationHeaderMalformed', 'RequestTimeout', 'IncompleteBody', 'XAmzContentSHA256Mismatch', 'BadDigest', 'InvalidArgument', 'KMS.DisabledException', 'InvalidRequest', '']) {
      expect(s3Retryable(400, code)).toBe(true);
    }
    expect(s3Retryable(403, 'SignatureDoesNotMatch')).toBe(true);
    expect(s3Retryable(404, 'NoSuchBucket')).toBe(true);
    expect(s3Retryable(503, 'SlowDown')).toBe(true);
  });
});

describe('s3 object keys', () => {
  const payload = { id: 'chatcmpl/1', startTime: 1767225600.123456, metadata: { user_api_key_team_alias: 'team-a', user_api_key_alias: 'key-a' } };

  it('are LiteLLM\'s: path, team and key folders when asked, the start\'s date, time to the microsecond, the id (/ made _)', async () => {
    expect(await s3ObjectKey(payload, { path: 'logs/', teamPrefix: true, keyPrefix: true })).toBe('logs/team-a/key-a/2026-01-01/time-00-00-00-123456_chatcmpl_1.json');
    expect(await s3ObjectKey(payload, { path: '', teamPrefix: false, keyPrefix: true })).toBe('key-a/2026-01-01/time-00-00-00-123456_chatcmpl_1.json');
    expect(await s3ObjectKey({ ...payload, metadata: {} }, { path: 'x', teamPrefix: true, keyPrefix: true })).toBe('x/2026-01-01/time-00-00-00-123456_chatcmpl_1.json');
    expect(s3DownloadFilename({ ...payload, id: 'a"b\u00e9' })).toBe('time-2026-01-01T00-00-00-123456_a_b_.json');
  });

  it('keep an alias inside its folder: "." and ".." segments made "_" and "__", the URL path left as the key', async () => {
    const hostile = { ...payload, metadata: { user_api_key_team_alias: './t', user_api_key_alias: '../../other-team/x' } };
    const key = await s3ObjectKey(hostile, { path: 'logs', teamPrefix: true, keyPrefix: true });
    expect(key).toBe('logs/_/t/__/__/other-team/x/2026-01-01/time-00-00-00-123456_chatcmpl_1.json');
    const target = s3TargetOf({ s3_bucket_name: 'b', s3_endpoint_url: 'http://minio:9000' }, env({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 's' }));
    expect('error' in target ? '' : decodeURIComponent(target.objectUrl(key).pathname)).toBe(`/b/${key}`);
    expect(await s3ObjectKey({ ...payload, metadata: { user_api_key_alias: 'a..b/.x/...' } }, { path: '', teamPrefix: false, keyPrefix: true })).toBe('a..b/.x/.../2026-01-01/time-00-00-00-123456_chatcmpl_1.json');
  });

  it('stay within S3\'s 1,024 bytes, the file name shortened with its digest', async () => {
    const key = await s3ObjectKey({ ...payload, id: 'x'.repeat(2000) }, { path: 'logs', teamPrefix: false, keyPrefix: false });
    expect(new TextEncoder().encode(key).byteLength).toBeLessThanOrEqual(1024);
    expect(key).toMatch(/^logs\/2026-01-01\/time-00-00-00-123456_x+_[0-9a-f]{64}\.json$/);
  });
});
