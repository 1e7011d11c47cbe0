/**
 * Claude on Vertex AI: the Anthropic Messages body (without `model`, with
 * `anthropic_version: vertex-2023-10-16`) posted to the model's `:rawPredict`
 * or `:streamRawPredict`; the answer is Anthropic's, translated by the
 * Anthropic adapter's own mappers.
 */
import { deploymentPrice } from '../../cost/deployment-cost.ts';
import { GatewayError } from '../../errors.ts';
import { DEFAULT_MAX_TOKENS, toAnthropicRequest } from '../anthropic/convert-request.ts';
import { keptAnswer } from '../answer-tool-calls.ts';
import { toOpenAIChatCompletion } from '../anthropic/convert-response.ts';
import { modifiedForAnthropic } from '../modify-params/anthropic.ts';
import { anthropicMessageSchema } from '../anthropic/schemas.ts';
import { openAnthropicStream } from '../anthropic/sse-stream.ts';
import { usageReport } from '../anthropic/usage.ts';
import { postUpstream, readJson, unexpectedAnswer } from '../bedrock/upstream-post.ts';
import { googleError } from '../google/errors.ts';
import { connectionError } from '../openai-compatible/errors.ts';
import type { CallOutcome, OutgoingRequest, ProviderAnswer, ProviderCall } from '../types.ts';
import { displayBase } from '../upstream-url.ts';
import { VERTEX_LABEL, type VertexTarget, vertexModelUrl } from './target.ts';
import { withForwarded } from '../forwarded.ts';

export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

export function isClaude(model: string): boolean {
  return model.startsWith('claude-');
}

/** The rawPredict request of a chat call; `authorization` as given (a token, or a placeholder for one). */
export function claudeRequest(call: ProviderCall, target: VertexTarget, authorization: string) {
  const request = toAnthropicRequest(call.deployment.modifyParams ? modifiedForAnthropic(call.body) : call.body, {
    model: call.deployment.model, dropParams: call.dropParams, stream: call.stream,
    defaultMaxTokens: deploymentPrice(call.deployment)?.maxOutputTokens ?? DEFAULT_MAX_TOKENS,
  });
  // Vertex names the model in the URL and the API version in the body.
  const { model: _named, ...payload } = request.payload;
  const outgoing: OutgoingRequest = {
    url: vertexModelUrl(target, 'anthropic', call.deployment.model, call.stream ? 'streamRawPredict' : 'rawPredict'),
    headers: withForwarded(call.forwarded, { ...call.deployment.params.extra_headers, authorization, 'content-type': 'application/json' }),
    body: { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...payload },
    secrets: [],
  };
  return { request, outgoing };
}

export async function claudeChat(call: ProviderCall, target: VertexTarget, token: string): Promise<ProviderAnswer> {
  const { request, outgoing } = claudeRequest(call, target, `Bearer ${token}`);
  const { url } = outgoing;
  const post = { url, stream: call.stream, timeoutMs: call.timeoutMs, label: VERTEX_LABEL, provider: 'vertex_ai' };
  const reply = await postUpstream({
    ...post,
    headers: outgoing.headers,
    body: JSON.stringify(outgoing.body),
    // Vertex's own refusals (auth, quota) come in Google's envelope, the model's in Anthropic's; both carry error.message.
    failure: (res) => googleError(res, VERTEX_LABEL, 'vertex_ai', [token]),
  });
  const created = Math.floor(Date.now() / 1000);
  const apiBase = displayBase(url);
  if (call.stream) {
    if (!reply.res.body) throw unexpectedAnswer(VERTEX_LABEL, 'vertex_ai', 'a stream without a body');
    const relay = await openAnthropicStream(reply.res.body, {
      clientWantsUsage: call.clientWantsUsage, jsonMode: request.jsonMode, created, secrets: [token],
      promptTokenEstimate: call.promptTokenEstimate, keepText: call.keepText,
    }).catch((err: unknown) => {
      throw err instanceof GatewayError ? err : connectionError(VERTEX_LABEL, 'vertex_ai', err);
    });
    return { status: 200, contentType: 'text/event-stream', body: relay.body, outcome: relay.outcome, apiBase };
  }
  const parsed = anthropicMessageSchema.safeParse(await readJson(reply, post));
  if (!parsed.success) throw unexpectedAnswer(VERTEX_LABEL, 'vertex_ai', 'a rawPredict answer that is not an Anthropic message');
  const converted = toOpenAIChatCompletion(parsed.data, { jsonMode: request.jsonMode, unwrapValues: request.unwrapValues, created });
  const outcome: CallOutcome = { usage: usageReport(converted.tokens, true), finishedAt: Date.now(), ...(call.keepText ? keptAnswer(converted.text, converted.toolCalls, converted.completion.choices[0]?.message) : {}) };
  return { status: 200, contentType: 'application/json', body: JSON.stringify(converted.completion), outcome: Promise.resolve(outcome), apiBase };
}
