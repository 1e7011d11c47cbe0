import { describe, expect, it } from 'vitest';
import { scrubSecrets, upstreamError } from './errors.ts';

const response = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers });

describe('upstreamError', () => {
  it('reads OpenAI\'s envelope and keeps retry-after on a 429', async () => {
    const err = await upstreamError(response(429, { error: { message: 'Rate limit reached for gpt-4o', type: 'tokens', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '20' }), 'OpenAI', 'openai', []);
    expect(err).toMatchObject({ status: 429, type: 'rate_limit_error', retryable: true, upstreamStatus: 429, headers: { 'retry-after': '20' } });
    expect(err.message).toBe('litellm.RateLimitError: OpenAIException - Rate limit reached for gpt-4o');
  });

  it('reads Azure\'s envelope and maps a content filter to a content-policy error', async () => {
    const err = await upstreamError(response(400, { error: { code: 'content_filter', message: 'The response was filtered', param: 'prompt', status: 400 } }), 'Azure', 'azure', []);
    expect(err).toMatchObject({ status: 400, type: 'content_policy_violation', param: 'prompt', retryable: false });
    expect(err.message).toBe('litellm.ContentPolicyViolationError: AzureException - The response was filtered');
  });

  it('keeps a plain-text body and drops a non-numeric retry-after', async () => {
    const err = await upstreamError(response(502, 'Bad gateway from nginx', { 'retry-after': 'soon; evil' }), 'Hosted_vllm', 'hosted_vllm', []);
    expect(err).toMatchObject({ status: 502, type: 'internal_server_error', retryable: true, headers: {} });
    expect(err.message).toBe('litellm.InternalServerError: Hosted_vllmException - Bad gateway from nginx');
  });

  it('scrubs the deployment key and anything key-shaped', async () => {
    const err = await upstreamError(response(401, { error: { message: 'Incorrect API key provided: azure-secret-value-123. Also sk-proj-abcdefghijklmnop and Bearer xyz123' } }), 'Azure', 'azure', ['azure-secret-value-123']);
    expect(err.message).not.toContain('azure-secret-value-123');
    expect(err.message).not.toContain('abcdefghijklmnop');
    expect(err.message).not.toContain('xyz123');
  });
});

describe('scrubSecrets', () => {
  it('leaves ordinary text alone', () => {
    expect(scrubSecrets('model not found: gpt-5', ['secret-key'])).toBe('model not found: gpt-5');
  });
});
