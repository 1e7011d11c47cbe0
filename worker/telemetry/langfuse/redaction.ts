import type { RequestHeaders } from '../../providers/types.ts';
import { REDACTED } from './types.ts';
import { truthy } from './request-metadata.ts';

/**
 * Whether a call's messages and answer are withheld from Langfuse, in
 * LiteLLM's order (`should_redact_message_logging`): the
 * `litellm-disable-message-redaction` header wins, then the request's own
 * `turn_off_message_logging`, then the `x-litellm-enable-message-redaction`
 * header, then `litellm_settings.turn_off_message_logging`.
 */
export function messageLoggingOff(body: Record<string, unknown>, headers: RequestHeaders, global: boolean): boolean {
  if (truthy(headers.get('litellm-disable-message-redaction'))) return false;
  const dynamic = body.turn_off_message_logging;
  if (typeof dynamic === 'boolean') return dynamic;
  if (typeof dynamic === 'string') return truthy(dynamic);
  if (truthy(headers.get('x-litellm-enable-message-redaction')) || truthy(headers.get('litellm-enable-message-redaction'))) return true;
  return global;
}

/** What LiteLLM logs as the input of a redacted call. */
export const REDACTED_INPUT = { messages: [{ role: 'user', content: REDACTED }] };

/** An exception's class as LiteLLM names it: `litellm.BadRequestError`, optionally `: OpenAIException`. */
const ERROR_CLASS = /^[\w.]+(?:: [\w.]+)?$/;

/**
 * An error's message with anything after its class withheld
 * (`redact_messages_in_exceptions`, or message logging off): provider and
 * guardrail errors may quote the prompt.
 * `litellm.BadRequestError: OpenAIException - <upstream text>` keeps
 * `litellm.BadRequestError: OpenAIException`; a message that does not open
 * with a class (a guardrail's own text) keeps only the error's type.
 */
export function redactedErrorMessage(message: string, type: string): string {
  const cut = message.indexOf(' - ');
  const head = cut > 0 && ERROR_CLASS.test(message.slice(0, cut)) ? message.slice(0, cut) : type;
  return `${head} - ${REDACTED}`;
}
