import { log } from './telemetry/log.ts';

/**
 * One error type for everything the gateway refuses or fails, rendered as
 * LiteLLM's (and OpenAI's) envelope: `{"error":{"message","type","param","code"}}`
 * with `code` the HTTP status as a string.
 */
export interface GatewayErrorOptions {
  status: number;
  type: string;
  param?: string | null;
  provider?: string;
  upstreamStatus?: number;
  retryable?: boolean;
  headers?: Record<string, string>;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly provider: string | undefined;
  readonly upstreamStatus: number | undefined;
  readonly retryable: boolean;
  readonly headers: Record<string, string>;

  constructor(message: string, options: GatewayErrorOptions) {
    super(message);
    this.name = 'GatewayError';
    this.status = options.status;
    this.type = options.type;
    this.param = options.param ?? null;
    this.provider = options.provider;
    this.upstreamStatus = options.upstreamStatus;
    this.retryable = options.retryable ?? false;
    this.headers = options.headers ?? {};
  }
}

export const badRequest = (message: string, param: string | null = null) =>
  new GatewayError(message, { status: 400, type: 'bad_request_error', param });

export interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string };
}

export function errorEnvelope(err: GatewayError): ErrorEnvelope {
  return { error: { message: err.message, type: err.type, param: err.param, code: String(err.status) } };
}

/** Renders any thrown value. Unknown errors become a 500 whose message carries no internals. */
export function errorResponse(err: unknown, extraHeaders: Record<string, string> = {}): Response {
  const known = err instanceof GatewayError
    ? err
    : new GatewayError('Internal server error', { status: 500, type: 'internal_server_error' });
  if (!(err instanceof GatewayError)) log.error('unhandled error', err instanceof Error ? err : String(err));
  return new Response(JSON.stringify(errorEnvelope(known)), {
    status: known.status,
    headers: { 'content-type': 'application/json', ...known.headers, ...extraHeaders },
  });
}
