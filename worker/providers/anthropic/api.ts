import type { DeploymentRef } from '../../models/deployments.ts';
import { envString } from '../openai-compatible/adapter.ts';
import { displayBase, upstreamUrl } from '../upstream-url.ts';

export const ANTHROPIC_API_BASE = 'https://api.anthropic.com';
/** The Messages API version every request pins (https://docs.anthropic.com/en/api/versioning). */
export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicTarget {
  url: URL;
  /** `x-api-key`, `anthropic-version` and the deployment's `extra_headers`. */
  headers: Record<string, string>;
  secret: string | undefined;
  apiBase: string;
}

/**
 * `POST {api_base}/v1/messages`. `api_base` may be given with or without
 * `/v1` or `/v1/messages` (LiteLLM accepts all three); it defaults to
 * ANTHROPIC_API_BASE (env), then Anthropic's own.
 */
export function anthropicTarget(deployment: DeploymentRef, env: Record<string, unknown>): AnthropicTarget {
  const key = deployment.params.api_key ?? envString(env, 'ANTHROPIC_API_KEY');
  const base = (deployment.params.api_base ?? envString(env, 'ANTHROPIC_API_BASE') ?? ANTHROPIC_API_BASE)
    .replace(/\/+$/, '')
    .replace(/\/v1(?:\/messages)?$/, '');
  const url = upstreamUrl(base, 'v1/messages');
  const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
  if (key) headers['x-api-key'] = key;
  for (const [name, value] of Object.entries(deployment.params.extra_headers ?? {})) headers[name.toLowerCase()] = value;
  return { url, headers, secret: key, apiBase: displayBase(url) };
}

// Beta names are tokens separated by commas; anything else is not passed on.
const BETA_LIST = /^[A-Za-z0-9._-]+(?:\s*,\s*[A-Za-z0-9._-]+)*$/;

/**
 * The `anthropic-beta` header to send: the deployment's (extra_headers) and
 * the client's, joined. A client value that is not a list of beta names is
 * ignored rather than forwarded.
 */
export function betaHeader(configured: string | undefined, fromClient: string | null | undefined): string | undefined {
  const client = fromClient?.trim();
  const names = [configured, client && BETA_LIST.test(client) ? client : undefined]
    .flatMap((v) => (v ? v.split(',') : []))
    .map((v) => v.trim())
    .filter(Boolean);
  return names.length ? [...new Set(names)].join(',') : undefined;
}
