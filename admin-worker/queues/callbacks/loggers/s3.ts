/**
 * LiteLLM's `s3` callback (S3Logger, s3_v2.py): each StandardLoggingPayload as one JSON object, PUT with AWS
 * SigV4 to `litellm_settings.s3_callback_params.s3_bucket_name` under LiteLLM's object key (s3-key.ts). The
 * bucket is reached at `https://<bucket>.s3.<region>.amazonaws.com/<key>`, or path-style at
 * `<s3_endpoint_url>/<bucket>/<key>` (MinIO, R2 and other S3-compatible stores; virtual-hosted there with
 * `s3_use_virtual_hosted_style`). Credentials are the params' (`os.environ/NAME` read from this Worker's env
 * when it sends), else `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, as boto3 finds them.
 */
import { REGION_NAME, type S3CallbackParams } from '../../../../worker/config/s3-callback-schema.ts';
import { authHeaders, type BedrockAuth } from '../../../../worker/providers/bedrock/auth.ts';
import type { EventSegment } from '../segment.ts';
import { awsCredentials } from './aws-credentials.ts';
import { hexDigest, s3DownloadFilename, s3ObjectKey } from './s3-key.ts';
import { configuredTarget, envText, httpUrl, type LoggerEnv, type LoggerPoster, networkFailure, type PostResult, POST_TIMEOUT_MS, putEach } from './types.ts';

/** LiteLLM's region for calls that are not an LLM's when none is given (`get_aws_region_name_for_non_llm_api_calls`). */
const DEFAULT_REGION = 'us-east-1';

type Json = Record<string, unknown>;
type Sigv4 = Extract<BedrockAuth, { kind: 'sigv4' }>;

export interface S3Target {
  /** The object URL of a key, its key percent-encoded once (`/` kept). */
  objectUrl(key: string): URL;
  auth: Sigv4;
  path: string;
  teamPrefix: boolean;
  keyPrefix: boolean;
  promptsOnly: boolean;
  sse: Record<string, string>;
}

const encoder = new TextEncoder();

/** RFC 3986 encoding of each segment, as Python's `quote(key, safe="/")` and S3's canonical path have it. */
export const encodeKey = (key: string): string =>
  key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');

/** The bucket, credentials and key settings from config.yaml and this Worker's env, or why the objects cannot be written. */
export function s3TargetOf(params: S3CallbackParams | undefined, env: LoggerEnv): S3Target | { error: string } {
  const bucket = params?.s3_bucket_name;
  if (!params || !bucket) return { error: 'litellm_settings.s3_callback_params.s3_bucket_name is not set' };
  const creds = awsCredentials({ accessKeyId: params.s3_aws_access_key_id, secretAccessKey: params.s3_aws_secret_access_key, sessionToken: params.s3_aws_session_token }, env, 's3', 's3_callback_params');
  if ('error' in creds) return creds;
  const region = params.s3_region_name ?? envText(env, 'AWS_REGION_NAME') ?? envText(env, 'AWS_REGION') ?? DEFAULT_REGION;
  // The env's region is checked only here: one no host name takes would make every object's URL throw.
  if (!REGION_NAME.test(region)) return { error: 'the S3 region (s3_region_name, else AWS_REGION_NAME / AWS_REGION) is not a region name such as us-east-1' };
  let objectUrl: (key: string) => URL;
  if (params.s3_endpoint_url) {
    const endpoint = httpUrl(params.s3_endpoint_url, 's3_endpoint_url');
    if ('error' in endpoint) return endpoint;
    const base = endpoint.toString().replace(/\/+$/, '');
    objectUrl = params.s3_use_virtual_hosted_style
      ? (key) => new URL(`${endpoint.protocol}//${bucket}.${base.slice(endpoint.protocol.length + 2)}/${encodeKey(key)}`)
      : (key) => new URL(`${base}/${encodeURIComponent(bucket)}/${encodeKey(key)}`);
  } else {
    const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    const scheme = params.s3_use_ssl === false ? 'http' : 'https';
    objectUrl = (key) => new URL(`${scheme}://${bucket}.s3.${region}.${suffix}/${encodeKey(key)}`);
  }
  try {
    objectUrl('');
  } catch {
    return { error: 'the bucket\'s URL is not valid: check s3_bucket_name, the region and s3_endpoint_url' };
  }
  // LiteLLM's resolve_sse_params: a KMS key alone means aws:kms; a KMS key with another algorithm is left out.
  const algorithm = params.s3_server_side_encryption ?? (params.s3_sse_kms_key_id ? 'aws:kms' : undefined);
  const sse: Record<string, string> = {};
  if (algorithm) sse['x-amz-server-side-encryption'] = algorithm;
  if (algorithm?.startsWith('aws:kms') && params.s3_sse_kms_key_id) sse['x-amz-server-side-encryption-aws-kms-key-id'] = params.s3_sse_kms_key_id;
  return {
    objectUrl,
    auth: { kind: 'sigv4', ...creds.auth, region },
    path: params.s3_path ?? '',
    teamPrefix: params.s3_use_team_prefix === true,
    keyPrefix: params.s3_use_key_prefix === true,
    promptsOnly: params.s3_log_prompts_only ?? /^(true|1|yes|on)$/i.test(envText(env, 'S3_LOG_PROMPTS_ONLY') ?? ''),
    sse,
  };
}

/** S3's error code from its XML answer (never the rest: a SignatureDoesNotMatch answer quotes the key id and what was signed). */
const errorCode = (xml: string): string => /<Code>([^<]{1,64})<\/Code>/.exec(xml)?.[1] ?? '';

/**
 * S3's error codes that blame the object itself (too large, a key S3 or an S3-compatible store will not take): a
 * retry would be refused the same way, so the object is dropped. MinIO names its own with an `XMinio` prefix.
 */
const OBJECT_REFUSED = new Set(['EntityTooLarge', 'KeyTooLongError', 'XMinioInvalidObjectName']);

/**
 * Whether S3's refusal may pass: every answer but one that blames the object. S3's 400s are mostly about the
 * credentials, the clock or the request in flight (ExpiredToken, InvalidToken, AuthorizationHeaderMalformed,
 * RequestTimeout, IncompleteBody, XAmzContentSHA256Mismatch, BadDigest, KMS.*): settings an operator mends,
 * so the object waits (at worst in the dead-letter queue) rather than being lost.
 */
export const s3Retryable = (status: number, code: string): boolean => status !== 413 && !OBJECT_REFUSED.has(code);

/** One payload's PUT, classified as the dispatcher wants it: 200 is written; only an object S3 refuses as such is dropped. */
export async function putPayload(target: S3Target, payload: Json): Promise<PostResult> {
  const key = await s3ObjectKey(payload, target);
  const text = JSON.stringify(target.promptsOnly ? { ...payload, response: null } : payload);
  const body = encoder.encode(text);
  const url = target.objectUrl(key);
  const headers = await authHeaders(target.auth, url, body, {
    'content-type': 'application/json',
    // S3 checks the body against both; the SHA-256 is also what the signature covers.
    'content-md5': btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('MD5', body)))),
    'x-amz-content-sha256': await hexDigest('SHA-256', body),
    'content-language': 'en',
    'content-disposition': `inline; filename="${s3DownloadFilename(payload)}"`,
    'cache-control': 'private, immutable, max-age=31536000, s-maxage=0',
    ...target.sse,
  }, 'PUT', 's3');
  try {
    const res = await fetch(url, { method: 'PUT', headers, body, signal: AbortSignal.timeout(POST_TIMEOUT_MS), redirect: 'manual' });
    const answer = await res.text().catch(() => '');
    if (res.status === 200) return { ok: true };
    const code = errorCode(answer);
    return { ok: false, retry: s3Retryable(res.status, code), reason: `HTTP ${res.status}${code ? ` ${code}` : ''} for object ${key}` };
  } catch (err) {
    return networkFailure(err);
  }
}

export const s3Poster: LoggerPoster = {
  // S3 has no batch PUT: a request is one object, so a retry is one message's and an object is written once.
  maxPayloads: 1,
  maxBytes: 5 * 1024 * 1024,
  target(env: LoggerEnv) {
    return configuredTarget(env, (config) => config.litellm_settings.s3_callback_params, (params) => {
      const target = s3TargetOf(params, env);
      if ('error' in target) return target;
      return {
        where: target.objectUrl('').origin,
        post: async (segments: readonly EventSegment[]) => {
          // A message holds one payload; were there more, a retry rewrites the same keys (the same objects).
          return putEach(segments, (payload) => putPayload(target, payload as Json));
        },
      };
    });
  },
};
