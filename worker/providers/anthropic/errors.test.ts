import { describe, expect, it } from 'vitest';
import { fixtureText } from '../../../test/fakes/anthropic.ts';
import { streamEventError, upstreamError } from './errors.ts';

const response = (status: number, fixture: string, headers: Record<string, string> = {}) =>
  new Response(fixtureText(`${fixture}.json`), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('Anthropic errors', () => {
  it('keeps a 429 with its retry-after, in LiteLLM\'s words', async () => {
    const err = await upstreamError(response(429, 'error-rate-limit', { 'retry-after': '12' }), ['sk-ant-secret']);
    expect(err).toMatchObject({ status: 429, type: 'rate_limit_error', retryable: true, upstreamStatus: 429, headers: { 'retry-after': '12' }, provider: 'anthropic' });
    expect(err.message).toBe('litellm.RateLimitError: AnthropicException - This request would exceed the rate limit for your organization (a1b2c3) of 50 input tokens per minute.');
  });

  it('keeps 529 for overloaded_error, and retries it', async () => {
    const err = await upstreamError(response(529, 'error-overloaded'), []);
    expect(err).toMatchObject({ status: 529, type: 'internal_server_error', retryable: true });
    expect(err.message).toBe('litellm.InternalServerError: AnthropicException - Overloaded');
  });

  it.each([
    [400, 'error-invalid-request', 'BadRequestError', 'invalid_request_error', false],
    [400, 'error-prompt-too-long', 'ContextWindowExceededError', 'invalid_request_error', false],
    [401, 'error-authentication', 'AuthenticationError', 'authentication_error', false],
  ])('maps %i %s to %s', async (status, fixture, className, type, retryable) => {
    const err = await upstreamError(response(status, fixture), []);
    expect(err).toMatchObject({ status, type, retryable });
    expect(err.message.startsWith(`litellm.${className}: AnthropicException - `)).toBe(true);
  });

  it('scrubs the key from messages', async () => {
    const err = await upstreamError(new Response('{"type":"error","error":{"type":"authentication_error","message":"bad key sk-ant-api03-abcdefghijklmnop"}}', { status: 401 }), ['sk-ant-api03-abcdefghijklmnop']);
    expect(err.message).not.toContain('abcdefghijklmnop');
  });

  it('gives an in-band error event its status by type', () => {
    expect(streamEventError('overloaded_error', 'Overloaded', [])).toMatchObject({ status: 529, retryable: true });
    expect(streamEventError('invalid_request_error', 'bad', [])).toMatchObject({ status: 400, retryable: false });
  });
});
