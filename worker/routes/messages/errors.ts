import { GatewayError } from '../../errors.ts';
import { log } from '../../telemetry/log.ts';

/** Anthropic's error type for a status (https://docs.anthropic.com/en/api/errors). */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400: return 'invalid_request_error';
    case 401: return 'authentication_error';
    case 402: return 'billing_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 408:
    case 504: return 'timeout_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 529: return 'overloaded_error';
    default: return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

export function anthropicErrorBody(status: number, message: string) {
  return { type: 'error', error: { type: anthropicErrorType(status), message } };
}

/** Any thrown value in Anthropic's envelope, with the gateway error's status and headers (retry-after). */
export function anthropicErrorResponse(err: unknown): Response {
  const known = err instanceof GatewayError ? err : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
  if (!(err instanceof GatewayError)) log.error('messages route failed', err instanceof Error ? err : String(err));
  return new Response(JSON.stringify(anthropicErrorBody(known.status, known.message)), {
    status: known.status,
    headers: { 'content-type': 'application/json', ...known.headers },
  });
}

/** The message of an OpenAI error envelope (the gateway's own), or the text itself. */
export function envelopeMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON
  }
  return text || 'Unknown error';
}
