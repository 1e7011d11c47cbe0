import { errorResponse, GatewayError } from '../errors.ts';
import { costOfCall } from '../cost/deployment-cost.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { CachedAnswer } from '../cache/store.ts';
import type { ProviderAnswer } from '../providers/types.ts';
import type { CallContext } from './call-context.ts';
import type { CallSettler } from './call-end.ts';
import { callHeaders } from './call-helpers.ts';
import { refusedOutcome } from './refused-answer.ts';

/**
 * The 400 of an answer past `max_response_size_mb`: LiteLLM's status and type for it (its
 * check_response_size_is_safe), worded as the gateway's request-size 413 (openai/read-body.ts).
 */
export function answerTooLarge(maxBytes: number): GatewayError {
  return new GatewayError(`Response too large (limit ${+(maxBytes / 1024 / 1024).toFixed(2)} MB, general_settings.max_response_size_mb)`, {
    status: 400, type: 'bad_request_error', param: 'content-length',
  });
}

/** An answer held whole (a JSON body, not a stream) is over `maxBytes`: its UTF-8 length, counted only when it could be. */
export function answerOver(body: ProviderAnswer['body'], maxBytes: number): boolean {
  if (body instanceof ReadableStream) return false;
  if (body instanceof ArrayBuffer) return body.byteLength > maxBytes;
  // A UTF-16 unit is 1 to 3 UTF-8 bytes: most answers are decided without encoding them.
  if (body.length > maxBytes) return true;
  if (body.length * 3 <= maxBytes) return false;
  return new TextEncoder().encode(body).byteLength > maxBytes;
}

export interface AnswerSizeInput {
  answer: ProviderAnswer;
  maxBytes: number;
  ctx: CallContext;
  deployment: DeploymentRef;
  settler: CallSettler;
  settleLeader: ((answer: undefined) => void) | undefined;
}

/**
 * `general_settings.max_response_size_mb` for a model call's non-streamed answer: over it, the
 * client gets answerTooLarge instead of the answer. The provider did the work, so the call keeps
 * its spend record at the answer's cost (a failure row, as for an answer a guardrail blocks), its
 * text not kept; a response-cache leader stores nothing. Streams pass: they are never held whole
 * (LiteLLM checks only non-streaming answers too). So does a background Responses create's answer:
 * it is the job's metadata, not its output, and refusing it would leave the job unwatched and
 * never billed (call-end.ts watches it; the size that matters comes with the retrieve). Undefined
 * when the answer may go out.
 */
export async function refuseLargeAnswer(input: AnswerSizeInput): Promise<Response | undefined> {
  const { answer, maxBytes, ctx, settler } = input;
  if (!answerOver(answer.body, maxBytes)) return undefined;
  const outcome = await answer.outcome;
  if (outcome.backgroundId) return undefined;
  const error = answerTooLarge(maxBytes);
  input.settleLeader?.(undefined);
  settler.settle({ outcome: refusedOutcome(outcome), cost: costOfCall(input.deployment, outcome.usage), apiBase: answer.apiBase, finishedAt: Date.now(), error });
  return errorResponse(error, callHeaders(ctx, ''));
}

/**
 * `max_response_size_mb` for a non-streamed request answered from the response cache: the cache
 * may hold an answer over the limit (assembled from a stream, which is never size-checked, or
 * stored before the limit was set), and a hit must not bypass it. Refused with the same 400, the
 * call settled as a cache hit is (no cost). Undefined when the hit may be served.
 */
export function refuseLargeCacheHit(ctx: CallContext, hit: CachedAnswer, key: string, maxBytes: number, settler: CallSettler): Response | undefined {
  if (ctx.stream || !answerOver(hit.json, maxBytes)) return undefined;
  const error = answerTooLarge(maxBytes);
  settler.settle({ outcome: { usage: hit.usage, finishedAt: Date.now() }, cost: 0, apiBase: '', finishedAt: Date.now(), cacheKey: key, error });
  return errorResponse(error, callHeaders(ctx, ''));
}
