/**
 * Bedrock's errors: `{"message": ...}` with the exception's name in the
 * `x-amzn-ErrorType` header (`ThrottlingException:http://internal.amazon.com/...`),
 * or, inside a stream, an exception frame named by `:exception-type`.
 */
import type { GatewayError } from '../../errors.ts';
import { providerError } from './provider-error.ts';

export const BEDROCK_LABEL = 'Bedrock';

/** The status each exception is answered with; LiteLLM's mapping. Unknown ones keep Bedrock's status. */
const STATUS_BY_EXCEPTION: Record<string, number> = {
  throttlingexception: 429,
  servicequotaexceededexception: 429,
  validationexception: 400,
  accessdeniedexception: 403,
  resourcenotfoundexception: 404,
  modeltimeoutexception: 408,
  modelnotreadyexception: 503,
  serviceunavailableexception: 503,
  internalserverexception: 500,
  modelstreamerrorexception: 500,
};

/** `ThrottlingException:http://...` → `throttlingexception`. */
export function exceptionName(header: string | null | undefined): string | undefined {
  const name = header?.split(':')[0]?.trim().toLowerCase();
  return name || undefined;
}

/** An error answer to a Bedrock request, before any body was sent to the client. */
export async function bedrockError(res: Response, secrets: readonly (string | undefined)[]): Promise<GatewayError> {
  const text = await res.text().catch(() => '');
  let message = text.trim() || res.statusText || `HTTP ${res.status}`;
  let bodyType: string | undefined;
  try {
    const parsed = JSON.parse(text) as { message?: unknown; Message?: unknown; __type?: unknown };
    const found = parsed.message ?? parsed.Message;
    if (typeof found === 'string') message = found;
    if (typeof parsed.__type === 'string') bodyType = parsed.__type.split('#').pop();
  } catch {
    // not JSON: keep the text
  }
  const name = exceptionName(res.headers.get('x-amzn-errortype')) ?? exceptionName(bodyType);
  const status = (name && STATUS_BY_EXCEPTION[name]) || res.status;
  return providerError({ status, message, upstreamStatus: res.status, retryAfter: res.headers.get('retry-after'), label: BEDROCK_LABEL, provider: 'bedrock', secrets });
}

/** An exception frame inside a ConverseStream answer (`throttlingException`, `modelStreamErrorException`, ...). */
export function bedrockStreamError(exceptionType: string, message: string, secrets: readonly (string | undefined)[]): Promise<GatewayError> {
  const status = STATUS_BY_EXCEPTION[exceptionType.toLowerCase()] ?? 500;
  return providerError({ status, message: message || exceptionType, upstreamStatus: status, label: BEDROCK_LABEL, provider: 'bedrock', secrets });
}
