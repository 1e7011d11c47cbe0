/**
 * The AWS credentials of the loggers that sign with SigV4 (`s3`, `aws_sqs`), as LiteLLM's callback params give
 * them (`<prefix>_aws_access_key_id`, `_secret_access_key`, `_session_token`; `os.environ/NAME` read from the
 * admin Worker's env when it sends), else the Worker's `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
 * `AWS_SESSION_TOKEN`, as boto3 finds them. A key is never pieced together from both places.
 */
import { resolveEnvRef } from '../../../../worker/config/env-ref.ts';
import { envText, type LoggerEnv } from './types.ts';

/** The params' credential values as config.yaml has them (literal or `os.environ/NAME`). */
export interface AwsCredentialParams { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string }

/** A signing key, without its region (each logger finds its own). */
export interface AwsCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

/** A credential param: its `os.environ/NAME` read now, a literal as written (trimmed); `missing` names an unset variable. */
const credential = (value: string | undefined, env: LoggerEnv): { value?: string; missing?: string } => resolveEnvRef(value, env);

/**
 * The key the params name, else the env's, or why there is none. `prefix` is the params' (`s3`, `sqs`) and
 * `section` their config.yaml name, so an error says which settings to mend. The key id and the secret come
 * from the params together or not at all (a session token too belongs with the params' key): a half-set pair
 * would otherwise sign with the env's other half, a key nobody configured.
 */
export function awsCredentials(params: AwsCredentialParams, env: LoggerEnv, prefix: string, section: string): { auth: AwsCredentials } | { error: string } {
  const id = credential(params.accessKeyId, env);
  const secret = credential(params.secretAccessKey, env);
  const token = credential(params.sessionToken, env);
  const unset = [id.missing, secret.missing, token.missing].filter(Boolean);
  if (unset.length) return { error: `${unset.join(', ')} ${unset.length > 1 ? 'are' : 'is'} not set for the admin Worker (${section} names it)` };
  const idName = `${prefix}_aws_access_key_id`;
  const secretName = `${prefix}_aws_secret_access_key`;
  const own = params.accessKeyId !== undefined || params.secretAccessKey !== undefined;
  if (own && (params.accessKeyId === undefined || params.secretAccessKey === undefined)) {
    return { error: `${section} sets only one of ${idName} and ${secretName}: set both, or neither (then the admin Worker's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)` };
  }
  if (!own && params.sessionToken !== undefined) {
    return { error: `${section} sets ${prefix}_aws_session_token without ${idName} and ${secretName}: a session token goes with the key it was issued for` };
  }
  const accessKeyId = own ? id.value : envText(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = own ? secret.value : envText(env, 'AWS_SECRET_ACCESS_KEY');
  const sessionToken = own ? token.value : envText(env, 'AWS_SESSION_TOKEN');
  if (!accessKeyId || !secretAccessKey) return { error: `no AWS credentials: set ${idName} and ${secretName} (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the admin Worker)` };
  return { auth: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } };
}
