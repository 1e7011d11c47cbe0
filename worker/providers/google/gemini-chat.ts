/**
 * One Gemini chat call, plain or streamed, for any endpoint that speaks
 * Gemini's format (AI Studio, Vertex AI): the adapters supply the URL and
 * credentials, this sends the translated request and translates the answer.
 */
import { keptAnswer } from '../answer-tool-calls.ts';
import { answerText, chatCompletion } from '../bedrock/openai-answer.ts';
import { translateStream } from '../bedrock/openai-chunk-stream.ts';
import { postUpstream, readJson, unexpectedAnswer } from '../bedrock/upstream-post.ts';
import { providerFields } from '../openai-compatible/params.ts';
import { estimatedUsage } from '../openai-compatible/usage.ts';
import type { CallOutcome, OutgoingRequest, ProviderAnswer, ProviderCall } from '../types.ts';
import { displayBase } from '../upstream-url.ts';
import { googleError } from './errors.ts';
import { GEMINI_PARAMS, toGeminiRequest } from './gemini-request.ts';
import { geminiChoices, geminiResponseSchema, geminiUsage, geminiUsageExtras } from './gemini-response.ts';
import { GeminiStreamTranslator } from './gemini-stream.ts';
import { SseDecoder } from './sse-decoder.ts';
import { withForwarded } from '../forwarded.ts';

export interface GoogleTarget {
  /** `...:generateContent`, or `...:streamGenerateContent?alt=sse` for a stream. */
  url: URL;
  headers: Record<string, string>;
  secrets: string[];
  /** `Gemini` or `VertexAI`, for LiteLLM's message wording. */
  label: string;
  provider: string;
}

/** The generateContent request a chat call sends to `target`. */
export function geminiRequest(call: ProviderCall, target: GoogleTarget): OutgoingRequest {
  const fields = providerFields(call.body, GEMINI_PARAMS, call.dropParams, target.provider);
  return {
    url: target.url,
    headers: withForwarded(call.forwarded, { ...call.deployment.params.extra_headers, ...target.headers, 'content-type': 'application/json' }),
    body: toGeminiRequest(fields),
    secrets: target.secrets,
  };
}

export async function geminiChat(call: ProviderCall, target: GoogleTarget): Promise<ProviderAnswer> {
  const outgoing = geminiRequest(call, target);
  const request = { url: target.url, stream: call.stream, timeoutMs: call.timeoutMs, label: target.label, provider: target.provider };
  const reply = await postUpstream({
    ...request,
    headers: outgoing.headers,
    body: JSON.stringify(outgoing.body),
    failure: (res) => googleError(res, target.label, target.provider, target.secrets),
  });
  const model = call.deployment.model;
  const apiBase = displayBase(target.url);
  if (call.stream) {
    if (!reply.res.body) throw unexpectedAnswer(target.label, target.provider, 'a stream without a body');
    const relay = translateStream(reply.res.body, new SseDecoder(), new GeminiStreamTranslator(target.label, target.provider, target.secrets), {
      model, clientWantsUsage: call.clientWantsUsage, promptTokenEstimate: call.promptTokenEstimate, keepText: call.keepText,
      label: target.label, provider: target.provider,
    });
    return { status: 200, contentType: 'text/event-stream', body: relay.body, outcome: relay.outcome, apiBase };
  }
  const parsed = geminiResponseSchema.safeParse(await readJson(reply, request));
  if (!parsed.success) throw unexpectedAnswer(target.label, target.provider, 'a generateContent answer that does not parse');
  const choices = geminiChoices(parsed.data);
  const text = answerText(choices);
  const usage = geminiUsage(parsed.data.usageMetadata) ?? estimatedUsage(call.promptTokenEstimate, text.length);
  const outcome: CallOutcome = { usage, finishedAt: Date.now(), ...(call.keepText ? keptAnswer(text, choices[0]?.message.tool_calls, choices[0]?.message) : {}) };
  const answer = chatCompletion(model, choices, usage, geminiUsageExtras(parsed.data.usageMetadata));
  return { status: 200, contentType: 'application/json', body: JSON.stringify(answer), outcome: Promise.resolve(outcome), apiBase };
}
