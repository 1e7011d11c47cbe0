import type { Context } from 'hono';
import { costOfCall, deploymentPrice } from '../cost/deployment-cost.ts';
import type { GatewayEnv } from '../env.ts';
import { errorResponse, GatewayError } from '../errors.ts';
import type { Admission } from '../limits/admission-answer.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { CallOutcome, UsageReport } from '../providers/types.ts';
import { estimatedUsage, estimateTokens, NO_USAGE } from '../providers/openai-compatible/usage.ts';
import { answerResponse } from '../proxy/answer-headers.ts';
import type { CallContext } from '../proxy/call-context.ts';
import type { CallSettler } from '../proxy/call-end.ts';
import { reservedOutputTokens } from '../proxy/reservation.ts';
import { returnedHeaders } from './forward.ts';
import type { PassThroughCall } from './pass-through-call.ts';
import { readAnswerOf } from './read-answer.ts';
import { readJsonText, readUsage, type UsageReading, usageOf } from './usage-reader.ts';
import { tapUsage } from './usage-tap.ts';

type Ctx = Context<{ Bindings: GatewayEnv }>;

// A JSON answer up to this size is read whole, so its cost can be in its headers; a larger one (or one of unknown length) streams.
const MAX_BUFFERED_JSON = 8 * 1024 * 1024;

/** A pass-through call that has its upstream's answer, as passThroughCall hands it on (pass-through-call.ts). */
export interface SentCall {
  call: PassThroughCall;
  /** The call's context (its id, start, caller and body); `stream` is set once the answer is known to be an event stream. */
  ctx: CallContext;
  settler: CallSettler;
  admission: Admission | undefined;
  /** The request's estimated prompt tokens. */
  promptTokens: number;
  /** The error a failure to read the answer is (a timeout, once the wait for its headers was aborted). */
  failure(err: unknown): GatewayError;
  /** Ends the wait for the answer: a body read whole is still part of it, a stream is not. */
  stopTimer(): void;
}

/**
 * The upstream's answer passed back as the provider gave it, status and headers included, with the gateway's
 * headers added; the usage it reports priced and the call settled (once a stream ends, for a stream).
 */
export async function passOnAnswer(c: Ctx, sent: SentCall, upstream: Response): Promise<Response> {
  const { call, ctx, settler, admission, failure, stopTimer } = sent;
  const { callId, startedAt, caller } = ctx;
  const upstreamMs = Date.now() - startedAt;
  // An answer the route already read (read-answer.ts): not read again; one it could not pass on may still be charged for.
  const preread = readAnswerOf(upstream);
  const contentType = upstream.headers.get('content-type') ?? '';
  const failed = upstream.status >= 400
    ? new GatewayError(`Upstream answered ${upstream.status}`, { status: upstream.status, type: upstream.status === 429 ? 'rate_limit_error' : 'upstream_error', upstreamStatus: upstream.status })
    : undefined;
  const billing = answerBilling(sent, failed, preread?.charged);
  const headersOf = (cost: number | undefined, stream: boolean) => ({
    callId, deployment: call.deployment, apiBase: call.apiBase, contentType: contentType || 'application/octet-stream', stream, admission,
    policy: caller.kind === 'key' ? caller.policy : undefined, retries: 0, fallbacks: 0, cost, startedAt, upstreamMs,
  });
  const settle = (outcome: CallOutcome, cost: number) => settler.settle({ outcome, cost, apiBase: call.apiBase, finishedAt: outcome.finishedAt, ...(failed ? { error: failed } : {}) });

  const length = Number(upstream.headers.get('content-length') ?? NaN);
  if (preread || (/^application\/(.+\+)?json/i.test(contentType) && upstream.body && length <= MAX_BUFFERED_JSON)) {
    // A JSON answer of known, bounded size is read whole (as the gateway's own calls are), so its cost can be in its headers.
    let bytes: ArrayBuffer | Uint8Array<ArrayBuffer>;
    try {
      bytes = preread?.bytes ?? await upstream.arrayBuffer();
    } catch (err) {
      const error = failure(err);
      settler.settle({ error, cost: 0, apiBase: call.apiBase, finishedAt: Date.now() });
      return errorResponse(error);
    } finally {
      stopTimer();
    }
    const reading: UsageReading = {};
    if (preread && 'value' in preread) readUsage(preread.value, reading);
    else readJsonText(new TextDecoder().decode(bytes), reading);
    const usage = billing.usageOfCall(usageOf(reading) ?? headerUsage(upstream.headers), reading.textChars ?? 0, false);
    const cost = billing.costOf(usage, reading.model);
    const answered = answerResponse(bytes, upstream.status, headersOf(cost, false));
    returnedHeaders(upstream.headers, answered.response.headers);
    settler.overheadMs = answered.overheadMs;
    settle({ usage, finishedAt: Date.now() }, cost);
    return answered.response;
  }
  // A stream (or a large body) runs as long as it runs: the timeout was for the answer's headers.
  stopTimer();
  const sse = contentType.toLowerCase().startsWith('text/event-stream');
  ctx.stream = sse;
  const framing = sse ? 'sse' : /amazon\.eventstream/i.test(contentType) ? 'eventstream' : /json/i.test(contentType) ? 'json' : 'other';
  const tapped = upstream.body ? tapUsage(upstream.body, framing) : undefined;
  if (tapped) {
    c.executionCtx.waitUntil(tapped.done.then((end) => {
      const usage = billing.usageOfCall(end.usage, end.textChars, end.aborted || end.broken || end.exception);
      const outcome: CallOutcome = { usage, finishedAt: end.finishedAt, ...(end.firstChunkAt ? { firstChunkAt: end.firstChunkAt } : {}), ...(end.aborted ? { aborted: true } : {}) };
      if ((end.broken || end.exception) && !failed) outcome.error = new GatewayError(end.exception ? 'The upstream stream ended with an error' : 'The upstream stream broke off', { status: 502, type: 'internal_server_error' });
      settle(outcome, billing.costOf(usage, end.model));
    }));
  } else {
    const usage = billing.usageOfCall(headerUsage(upstream.headers), 0, false);
    settle({ usage, finishedAt: Date.now() }, billing.costOf(usage, undefined));
  }
  const answered = answerResponse(tapped?.body ?? null, upstream.status, headersOf(undefined, sse));
  returnedHeaders(upstream.headers, answered.response.headers);
  settler.overheadMs = answered.overheadMs;
  return answered.response;
}

/**
 * How an answer is billed: `failed` when the upstream answered an error, `charged` what a route read of an
 * answer it could not pass on (read-answer.ts).
 */
function answerBilling({ call, ctx, promptTokens }: SentCall, failed: GatewayError | undefined, charged: UsageReport | 'estimate' | undefined) {
  // What the call used: what the answer says, else (an answer that says nothing) an estimate from the text it carried; a stream
  // cut short before its last usage event is billed at least what its text shows.
  const usageOfCall = (reported: UsageReport | undefined, textChars: number, cut: boolean): UsageReport => {
    if (!call.billed) return NO_USAGE;
    if (failed) return charged === undefined ? NO_USAGE : charged !== 'estimate' ? charged
      : { promptTokens, completionTokens: call.generative ? reservedOutputTokens(ctx.body) : 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: false };
    const written = call.generative ? estimateTokens(textChars) : 0;
    if (!reported) return estimatedUsage(promptTokens, call.generative ? textChars : 0);
    return cut && written > reported.completionTokens ? { ...reported, completionTokens: written, reported: false } : reported;
  };
  const costOf = (usage: UsageReport, model: string | undefined) => {
    if (call.costPerRequest !== undefined) return failed ? 0 : call.costPerRequest;
    if (usage === NO_USAGE) return 0;
    return costOfCall(pricedAs(call, model), usage);
  };
  return { usageOfCall, costOf };
}

/**
 * The deployment a call is priced as: with `priceByAnswer`, the model the answer names where the price table
 * knows it, else the one asked for (a Bedrock or Vertex answer names its model without the provider's
 * prefix or version suffix the table keys it by).
 */
function pricedAs(call: PassThroughCall, answered: string | undefined): DeploymentRef {
  if (!call.priceByAnswer) return call.deployment;
  for (const model of [answered, call.requested]) {
    if (!model || model === call.deployment.model) continue;
    const candidate = { ...call.deployment, model };
    if (deploymentPrice(candidate)) return candidate;
  }
  return call.deployment;
}

/** Bedrock's InvokeModel says its counts in headers (`x-amzn-bedrock-input-token-count`), for models whose answers do not. */
function headerUsage(headers: Headers): UsageReport | undefined {
  const input = Number(headers.get('x-amzn-bedrock-input-token-count') ?? NaN);
  const output = Number(headers.get('x-amzn-bedrock-output-token-count') ?? NaN);
  if (!Number.isFinite(input) && !Number.isFinite(output)) return undefined;
  return { promptTokens: Number.isFinite(input) ? input : 0, completionTokens: Number.isFinite(output) ? output : 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
}
