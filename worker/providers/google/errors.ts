/**
 * Google's errors (`{"error":{"code","message","status"}}`, Gemini and Vertex
 * alike), mapped by their canonical status name, worded as LiteLLM words them.
 */
import type { GatewayError } from '../../errors.ts';
import { providerError } from '../bedrock/provider-error.ts';

const STATUS_BY_NAME: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  DEADLINE_EXCEEDED: 408,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

export interface GoogleError {
  code?: unknown;
  message?: unknown;
  status?: unknown;
}

/** An error answer, before any body was sent to the client. */
export async function googleError(res: Response, label: string, provider: string, secrets: readonly (string | undefined)[]): Promise<GatewayError> {
  const text = await res.text().catch(() => '');
  let error: GoogleError | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: GoogleError } | { error?: GoogleError }[];
    // streamGenerateContent without alt=sse wraps its answer, errors included, in a list.
    error = (Array.isArray(parsed) ? parsed[0] : parsed)?.error;
  } catch {
    // not JSON
  }
  const message = typeof error?.message === 'string' ? error.message : text.trim() || res.statusText || `HTTP ${res.status}`;
  return providerError({ status: statusOf(error, res.status), message, upstreamStatus: res.status, retryAfter: res.headers.get('retry-after'), label, provider, secrets });
}

/** An `{"error":...}` event inside a stream. */
export function googleStreamError(error: GoogleError, label: string, provider: string, secrets: readonly (string | undefined)[]): Promise<GatewayError> {
  const fallback = typeof error.code === 'number' && error.code >= 400 ? error.code : 500;
  const message = typeof error.message === 'string' ? error.message : 'stream error';
  return providerError({ status: statusOf(error, fallback), message, upstreamStatus: fallback, label, provider, secrets });
}

function statusOf(error: GoogleError | undefined, httpStatus: number): number {
  // A bad AI Studio key is an INVALID_ARGUMENT 400; LiteLLM answers it as the authentication error it is.
  if (typeof error?.message === 'string' && error.message.includes('API key not valid')) return 401;
  return (typeof error?.status === 'string' && STATUS_BY_NAME[error.status]) || httpStatus;
}
