import { GatewayError } from '../errors.ts';
import { isObject } from '../json.ts';
import { readBoundedBytes } from '../openai/read-body.ts';
import type { SearchProviderId } from './schema.ts';

/** How much of a provider's error message is passed on. */
const MAX_MESSAGE_CHARS = 300;
/** The most of a provider's answer that is read (a search answer is a page of results, never near this). */
export const MAX_SEARCH_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * The provider's own words for an error: Perplexity's, Google's, Linkup's and Parallel's `{error:{message}}`,
 * Tavily's `{detail:{error}}`, Exa's, SearchAPI's and Firecrawl's `{error}`, Brave's `{error:{detail}}`, Serper's
 * `{message}`, DataForSEO's `{status_message}`.
 */
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
  if (typeof message === 'string') return message;
  // DataForSEO's `{status_code, status_message}`.
  return typeof body.status_message === 'string' ? body.status_message : '';
}

/**
 * A provider's message without the tool's credential in any form it was given (should the provider repeat it,
 * or the URL that carried it in its query), and bounded.
 */
function shownMessage(text: string, secrets: string | readonly string[]): string {
  let message = providerMessage(text);
  // Longest first, so a secret's encoded form is not left half-masked by a shorter one inside it.
  for (const secret of [secrets].flat().filter(Boolean).sort((a, b) => b.length - a.length)) message = message.split(secret).join('***');
  return message.replace(/\s+/g, ' ').slice(0, MAX_MESSAGE_CHARS);
}

/** The provider's own `retry-after` (seconds or an HTTP date), passed on with its 429 or 503 when it is sound. */
function retryAfterOf(value: string | null | undefined): Record<string, string> {
  const v = value?.trim();
  if (!v) return {};
  if (/^\d{1,6}$/.test(v) || (v.length <= 64 && Number.isFinite(Date.parse(v)))) return { 'retry-after': v };
  return {};
}

/**
 * Whether the provider refused the tool's credential: a 401 or 403, or Google's HTTP 400 for a key it does not
 * know (its `API_KEY_INVALID` reason, "API key not valid"), which is the operator's to fix, not the client's.
 */
function credentialRefused(provider: SearchProviderId, status: number, text: string): boolean {
  if (status === 401 || status === 403) return true;
  return provider === 'google_pse' && status === 400 && (text.includes('API_KEY_INVALID') || text.includes('API key not valid'));
}

/**
 * A provider's refusal or failure as the client's error, as LiteLLM maps a provider's status: its credential
 * refused is a 401 (the operator's to fix: the message says whose), too many requests a 429, a refused
 * request a 400, and anything else the provider failed at a 502.
 */
export function providerError(
  provider: SearchProviderId, tool: string, status: number, text: string, apiKey: string | readonly string[], retryAfter?: string | null,
): GatewayError {
  const said = shownMessage(text, apiKey);
  const tail = said ? `: ${said}` : '';
  const base = { provider, upstreamStatus: status, headers: status === 429 || status === 503 ? retryAfterOf(retryAfter) : {} };
  if (credentialRefused(provider, status, text)) {
    return new GatewayError(`${provider} refused the credential of search tool ${tool} (HTTP ${status})${tail}`, { ...base, status: 401, type: 'authentication_error' });
  }
  if (status === 429) return new GatewayError(`${provider} rate limit reached for search tool ${tool}${tail}`, { ...base, status: 429, type: 'rate_limit_error', retryable: true });
  if (status >= 400 && status < 500) {
    return new GatewayError(`${provider} refused the search (HTTP ${status})${tail}`, { ...base, status: 400, type: 'invalid_request_error' });
  }
  return new GatewayError(`${provider} failed the search (HTTP ${status})${tail}`, { ...base, status: 502, type: 'api_error', retryable: true });
}

/**
 * A failure the provider reports inside an HTTP 200 (DataForSEO's status codes) as the client's error, as a
 * provider's HTTP status is mapped: its credential refused a 401, a rate limit a 429, a refused request a 400,
 * else (the operator's account or balance, the provider's own failure) a 502 with the provider's words.
 */
export function reportedError(
  provider: SearchProviderId, tool: string, failure: { status: number; code: string; message: string }, secrets: readonly string[],
): GatewayError {
  const said = shownMessage(JSON.stringify({ message: failure.message }), secrets);
  const tail = said ? `: ${said}` : '';
  const base = { provider, upstreamStatus: 200 };
  if (failure.status === 401) {
    return new GatewayError(`${provider} refused the credential of search tool ${tool} (status ${failure.code})${tail}`, { ...base, status: 401, type: 'authentication_error' });
  }
  if (failure.status === 429) {
    return new GatewayError(`${provider} rate limit reached for search tool ${tool} (status ${failure.code})${tail}`, { ...base, status: 429, type: 'rate_limit_error', retryable: true });
  }
  if (failure.status === 400) return new GatewayError(`${provider} refused the search (status ${failure.code})${tail}`, { ...base, status: 400, type: 'invalid_request_error' });
  return new GatewayError(`${provider} failed the search (status ${failure.code})${tail}`, { ...base, status: 502, type: 'api_error', retryable: true });
}

/**
 * Sends a search to the provider (a POST with a JSON body, or a GET whose URL carries it), bounded by
 * `timeoutMs`; answers its JSON, or throws the client's error (never the credential: a network error's own
 * text is not passed on either). A redirect is not followed (it would carry the credential where the operator
 * did not point it), and the answer is read up to MAX_SEARCH_ANSWER_BYTES (a larger one is a 502).
 */
export async function sendSearch(
  provider: SearchProviderId, tool: string, request: { method: 'GET' | 'POST'; url: string; body?: unknown }, headers: Record<string, string>, timeoutMs: number, apiKey: string | readonly string[],
): Promise<unknown> {
  let res: Response;
  try {
    const post = request.method === 'POST';
    res = await fetch(request.url, {
      method: request.method, headers: { ...headers, ...(post ? { 'content-type': 'application/json' } : {}), accept: 'application/json' },
      ...(post ? { body: JSON.stringify(request.body) } : {}), redirect: 'manual', signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw unreached(provider, tool, timeoutMs, err);
  }
  if (res.status >= 300 && res.status < 400) {
    void res.body?.cancel().catch(() => undefined);
    throw new GatewayError(`${provider} answered search tool ${tool} with HTTP ${res.status} (a redirect, not followed: set its api_base to where it leads)`, {
      status: 502, type: 'api_error', provider, upstreamStatus: res.status,
    });
  }
  const text = await answerText(provider, tool, res, timeoutMs);
  if (!res.ok) throw providerError(provider, tool, res.status, text, apiKey, res.headers.get('retry-after'));
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError(`${provider} answered the search with something other than JSON`, { status: 502, type: 'api_error', provider, upstreamStatus: res.status });
  }
}

/** A fetch that failed before an answer (or while reading it) as the client's error: a 408 when it timed out, else a 502. */
function unreached(provider: SearchProviderId, tool: string, timeoutMs: number, err: unknown): GatewayError {
  const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
  if (timedOut) return new GatewayError(`${provider} did not answer search tool ${tool} within ${timeoutMs / 1000} s`, { status: 408, type: 'timeout', provider, retryable: true });
  return new GatewayError(`${provider} could not be reached for search tool ${tool}`, { status: 502, type: 'api_error', provider, retryable: true });
}

/** The provider's answer as text, read up to MAX_SEARCH_ANSWER_BYTES: a larger one is a 502 (and is not read on). */
async function answerText(provider: SearchProviderId, tool: string, res: Response, timeoutMs: number): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readBoundedBytes(res, MAX_SEARCH_ANSWER_BYTES);
  } catch (err) {
    if (err instanceof GatewayError) {
      throw new GatewayError(`${provider} answered search tool ${tool} with more than ${MAX_SEARCH_ANSWER_BYTES / 1024 / 1024} MB`, {
        status: 502, type: 'api_error', provider, upstreamStatus: res.status,
      });
    }
    throw unreached(provider, tool, timeoutMs, err);
  }
  return new TextDecoder().decode(bytes);
}
