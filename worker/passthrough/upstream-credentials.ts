import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import { authHeaders, bedrockAuth, type BedrockAuth } from '../providers/bedrock/auth.ts';
import { bedrockBase } from '../providers/bedrock/index.ts';
import { envString } from '../providers/openai-compatible/adapter.ts';
import { accessTokens } from '../providers/vertex_ai/index.ts';
import { DEFAULT_VERTEX_LOCATION, VERTEX_LABEL, type VertexTarget, vertexTarget } from '../providers/vertex_ai/target.ts';
import type { PassThroughProvider } from './providers.ts';
import type { RequestHeaders } from '../providers/types.ts';

/*
 * How a pass-through call reaches its provider as the provider's own client would: the base URL and the
 * credential (a key in the provider's header, Vertex AI's access token, Bedrock's SigV4 signature), from the
 * lending deployment, else the environment (LiteLLM's variable names).
 */

/**
 * Vertex AI's host: the deployment's `api_base`, else the regional host of the location the path names
 * (`.../locations/{location}/...`; one of Google's names, so the host stays Google's), else the deployment's.
 */
export function vertexBase(deployment: DeploymentRef, env: Record<string, unknown>, subpath: string): Credential {
  if (deployment.params.api_base) return { base: deployment.params.api_base };
  const named = /(?:^|\/)locations\/([a-z0-9-]+)(?:\/|$)/.exec(subpath)?.[1];
  const location = named ?? deployment.params.vertex_location ?? envString(env, 'VERTEXAI_LOCATION') ?? DEFAULT_VERTEX_LOCATION;
  if (!/^[a-z0-9-]+$/.test(location)) return { missing: new GatewayError(`"${location}" is not a Vertex AI location`, { status: 500, type: 'internal_server_error' }) };
  return { base: location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com` };
}

/** Where the call goes and with what credential: the deployment's, else the environment's; `missing` says what is not set. */
export interface Credential {
  base?: string;
  key?: string;
  /** Bedrock's: the request is signed (or carries its API key) when sent. */
  aws?: BedrockAuth;
  missing?: GatewayError;
}

/** Bedrock's credentials (the deployment's, else the environment's, as its calls read them) and its runtime host: `api_base`, else its region's. */
export function bedrockCredential(deployment: DeploymentRef, env: Record<string, unknown>): Credential {
  try {
    const aws = bedrockAuth(deployment, env);
    return { base: bedrockBase(deployment, aws.region), aws };
  } catch (err) {
    return { missing: err instanceof GatewayError ? err : new GatewayError('Bedrock credentials unreadable', { status: 500, type: 'internal_server_error' }) };
  }
}

export function credentialOf(p: PassThroughProvider, deployment: DeploymentRef | undefined, env: Record<string, unknown>): Credential {
  const fromEnv = (names: readonly string[]) => names.map((n) => envString(env, n)).find(Boolean);
  const base = deployment?.params.api_base ?? fromEnv(p.baseEnv) ?? p.defaultBase;
  const key = deployment?.params.api_key ?? fromEnv(p.keyEnv);
  const needs = (names: readonly string[]) => new GatewayError(
    `Required '${names[0]}' in environment to make pass-through calls to ${p.name} (or a deployment of it in config.yaml with use_in_pass_through: true).`,
    { status: 500, type: 'internal_server_error' },
  );
  if (!base) return { missing: needs(p.baseEnv) };
  if (!key && p.keyRequired) return { base, missing: needs(p.keyEnv) };
  return { base, ...(key ? { key } : {}) };
}

export function setCredential(headers: Headers, p: PassThroughProvider, key: string | undefined): void {
  if (!key || p.auth === 'google-oauth' || p.auth === 'aws-sigv4') return;
  if (p.auth === 'bearer') headers.set('authorization', `Bearer ${key}`);
  else headers.set(p.auth, key);
  if (p.provider === 'anthropic' && !headers.has('anthropic-version')) headers.set('anthropic-version', '2023-06-01');
}

/**
 * Bedrock's request, signed: SigV4 covers the headers that say what the request is (`content-type`, `accept`,
 * Bedrock's own `x-amzn-bedrock-*`); the client's others ride along unsigned, so a hop that rewrites one
 * does not break the signature.
 */
export async function signed(aws: BedrockAuth, url: URL, body: Uint8Array | undefined, outbound: Headers, method: string): Promise<Headers> {
  const covered: Record<string, string> = {};
  const rest: [string, string][] = [];
  outbound.forEach((value, name) => (name === 'content-type' || name === 'accept' || name.startsWith('x-amzn-bedrock-') ? (covered[name] = value) : rest.push([name, value])));
  const out = new Headers(await authHeaders(aws, url, body, covered, method));
  for (const [name, value] of rest) if (!out.has(name)) out.set(name, value);
  return out;
}

/** The request's headers with Google's `?key=` as the key when no header carries one. */
export function withQueryKey(headers: RequestHeaders, key: string | null): RequestHeaders {
  if (!key || headers.get('x-goog-api-key') || headers.get('authorization') || headers.get('x-litellm-api-key') || headers.get('x-api-key')) return headers;
  return { get: (name) => (name.toLowerCase() === 'x-goog-api-key' ? key : headers.get(name)), forEach: headers.forEach };
}

/** Vertex AI's `Authorization`: an access token of the deployment's service account (or VERTEXAI_CREDENTIALS), and the target it is for. */
export async function vertexBearer(deployment: DeploymentRef, env: Record<string, unknown>): Promise<{ authorization: string; target: VertexTarget }> {
  const target = vertexTarget(deployment, env);
  return { authorization: `Bearer ${await accessTokens.token(target.account, VERTEX_LABEL, 'vertex_ai')}`, target };
}

/** A Google API call's query as sent on: without `key` (the client's key for the gateway) and `userProject` (who pays is the operator's choice). */
export function googleQuery(url: URL): [string, string][] {
  return [...url.searchParams].filter(([name]) => name !== 'key' && name !== 'userProject');
}
