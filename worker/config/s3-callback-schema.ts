/**
 * `litellm_settings.s3_callback_params`: LiteLLM's S3 logger settings (the `s3` callback; s3_v2.py). The
 * gateway only queues the payloads; the admin Worker's consumer reads these when it writes the objects
 * (admin-worker/queues/callbacks/loggers/s3.ts), its credentials' `os.environ/NAME` from its own environment.
 */
import { z } from 'zod';
import { bool, num, str } from './fields.ts';
import { plainSecretWarnings } from './plain-secrets.ts';

/** botocore's bucket name check (VALID_BUCKET), which LiteLLM's boto3 client applies before any request. */
const BUCKET_NAME = /^[a-zA-Z0-9.\-_]{1,255}$/;
/** botocore's region name check (validate_region_name): a region is also a host name label of the bucket's URL. */
export const REGION_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

export const s3CallbackParamsSchema = z.object({
  s3_bucket_name: str.min(1, 'must not be empty').regex(BUCKET_NAME, 'must be an S3 bucket name: letters, digits, ".", "-" and "_" only').optional(),
  s3_region_name: str.regex(REGION_NAME, 'must be an AWS region name such as us-east-1').optional(),
  s3_endpoint_url: str.optional(),
  s3_path: str.optional(),
  /** Values as written: an `os.environ/NAME` stays a name here and is read by the admin Worker when it sends. */
  s3_aws_access_key_id: str.optional(),
  s3_aws_secret_access_key: str.optional(),
  s3_aws_session_token: str.optional(),
  s3_use_team_prefix: bool.optional(),
  s3_use_key_prefix: bool.optional(),
  s3_use_virtual_hosted_style: bool.optional(),
  s3_server_side_encryption: str.optional(),
  s3_sse_kms_key_id: str.optional(),
  s3_log_prompts_only: bool.optional(),
  // Accepted with a note (s3CallbackWarnings): not needed on Workers, or not built.
  s3_use_ssl: bool.optional(),
  s3_verify: z.union([bool, str]).optional(),
  s3_api_version: str.optional(),
  s3_flush_interval: num.optional(),
  s3_batch_size: num.optional(),
  s3_config: z.unknown().optional(),
  s3_strip_base64_files: bool.optional(),
  s3_aws_session_name: str.optional(),
  s3_aws_profile_name: str.optional(),
  s3_aws_role_name: str.optional(),
  s3_aws_web_identity_token: str.optional(),
  s3_aws_sts_endpoint: str.optional(),
}, { error: 'expected a mapping of s3_bucket_name, s3_region_name, s3_aws_access_key_id, ...' });

export type S3CallbackParams = z.output<typeof s3CallbackParamsSchema>;

/** Paths whose `os.environ/` values validation leaves unresolved (validate.ts): the gateway never holds them. */
export const S3_CALLBACK_SECRET_VARS = /^litellm_settings\.s3_callback_params\.s3_aws_(access_key_id|secret_access_key|session_token)$/;

const UNNEEDED = ['s3_flush_interval', 's3_batch_size', 's3_api_version', 's3_config'] as const;
const NOT_BUILT = ['s3_strip_base64_files', 's3_aws_session_name', 's3_aws_profile_name', 's3_aws_role_name', 's3_aws_web_identity_token', 's3_aws_sts_endpoint'] as const;

/** What the `s3` callback's settings mean here: missing bucket, settings not read, credentials in plain text. Never quotes a value. */
export function s3CallbackWarnings(params: S3CallbackParams | undefined, s3On: boolean): string[] {
  const at = 'litellm_settings.s3_callback_params';
  if (!params) return s3On ? [`${at}: not set, so the s3 callback has no bucket to write to (its payloads are dropped)`] : [];
  const out: string[] = [];
  if (s3On && !params.s3_bucket_name) out.push(`${at}.s3_bucket_name: not set, so the s3 callback has no bucket to write to (its payloads are dropped)`);
  for (const field of UNNEEDED) if (params[field] !== undefined) out.push(`${at}.${field}: not needed (the callback Queue batches the objects; each is one signed PUT)`);
  for (const field of NOT_BUILT) if (params[field] !== undefined) out.push(`${at}.${field}: not supported by Tollgate yet (ignored): give s3_aws_access_key_id / s3_aws_secret_access_key (and s3_aws_session_token)`);
  if (params.s3_verify === false || params.s3_verify === 'false') out.push(`${at}.s3_verify: TLS certificates are always verified on Workers (ignored)`);
  out.push(...plainSecretWarnings(at, params, ['s3_aws_secret_access_key', 's3_aws_session_token'], 'the admin Worker'));
  return out;
}
