import { describe, expect, it } from 'vitest';
import { GatewayError } from '../worker/errors.ts';
import { build, callEvent, record } from './support/langfuse-events.ts';

describe('the Langfuse events of a call', () => {
  it('with turn_off_message_logging, carry LiteLLM\'s redacted messages, but not for a request that disables redaction', () => {
    const { trace, generation } = build(callEvent(), { turnOffMessageLogging: true });
    expect(generation.input).toEqual({ messages: [{ role: 'user', content: 'redacted-by-litellm' }] });
    expect(generation.output).toEqual({ role: 'assistant', content: 'redacted-by-litellm' });
    expect(trace?.input).toEqual(generation.input);
    expect(trace?.output).toEqual(generation.output);
    const optedOut = build(callEvent({ headers: new Headers({ 'litellm-disable-message-redaction': 'true' }) }), { turnOffMessageLogging: true });
    expect(optedOut.generation.output).toEqual({ role: 'assistant', content: 'hello' });
  });

  it('with redact_user_api_key_info, carry no user_api_key_* metadata, tags or key-alias name', () => {
    const { trace, generation } = build(callEvent(), { redactUserApiKeyInfo: true, defaultTags: ['user_api_key_alias', 'model_group'] });
    expect(Object.keys(generation.metadata as object).filter((k) => k.startsWith('user_api_key'))).toEqual([]);
    expect(generation.name).toBe('litellm-acompletion');
    expect(trace?.tags).toEqual(['model_group:gpt-4o']);
  });

  it('with redact_messages_in_exceptions, keep only the error class in the status message', () => {
    const error = new GatewayError('litellm.BadRequestError: OpenAIException - your prompt "my secret" is too long', { status: 400, type: 'bad_request_error' });
    const { trace, generation } = build(callEvent({ error, outcome: undefined }), { redactMessagesInExceptions: true });
    expect(generation).toMatchObject({ level: 'ERROR', statusMessage: 'litellm.BadRequestError: OpenAIException - redacted-by-litellm' });
    expect(generation.output).toBe(generation.statusMessage);
    expect(generation.usage).toBeUndefined();
    expect(trace?.output).toBeUndefined();
  });

  it('with turn_off_message_logging, withhold the prompt a failure quotes and prompt-bearing parameters', () => {
    const error = new GatewayError('litellm.BadRequestError: OpenAIException - your prompt "my secret" is too long', { status: 400, type: 'bad_request_error' });
    const failed = build(callEvent({ error, outcome: undefined }), { turnOffMessageLogging: true });
    expect(failed.generation).toMatchObject({ statusMessage: 'litellm.BadRequestError: OpenAIException - redacted-by-litellm', output: 'litellm.BadRequestError: OpenAIException - redacted-by-litellm' });
    const blocked = new GatewayError('Your words "my secret - and more" are not allowed', { status: 400, type: 'guardrail_violation' });
    expect(build(callEvent({ error: blocked, outcome: undefined }), { turnOffMessageLogging: true }).generation.statusMessage).toBe('guardrail_violation - redacted-by-litellm');
    const completion = build(callEvent({
      endpoint: 'completion', body: { model: 'gpt-4o', prompt: 'p', suffix: 'my secret', max_tokens: 5, echo: false, user: 'u-1' }, record: record({ call_type: 'atext_completion' }),
    }), { turnOffMessageLogging: true });
    expect(completion.generation.modelParameters).toEqual({ max_tokens: 5, echo: false });
    expect(JSON.stringify(completion.events)).not.toContain('my secret');
  });
});
