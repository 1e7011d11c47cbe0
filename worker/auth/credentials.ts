import type { RequestHeaders } from '../providers/types.ts';

/**
 * The key a client presented, where LiteLLM looks for it: the header named by
 * `general_settings.litellm_key_header_name` when one is configured, else
 * `x-litellm-api-key` (a proxy key beside a provider's `Authorization`), else
 * `Authorization: Bearer`, `x-api-key` (Anthropic SDK), `api-key` (Azure
 * SDK), `x-goog-api-key` (Google SDKs), `Ocp-Apim-Subscription-Key` (Azure
 * API Management).
 */
export function presentedKey(headers: RequestHeaders, customHeader?: string): string | undefined {
  if (customHeader) {
    const custom = bearerless(headers.get(customHeader));
    if (custom) return custom;
  }
  const proxyKey = bearerless(headers.get('x-litellm-api-key'));
  if (proxyKey) return proxyKey;
  const auth = headers.get('authorization');
  if (auth) {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    return match?.[1]?.trim() || undefined;
  }
  for (const name of KEY_HEADERS) {
    const value = headers.get(name)?.trim();
    if (value) return value;
  }
  return undefined;
}

const KEY_HEADERS = ['x-api-key', 'api-key', 'x-goog-api-key', 'ocp-apim-subscription-key'];

/** A header's key, with a `Bearer ` prefix taken off as LiteLLM does for its own headers. */
function bearerless(value: string | null): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  return /^Bearer\s+/i.test(trimmed) ? trimmed.replace(/^Bearer\s+/i, '').trim() || undefined : trimmed;
}
