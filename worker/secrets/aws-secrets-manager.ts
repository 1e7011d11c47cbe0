/**
 * AWS Secrets Manager's GetSecretValue, as LiteLLM's `aws_secret_manager_v2` reads it: a SigV4-signed
 * `POST /` (service `secretsmanager`, `X-Amz-Target: secretsmanager.GetSecretValue`, JSON 1.1 body
 * `{"SecretId": NAME}`), the value its `SecretString`. With `primary_secret_name`, one secret holds a
 * JSON object of every name → value. Credentials and region come from the Worker's environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; AWS_REGION_NAME, AWS_REGION,
 * AWS_DEFAULT_REGION); AWS_ENDPOINT_URL_SECRETS_MANAGER (the AWS SDKs' name) points it elsewhere
 * (a VPC endpoint).
 */
import { AwsV4Signer } from 'aws4fetch';
import { SecretReadError, type SecretReader } from './reader.ts';
import type { KeyManagementSettings } from './settings.ts';

const envStr = (env: Record<string, unknown>, name: string) => (typeof env[name] === 'string' && env[name] !== '' ? env[name] : undefined);

const regionOf = (env: Record<string, unknown>, settings: KeyManagementSettings | undefined) =>
  settings?.aws_region_name ?? envStr(env, 'AWS_REGION_NAME') ?? envStr(env, 'AWS_REGION') ?? envStr(env, 'AWS_DEFAULT_REGION');

/** What is missing from the environment for Secrets Manager to be read; empty when nothing is. */
export function awsEnvProblems(env: Record<string, unknown>, settings: KeyManagementSettings | undefined): string[] {
  const problems: string[] = [];
  if (!envStr(env, 'AWS_ACCESS_KEY_ID') || !envStr(env, 'AWS_SECRET_ACCESS_KEY')) problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (a Worker has no instance role)');
  if (!regionOf(env, settings)) problems.push('no region: set key_management_settings.aws_region_name, or AWS_REGION_NAME / AWS_REGION / AWS_DEFAULT_REGION');
  return problems;
}

// SigV4 signing keys, per secret, day and region (aws4fetch's cache): one derivation a day, not four HMACs a read.
const signingKeys = new Map<string, ArrayBuffer>();

/** Types of GetSecretValue's errors that mean "no such secret (value)" rather than "could not read". */
const NOT_FOUND = new Set(['ResourceNotFoundException']);

async function getSecretString(env: Record<string, unknown>, settings: KeyManagementSettings | undefined, secretId: string, timeoutMs: number): Promise<string> {
  const accessKeyId = envStr(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = envStr(env, 'AWS_SECRET_ACCESS_KEY');
  const region = regionOf(env, settings);
  if (!accessKeyId || !secretAccessKey || !region) throw new SecretReadError(awsEnvProblems(env, settings).join('; '), 'config');
  const endpoint = envStr(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER') ?? `https://secretsmanager.${region}.amazonaws.com`;
  const sessionToken = envStr(env, 'AWS_SESSION_TOKEN');
  if (signingKeys.size > 16) signingKeys.clear();
  const signer = new AwsV4Signer({
    method: 'POST',
    url: `${endpoint.replace(/\/+$/, '')}/`,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
    body: JSON.stringify({ SecretId: secretId }),
    accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}),
    service: 'secretsmanager', region, cache: signingKeys,
  });
  const signed = await signer.sign();
  let res: Response;
  try {
    res = await fetch(signed.url, { method: 'POST', headers: signed.headers, body: signed.body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new SecretReadError(err instanceof Error && err.name === 'TimeoutError' ? 'AWS Secrets Manager did not answer in time' : 'AWS Secrets Manager could not be reached', 'unavailable');
  }
  const body = (await res.json().catch(() => undefined)) as { SecretString?: unknown; __type?: unknown } | undefined;
  if (!res.ok) {
    // `__type` is AWS's error code (e.g. `com.amazonaws...#AccessDeniedException`): named, its message is not.
    const type = typeof body?.__type === 'string' ? body.__type.split('#').pop()! : undefined;
    const why = `AWS Secrets Manager refused the read (HTTP ${res.status}${type ? ` ${type}` : ''})`;
    throw new SecretReadError(why, type && NOT_FOUND.has(type) ? 'missing' : 'unavailable');
  }
  if (typeof body?.SecretString !== 'string' || body.SecretString === '') throw new SecretReadError('the AWS secret has no SecretString', 'missing');
  return body.SecretString;
}

/** A reader of AWS Secrets Manager, one secret per name (primary_secret_name is read through primaryValue). */
export function awsSecretsReader(env: Record<string, unknown>, settings: KeyManagementSettings | undefined): SecretReader {
  return (name, timeoutMs) => getSecretString(env, settings, name, timeoutMs);
}

let parsedPrimary: { whole: string; values: unknown } | undefined;

/**
 * A name's value in the primary secret (`whole`, its SecretString: a JSON object of name → value), parsed
 * once per value read; throws SecretReadError (`missing`) naming the primary secret and the name, never a value.
 */
export function primaryValue(whole: string, primaryName: string, name: string): string {
  if (parsedPrimary?.whole !== whole) {
    let values: unknown;
    try {
      values = JSON.parse(whole);
    } catch {
      throw new SecretReadError(`the primary secret ${primaryName} is not a JSON object`, 'missing');
    }
    parsedPrimary = { whole, values };
  }
  const { values } = parsedPrimary;
  const value = values && typeof values === 'object' ? (values as Record<string, unknown>)[name] : undefined;
  if (typeof value !== 'string' || value === '') throw new SecretReadError(`the primary secret ${primaryName} has no "${name}"`, 'missing');
  return value;
}

