/**
 * `litellm_settings.aws_sqs_callback_params`: LiteLLM's SQS logger settings (the `aws_sqs` callback; sqs.py). The
 * gateway only queues the payloads; the admin Worker's consumer reads these when it sends the messages
 * (admin-worker/queues/callbacks/loggers/sqs.ts), its credentials' `os.environ/NAME` from its own environment.
 */
import { z } from 'zod';
import { bool, num, str } from './fields.ts';
import { plainSecretWarnings } from './plain-secrets.ts';
import { REGION_NAME } from './s3-callback-schema.ts';

export const sqsCallbackParamsSchema = z.object({
  sqs_queue_url: str.min(1, 'must not be empty').optional(),
  sqs_region_name: str.regex(REGION_NAME, 'must be an AWS region name such as us-east-1').optional(),
  /** Values as written: an `os.environ/NAME` stays a name here and is read by the admin Worker when it sends. */
  sqs_aws_access_key_id: str.optional(),
  sqs_aws_secret_access_key: str.optional(),
  sqs_aws_session_token: str.optional(),
  sqs_strip_base64_files: bool.optional(),
  // Accepted with a note (sqsCallbackWarnings): not needed on Workers, or not built.
  sqs_api_version: str.optional(),
  sqs_use_ssl: bool.optional(),
  sqs_verify: z.union([bool, str]).optional(),
  sqs_endpoint_url: str.optional(),
  sqs_flush_interval: num.optional(),
  sqs_batch_size: num.optional(),
  sqs_config: z.unknown().optional(),
  sqs_aws_session_name: str.optional(),
  sqs_aws_profile_name: str.optional(),
  sqs_aws_role_name: str.optional(),
  sqs_aws_web_identity_token: str.optional(),
  sqs_aws_sts_endpoint: str.optional(),
  sqs_aws_use_application_level_encryption: bool.optional(),
  sqs_app_encryption_key_b64: str.optional(),
  sqs_app_encryption_aad: str.optional(),
}, { error: 'expected a mapping of sqs_queue_url, sqs_region_name, sqs_aws_access_key_id, ...' });

export type SqsCallbackParams = z.output<typeof sqsCallbackParamsSchema>;

/** Paths whose `os.environ/` values validation leaves unresolved (validate.ts): the gateway never holds them. */
export const SQS_CALLBACK_SECRET_VARS = /^litellm_settings\.aws_sqs_callback_params\.(sqs_aws_(access_key_id|secret_access_key|session_token)|sqs_app_encryption_key_b64)$/;

const UNNEEDED = ['sqs_flush_interval', 'sqs_batch_size', 'sqs_api_version', 'sqs_config'] as const;
const NOT_BUILT = ['sqs_aws_session_name', 'sqs_aws_profile_name', 'sqs_aws_role_name', 'sqs_aws_web_identity_token', 'sqs_aws_sts_endpoint'] as const;

/** What the `aws_sqs` callback's settings mean here: missing queue, settings not read, credentials in plain text. Never quotes a value. */
export function sqsCallbackWarnings(params: SqsCallbackParams | undefined, sqsOn: boolean): string[] {
  const at = 'litellm_settings.aws_sqs_callback_params';
  if (!params) return sqsOn ? [`${at}: not set, so the aws_sqs callback has no queue to send to (its payloads are dropped)`] : [];
  const out: string[] = [];
  if (sqsOn && !params.sqs_queue_url) out.push(`${at}.sqs_queue_url: not set, so the aws_sqs callback has no queue to send to (its payloads are dropped)`);
  for (const field of UNNEEDED) if (params[field] !== undefined) out.push(`${at}.${field}: not needed (the callback Queue batches the payloads; up to 10 go in one signed SendMessageBatch)`);
  for (const field of NOT_BUILT) if (params[field] !== undefined) out.push(`${at}.${field}: not supported by Tollgate yet (ignored): give sqs_aws_access_key_id / sqs_aws_secret_access_key (and sqs_aws_session_token)`);
  if (params.sqs_endpoint_url !== undefined) out.push(`${at}.sqs_endpoint_url: not read, as in LiteLLM: messages go to sqs_queue_url`);
  if (params.sqs_use_ssl === false) out.push(`${at}.sqs_use_ssl: not read, as in LiteLLM: the scheme is sqs_queue_url's`);
  if (params.sqs_verify === false || params.sqs_verify === 'false') out.push(`${at}.sqs_verify: TLS certificates are always verified on Workers (ignored)`);
  if (params.sqs_aws_use_application_level_encryption) out.push(`${at}.sqs_aws_use_application_level_encryption: not supported by Tollgate yet: the aws_sqs callback sends nothing (never the payloads unencrypted) while it is on`);
  out.push(...plainSecretWarnings(at, params, ['sqs_aws_secret_access_key', 'sqs_aws_session_token', 'sqs_app_encryption_key_b64'], 'the admin Worker'));
  return out;
}
