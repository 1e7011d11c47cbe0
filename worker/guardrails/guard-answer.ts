import { GatewayError } from '../errors.ts';
import { isObject } from '../json.ts';
import { chatChunks, textCompletionChunks } from '../providers/mock/mock-format.ts';
import { GUARDRAIL_FINISH } from './guard-reply.ts';

/**
 * A guardrail that blocked with `disable_exception_on_block` (Bedrock's, as LiteLLM's): the call is answered
 * with the guardrail's own text (its blocked message) instead of a 400. It is a GatewayError with the usual
 * refusal, so a place that cannot answer with a text (an embedding, an image, /guardrails/apply_guardrail,
 * a Responses API answer checked post_call) still refuses; `ran` names the guardrails of this run that ran, it included.
 */
export class GuardrailAnswer extends GatewayError {
  readonly text: string;
  readonly ran: string[];
  constructor(text: string, message: string, ran: string[], headers: Record<string, string>) {
    super(message, { status: 400, type: 'guardrail_violation', headers });
    this.text = text;
    this.ran = ran;
  }
}

/**
 * A plain answer a guardrail answered (post_call): a chat completion's or text completion's choices become
 * one choice holding the guardrail's text (LiteLLM's blocked response), its id, model and usage kept.
 * Returns false for any other answer, which is then refused.
 */
export function answerInPlace(parsed: unknown, text: string): boolean {
  if (!isObject(parsed)) return false;
  if (parsed.object === 'chat.completion') {
    parsed.choices = [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: GUARDRAIL_FINISH }];
    return true;
  }
  if (parsed.object === 'text_completion') {
    parsed.choices = [{ index: 0, text, logprobs: null, finish_reason: GUARDRAIL_FINISH }];
    return true;
  }
  return false;
}

/** The first chunk of a chat or text completion stream: Azure's `prompt_filter_results` chunk (object '') is not one. */
export function firstCompletionChunk(events: readonly { data: Record<string, unknown> | undefined }[]): Record<string, unknown> | undefined {
  return events.find((e) => e.data?.object === 'chat.completion.chunk' || e.data?.object === 'text_completion')?.data;
}

/**
 * A held stream a guardrail answered (post_call): OpenAI's chat or text completion chunks are replaced by
 * chunks of the guardrail's text (its id and model kept), as LiteLLM replays its blocked response, with the
 * usage chunk where the stream had one (the client asked, `include_usage`): the model's own usage object, as it
 * came (its cached and reasoning token details too, which /v1/messages reports), still paid for.
 * Undefined for any other stream (the Responses API's events), which is then refused.
 */
export function answerStream(first: Record<string, unknown> | undefined, text: string, usage?: Record<string, unknown>): Uint8Array | undefined {
  if (!first) return undefined;
  const id = typeof first.id === 'string' ? first.id : `chatcmpl-${crypto.randomUUID()}`;
  const model = typeof first.model === 'string' ? first.model : '';
  const events = first.object === 'chat.completion.chunk' ? chatChunks(id, model, text, undefined, GUARDRAIL_FINISH)
    : first.object === 'text_completion' ? textCompletionChunks(id, model, text, undefined, GUARDRAIL_FINISH) : undefined;
  if (!events) return undefined;
  // The usage chunk: the finish chunk's id, object, created and model, no choices, the held stream's usage.
  if (usage) events.push({ ...(events.at(-1) as Record<string, unknown>), choices: [], usage });
  return new TextEncoder().encode([...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'].join(''));
}
