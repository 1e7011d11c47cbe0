/**
 * LiteLLM's `gcs_bucket` callback (GCSBucketLogger): each StandardLoggingPayload as one JSON object in the
 * `GCS_BUCKET_NAME` bucket, through the JSON API's media upload
 * (`POST <GCS_API_BASE>/upload/storage/v1/b/<bucket>/o?uploadType=media&name=<object>`, default base
 * https://storage.googleapis.com) with an OAuth2 access token of the service account in
 * `GCS_PATH_SERVICE_ACCOUNT`. LiteLLM reads a key file at that path; a Worker has no files, so the admin Worker
 * takes the key's JSON itself there (`npm start` reads a path into it at startup: scripts/lib/stack.ts). The
 * token comes from the key's `token_uri` with a signed JWT (the Vertex AI code's signer), kept per isolate
 * until near its expiry. Object names are LiteLLM's: `<YYYY-MM-DD>/<response id>`, a failure
 * `<YYYY-MM-DD>/failure-<hex>`, under the folder a `bucket/folder` name gives.
 */
import type { ServiceAccount } from '../../../../worker/providers/vertex_ai/service-account.ts';
import type { EventSegment } from '../segment.ts';
import { startSeconds, utcDay } from './payloads.ts';
import { serviceAccountOf, ServiceAccountTokens } from './service-account-tokens.ts';
import { envText, httpUrl, type LoggerEnv, type LoggerPoster, networkFailure, type PostResult, POST_TIMEOUT_MS, putEach } from './types.ts';

type Json = Record<string, unknown>;
const encoder = new TextEncoder();

/** Tokens per service account for this isolate, shared by every batch (renewed five minutes before they lapse). */
const tokens = new ServiceAccountTokens({ logger: 'gcs_bucket', service: 'GCS' });

export interface GcsTarget {
  base: URL;
  bucket: string;
  /** The folder of a `bucket/folder/...` GCS_BUCKET_NAME (LiteLLM's `_handle_folders_in_bucket_name`), `''` without. */
  folder: string;
  account: ServiceAccount;
}

/** GCS's rule for a bucket name (lowercase letters, digits, `-`, `_`, `.`; 3 to 222 characters). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** The bucket, folder and service account from the admin Worker's env, or why the objects cannot be written. */
export function gcsTargetOf(env: LoggerEnv): GcsTarget | { error: string } {
  const name = envText(env, 'GCS_BUCKET_NAME');
  if (!name) return { error: 'GCS_BUCKET_NAME is not set for the admin Worker' };
  const at = name.indexOf('/');
  const bucket = at < 0 ? name : name.slice(0, at);
  const folder = at < 0 ? '' : name.slice(at + 1).replace(/\/+$/, '');
  if (!BUCKET_NAME.test(bucket)) return { error: 'GCS_BUCKET_NAME does not start with a bucket name GCS takes' };
  const key = serviceAccountOf(env);
  if ('error' in key) return key;
  const base = httpUrl(envText(env, 'GCS_API_BASE') ?? 'https://storage.googleapis.com', 'GCS_API_BASE');
  if ('error' in base) return base;
  return { base, bucket, folder, account: key.account };
}

/**
 * A payload's object name, as LiteLLM's `_get_object_name`: `<date>/<response id>` for a success,
 * `<date>/failure-<32 hex>` for a failure, under the bucket name's folder. The date is the call's start (UTC)
 * rather than the upload's, and a failure's hex is its call id's, so a retried upload rewrites the same object.
 */
export function gcsObjectName(payload: Json, folder: string): string {
  const date = utcDay(new Date(startSeconds(payload) * 1000));
  const id = String(payload.id ?? '');
  const response = payload.response && typeof payload.response === 'object' ? (payload.response as Json).id : undefined;
  const name = payload.error_str !== null && payload.error_str !== undefined
    ? `${date}/failure-${id.replace(/-/g, '')}`
    : `${date}/${typeof response === 'string' && response ? response : id}`;
  return folder ? `${folder}/${name}` : name;
}

/** GCS's error reason from its JSON answer (`error.errors[0].reason`), never the message (it may quote the request). */
function errorReason(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { errors?: { reason?: unknown }[] } };
    const reason = body.error?.errors?.[0]?.reason;
    return typeof reason === 'string' ? reason.slice(0, 64) : '';
  } catch {
    return '';
  }
}

/**
 * Whether GCS's refusal may pass: every answer but one that blames the object itself (413, or a 400 `invalid`:
 * an object name or body GCS will not take). 401/403 (a key without access, a disabled account), 404 (no such
 * bucket), 429 and 5xx are settings or GCS to wait for: the object is retried, at worst into the dead-letter queue.
 */
export const gcsRetryable = (status: number, reason: string): boolean => !(status === 413 || (status === 400 && reason === 'invalid'));

/**
 * One payload's upload, classified as the dispatcher wants it: 200 is written; only an object GCS refuses as
 * such is dropped. `fresh`: the tokens exchanged during this batch (one set a batch).
 */
export async function uploadPayload(target: GcsTarget, payload: Json, fresh = new Set<string>()): Promise<PostResult> {
  const token = await tokens.token(target.account, fresh);
  if (typeof token !== 'string') return token;
  const name = gcsObjectName(payload, target.folder);
  const url = new URL(`${target.base.toString().replace(/\/+$/, '')}/upload/storage/v1/b/${encodeURIComponent(target.bucket)}/o`);
  url.searchParams.set('uploadType', 'media');
  url.searchParams.set('name', name);
  try {
    const res = await fetch(url, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: encoder.encode(JSON.stringify(payload)), signal: AbortSignal.timeout(POST_TIMEOUT_MS), redirect: 'manual',
    });
    const answer = await res.text().catch(() => '');
    if (res.status === 200) return { ok: true };
    // A token GCS no longer takes (revoked, or the key's account disabled and back): the retry asks for a new one.
    const reason = errorReason(answer);
    const refused = res.status === 401 ? tokens.refused(target.account, token, fresh, reason) : undefined;
    if (refused) return refused;
    return { ok: false, retry: gcsRetryable(res.status, reason), reason: `HTTP ${res.status}${reason ? ` ${reason}` : ''} for object ${name}` };
  } catch (err) {
    return networkFailure(err);
  }
}

export const gcsBucketPoster: LoggerPoster = {
  // GCS has no batch upload (LiteLLM posts one object a payload too): a request is one object, retried alone.
  maxPayloads: 1,
  maxBytes: 5 * 1024 * 1024,
  target(env: LoggerEnv) {
    const target = gcsTargetOf(env);
    // Kept for a retry (the dead-letter queue at worst), not dropped: a deployment that passes a key file's path
    // (workerd or Helm without `npm start`) loses no payload while its operator mends the setting.
    if ('error' in target) return { error: target.error, retry: true };
    const fresh = new Set<string>();
    return {
      where: target.base.origin,
      // One set a batch (a target is made per batch): a token exchanged for it and refused at once is remembered.
      post: async (segments: readonly EventSegment[]) => {
        return putEach(segments, (payload) => uploadPayload(target, payload as Json, fresh));
      },
    };
  },
};
