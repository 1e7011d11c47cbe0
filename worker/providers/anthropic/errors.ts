import { GatewayError } from '../../errors.ts';
import { envelopeType, exceptionClassOfStatus, isRetryableStatus, scrubSecrets } from '../openai-compatible/errors.ts';

export const LABEL = 'Anthropic';
const PROVIDER = 'anthropic';
const MAX_ERROR_BODY = 64 * 1024;
const MAX_MESSAGE = 1_000;

/** Anthropic's error types and their HTTP statuses (https://docs.anthropic.com/en/api/errors). */
const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** The status an error type stands for: a stream's `error` event carries a type but no status. */
export function statusOfErrorType(type: string): number {
  return STATUS_OF_TYPE[type] ?? 500;
}

/** LiteLLM's exception class for an Anthropic error (its exception_mapping_utils, anthropic branch). */
function errorClass(status: number, message: string): string {
  if (/prompt is too long|prompt: length/i.test(message)) return 'ContextWindowExceededError';
  if (/content filtering policy/i.test(message)) return 'ContentPolicyViolationError';
  if (status === 413) return 'BadRequestError';
  return exceptionClassOfStatus(status) ?? 'APIError';
}

/**
 * An Anthropic error as the gateway's: the upstream status kept (529 for
 * `overloaded_error` too, and retryable), `retry-after` kept, LiteLLM's
 * message form (`litellm.RateLimitError: AnthropicException - ...`), secrets
 * scrubbed.
 */
export function anthropicError(status: number, message: string, secrets: readonly (string | undefined)[], headers: Record<string, string> = {}): GatewayError {
  const clean = scrubSecrets(message, secrets).slice(0, MAX_MESSAGE);
  const className = errorClass(status, clean);
  return new GatewayError(`litellm.${className}: ${LABEL}Exception - ${clean}`, {
    status,
    type: envelopeType(status, className === 'ContentPolicyViolationError'),
    provider: PROVIDER,
    upstreamStatus: status,
    retryable: isRetryableStatus(status),
    headers,
  });
}

/** Reads an error response: Anthropic's envelope `{type:'error', error:{type, message}}`, or any text. */
export async function upstreamError(res: Response, secrets: readonly (string | undefined)[]): Promise<GatewayError> {
  const text = (await res.text().catch(() => '')).slice(0, MAX_ERROR_BODY);
  let message = text.trim() || res.statusText || `HTTP ${res.status}`;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof parsed.error === 'object' && parsed.error && typeof parsed.error.message === 'string') message = parsed.error.message;
    else if (typeof parsed.error === 'string') message = parsed.error;
    else if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON (a proxy's HTML page): keep the text
  }
  const headers: Record<string, string> = {};
  for (const name of ['retry-after', 'retry-after-ms']) {
    const value = res.headers.get(name);
    if (value && /^[\d.]+$/.test(value.trim())) headers[name] = value.trim();
  }
  return anthropicError(res.status >= 400 ? res.status : 500, message, secrets, headers);
}

/** A stream's in-band `error` event (e.g. overloaded after the 200). */
export function streamEventError(type: string, message: string, secrets: readonly (string | undefined)[]): GatewayError {
  return anthropicError(statusOfErrorType(type), message, secrets);
}

/** The stream broke, or sent something that is not Anthropic's format. */
export function upstreamBroke(detail = 'the upstream stream ended unexpectedly'): GatewayError {
  return new GatewayError(`litellm.APIConnectionError: ${LABEL}Exception - ${detail}`, {
    status: 502, type: 'api_connection_error', provider: PROVIDER, retryable: true,
  });
}
