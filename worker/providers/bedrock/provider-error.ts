/**
 * A provider's error, already mapped to a status, in LiteLLM's words
 * (`litellm.RateLimitError: BedrockException - ...`). Provider-neutral.
 */
import { GatewayError } from '../../errors.ts';
import { upstreamError } from '../openai-compatible/errors.ts';

export interface ProviderErrorInput {
  status: number;
  message: string;
  /** What the provider actually answered (the status above may be mapped from its error name). */
  upstreamStatus: number;
  retryAfter?: string | null;
  label: string;
  provider: string;
  secrets: readonly (string | undefined)[];
}

export async function providerError(input: ProviderErrorInput): Promise<GatewayError> {
  // The shared mapper words the message, classes it and scrubs it; it reads OpenAI's error envelope.
  const headers: Record<string, string> = input.retryAfter ? { 'retry-after': input.retryAfter } : {};
  const shaped = new Response(JSON.stringify({ error: { message: input.message } }), { status: input.status, headers });
  const err = await upstreamError(shaped, input.label, input.provider, input.secrets);
  return new GatewayError(err.message, {
    status: err.status, type: err.type, param: err.param, provider: input.provider, upstreamStatus: input.upstreamStatus,
    retryable: err.retryable, headers: err.headers,
  });
}
