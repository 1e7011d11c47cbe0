/**
 * Who Bedrock is called as, and where: AWS credentials (SigV4) or a Bedrock
 * API key (bearer), from the deployment's params, else the Worker env, as
 * LiteLLM reads them.
 */
import { AwsV4Signer } from 'aws4fetch';
import { GatewayError } from '../../errors.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import { envString } from '../openai-compatible/adapter.ts';

/** LiteLLM's region when none is configured. */
export const DEFAULT_AWS_REGION = 'us-west-2';

export type BedrockAuth =
  | { kind: 'sigv4'; accessKeyId: string; secretAccessKey: string; sessionToken?: string; region: string }
  | { kind: 'bearer'; token: string; region: string };

export function bedrockAuth(deployment: DeploymentRef, env: Record<string, unknown>): BedrockAuth {
  const p = deployment.params;
  const region = p.aws_region_name ?? p.region_name ?? envString(env, 'AWS_REGION_NAME') ?? envString(env, 'AWS_REGION') ?? DEFAULT_AWS_REGION;
  if (p.api_key) return { kind: 'bearer', token: p.api_key, region };
  const fromParams = Boolean(p.aws_access_key_id);
  const accessKeyId = p.aws_access_key_id ?? envString(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = p.aws_secret_access_key ?? envString(env, 'AWS_SECRET_ACCESS_KEY');
  // A session token belongs to its key: the env's is not mixed with a key from the config.
  const sessionToken = p.aws_session_token ?? (fromParams ? undefined : envString(env, 'AWS_SESSION_TOKEN'));
  if (accessKeyId && secretAccessKey) {
    return { kind: 'sigv4', accessKeyId, secretAccessKey, region, ...(sessionToken ? { sessionToken } : {}) };
  }
  const bearer = envString(env, 'AWS_BEARER_TOKEN_BEDROCK');
  if (bearer) return { kind: 'bearer', token: bearer, region };
  throw new GatewayError(
    `Deployment misconfigured: bedrock/${deployment.model} needs aws_access_key_id and aws_secret_access_key ` +
    '(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or a Bedrock API key', { status: 500, type: 'internal_server_error', provider: 'bedrock' },
  );
}

/** Values that must never appear in an error message. */
export function authSecrets(auth: BedrockAuth): string[] {
  return auth.kind === 'bearer' ? [auth.token] : [auth.secretAccessKey, auth.sessionToken ?? '', auth.accessKeyId];
}

/**
 * The auth headers a request will carry, without signing it: a bearer token as sent; for SigV4 the key id and
 * scope with the signature left out (it covers the request's time, so it is only made when sent).
 */
export function unsignedAuth(auth: BedrockAuth): Record<string, string> {
  if (auth.kind === 'bearer') return { authorization: `Bearer ${auth.token}` };
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${auth.accessKeyId}/<date>/${auth.region}/bedrock/aws4_request, SignedHeaders=<signed when sent>, Signature=<signed when sent>`,
    ...(auth.sessionToken ? { 'x-amz-security-token': auth.sessionToken } : {}),
  };
}

// SigV4 signing keys, per secret, day, region and service: derived once a day instead of four HMACs a request.
const signingKeys = new Map<string, ArrayBuffer>();
const MAX_SIGNING_KEYS = 64;

/**
 * The headers of a signed request. Bedrock's runtime signs as service
 * `bedrock`; the host signed is the URL's, so an `api_base` (a VPC endpoint)
 * is signed as itself. Non-S3 paths are encoded twice in the canonical
 * request: the model id's `:` travels as `%3A` and is signed as `%253A`.
 * `service: 's3'` signs an S3 request (the `s3` logger's PUTs): its path once encoded.
 */
export async function authHeaders(auth: BedrockAuth, url: URL, body: string | Uint8Array | undefined, headers: Record<string, string>, method = 'POST', service = 'bedrock'): Promise<Record<string, string>> {
  if (auth.kind === 'bearer') return { ...headers, authorization: `Bearer ${auth.token}` };
  if (signingKeys.size > MAX_SIGNING_KEYS) signingKeys.clear();
  const signer = new AwsV4Signer({
    method,
    url: url.toString(),
    headers,
    // Bytes as the request sends them (a pass-through body); typed loosely across Node's and Workers' lib types.
    ...(body !== undefined ? { body: body as BodyInit } : {}),
    accessKeyId: auth.accessKeyId,
    secretAccessKey: auth.secretAccessKey,
    ...(auth.sessionToken ? { sessionToken: auth.sessionToken } : {}),
    service,
    region: auth.region,
    cache: signingKeys,
  });
  const signed = await signer.sign();
  const out: Record<string, string> = {};
  signed.headers.forEach((value, name) => (out[name] = value));
  return out;
}
