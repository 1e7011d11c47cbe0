import { GatewayError } from '../errors.ts';
import { isObject } from '../json.ts';
import type { SearchProviderId } from './schema.ts';

/** How much of a provider's error message is passed on. */
const MAX_MESSAGE_CHARS = 300;

/** The provider's own words for an error: Perplexity's `{error:{message}}`, Tavily's `{detail:{error}}`, Exa's `{error}`, Brave's `{error:{detail}}`. */
function providerMessage(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim();
  }
  if (!isObject(body)) return '';
  const { error, detail, message } = body;
  if (isObject(error) && typeof error.message === 'string') return error.message;
  // Brave's `{error: {code, detail}}`.
  if (isObject(error) && typeof error.detail === 'string') return error.detail;
  if (typeof error === 'string') return error;
  if (isObject(detail) && typeof detail.error === 'string') return detail.error;
  if (typeof detail === 'string') return detail;
  return typeof message === 'string' ? message : '';
}

/** A provider's message without the tool's credential, should the provider repeat it, and bounded. */
function shownMessage(text: string, apiKey: string): string {
  let message = providerMessage(text);
  if (apiKey) message = message.split(apiKey).join('***');
  return message.replace(/\s+/g, ' ').slice(0, MAX_MESSAGE_CHARS);
}

/**
 * A provider's refusal or failure as the client's error, as LiteLLM maps a provider's status: its credential
 * refused is a 401 (the operator's to fix: the message says whose), too many requests a 429, a refused
 * request a 400, and anything else the provider failed at a 502.
 */
export function providerError(provider: SearchProviderId, tool: string, status: number, text: string, apiKey: string): GatewayError {
  const said = shownMessage(text, apiKey);
  const tail = said ? `: ${said}` : '';
  const base = { provider, upstreamStatus: status };
  if (status === 401 || status === 403) {
    return new GatewayError(`${provider} refused the credential of search tool ${tool} (HTTP ${status})${tail}`, { ...base, status: 401, type: 'authentication_error' });
  }
  if (status === 429) return new GatewayError(`${provider} rate limit reached for search tool ${tool}${tail}`, { ...base, status: 429, type: 'rate_limit_error', retryable: true });
  if (status >= 400 && status < 500) {
    return new GatewayError(`${provider} refused the search (HTTP ${status})${tail}`, { ...base, status: 400, type: 'invalid_request_error' });
  }
  return new GatewayError(`${provider} failed the search (HTTP ${status})${tail}`, { ...base, status: 502, type: 'api_error', retryable: true });
}

/**
 * Sends a search to the provider (a POST with a JSON body, or a GET whose URL carries it), bounded by
 * `timeoutMs`; answers its JSON, or throws the client's error (never the credential: a network error's own
 * text is not passed on either).
 */
export async function sendSearch(
  provider: SearchProviderId, tool: string, request: { method: 'GET' | 'POST'; url: string; body?: unknown }, headers: Record<string, string>, timeoutMs: number, apiKey: string,
): Promise<unknown> {
  let res: Response;
  try {
    const post = request.method === 'POST';
    res = await fetch(request.url, {
      method: request.method, headers: { ...headers, ...(post ? { 'content-type': 'application/json' } : {}), accept: 'application/json' },
      ...(post ? { body: JSON.stringify(request.body) } : {}), signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    if (timedOut) throw new GatewayError(`${provider} did not answer search tool ${tool} within ${timeoutMs / 1000} s`, { status: 408, type: 'timeout', provider, retryable: true });
    throw new GatewayError(`${provider} could not be reached for search tool ${tool}`, { status: 502, type: 'api_error', provider, retryable: true });
  }
  const text = await res.text();
  if (!res.ok) throw providerError(provider, tool, res.status, text, apiKey);
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError(`${provider} answered the search with something other than JSON`, { status: 502, type: 'api_error', provider, upstreamStatus: res.status });
  }
}
