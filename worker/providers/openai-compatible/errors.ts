import { GatewayError } from '../../errors.ts';

const MAX_ERROR_BODY = 64 * 1024;
const MAX_MESSAGE = 1_000;

/** LiteLLM's exception class for an HTTP status (its exception mapping); undefined for a status it names none for. */
export function exceptionClassOfStatus(status: number): string | undefined {
  if (status === 400) return 'BadRequestError';
  if (status === 401) return 'AuthenticationError';
  if (status === 403) return 'PermissionDeniedError';
  if (status === 404) return 'NotFoundError';
  if (status === 408) return 'Timeout';
  if (status === 422) return 'UnprocessableEntityError';
  if (status === 429) return 'RateLimitError';
  if (status === 503) return 'ServiceUnavailableError';
  if (status >= 500) return 'InternalServerError';
  return undefined;
}

/** LiteLLM's exception class names, by upstream status; clients and dashboards match on them. */
function errorClass(status: number, code: string | undefined): string {
  if (code === 'content_filter' || code === 'content_policy_violation') return 'ContentPolicyViolationError';
  return exceptionClassOfStatus(status) ?? 'APIError';
}

/** The envelope's `type`, by status: providers' own types vary (OpenAI says "tokens" for a rate limit). */
export function envelopeType(status: number, contentPolicy: boolean): string {
  if (contentPolicy) return 'content_policy_violation';
  if (status === 429) return 'rate_limit_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_denied_error';
  if (status === 404) return 'not_found_error';
  if (status >= 500) return 'internal_server_error';
  return 'invalid_request_error';
}

/** 408, 409, 429 and 5xx are worth another try (the router's business); the rest are the caller's. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Removes anything that looks like a credential from an upstream message:
 * the deployment's own key, and `sk-...`-style or long opaque tokens.
 */
export function scrubSecrets(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret && secret.length >= 6) out = out.split(secret).join('[redacted]');
  }
  return out
    .replace(/\b(sk-[A-Za-z0-9_*-]{4})[A-Za-z0-9_*-]{8,}/g, '$1...')
    .replace(/\b(Bearer\s+)\S+/gi, '$1[redacted]');
}

/**
 * Turns a provider's error response (OpenAI's `{error:{message,type,param,code}}`,
 * Azure's `{error:{code,message}}`, or plain text) into the gateway's error:
 * same status, `retry-after` kept, secrets scrubbed, LiteLLM's message prefix.
 */
export async function upstreamError(res: Response, label: string, provider: string, secrets: readonly (string | undefined)[]): Promise<GatewayError> {
  const text = (await res.text().catch(() => '')).slice(0, MAX_ERROR_BODY);
  let message = text.trim() || res.statusText || `HTTP ${res.status}`;
  let code: string | undefined;
  let param: string | null = null;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } | string; message?: unknown };
    const err = typeof parsed.error === 'object' && parsed.error ? parsed.error : undefined;
    if (err && typeof err.message === 'string') message = err.message;
    else if (typeof parsed.error === 'string') message = parsed.error;
    else if (typeof parsed.message === 'string') message = parsed.message;
    if (err && (typeof err.code === 'string' || typeof err.code === 'number')) code = String(err.code);
    if (err && typeof err.param === 'string') param = err.param;
  } catch {
    // not JSON: keep the text
  }
  const status = res.status >= 400 ? res.status : 500;
  const clean = scrubSecrets(message, secrets).slice(0, MAX_MESSAGE);
  const headers: Record<string, string> = {};
  for (const name of ['retry-after', 'retry-after-ms']) {
    const value = res.headers.get(name);
    if (value && /^[\d.]+$/.test(value.trim())) headers[name] = value.trim();
  }
  return new GatewayError(`litellm.${errorClass(status, code)}: ${label}Exception - ${clean}`, {
    status,
    type: envelopeType(status, code === 'content_filter' || code === 'content_policy_violation'),
    param,
    provider,
    upstreamStatus: res.status,
    retryable: isRetryableStatus(status),
    headers,
  });
}

/** The provider could not be reached (refused, reset, DNS): LiteLLM's APIConnectionError. */
export function connectionError(label: string, provider: string, cause: unknown): GatewayError {
  const detail = cause instanceof Error ? cause.message : 'Connection error.';
  return new GatewayError(`litellm.APIConnectionError: ${label}Exception - ${scrubSecrets(detail, []).slice(0, 300)}`, {
    status: 500, type: 'api_connection_error', provider, retryable: true,
  });
}

/** The provider did not answer within the timeout. */
export function timeoutError(label: string, provider: string, timeoutMs: number): GatewayError {
  return new GatewayError(`litellm.Timeout: ${label}Exception - Request timed out after ${timeoutMs / 1000} seconds`, {
    status: 408, type: 'timeout_error', provider, retryable: true,
  });
}
