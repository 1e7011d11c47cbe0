import type { CallEndpoint, CallOutcome } from '../providers/types.ts';
import { boundedJson } from '../telemetry/bounded-json.ts';
import { reasoningOf } from '../telemetry/answer-reasoning.ts';
import { boundedChatParts, chatMessage, responsesOutput, toolCallsFinish, toolCallsOf } from '../telemetry/answer-tool-calls.ts';

/** What the stored answer reads of a call: its endpoint and the model that answered. */
export interface AnsweredCall {
  endpoint: CallEndpoint;
  deployment: { model: string };
}

/**
 * The answer as LiteLLM stores it in `response` (store_prompts_in_spend_logs):
 * the response object's shape, so `response->'choices'->0->'message'->>'content'`
 * reads it for chat (`->'tool_calls'` its tool calls, `->>'reasoning_content'` its
 * reasoning, as LiteLLM's message carries it) and `->'choices'->0->>'text'` for
 * completions, a Responses answer's tool calls its `function_call` output items;
 * its text, reasoning and tool calls bounded together (a Queue message has room
 * for so much), its usage from the call. Null when there is no text nor tool call
 * (a failure, embeddings); no tool call or reasoning of an answer the client never
 * got (a guardrail refused it, it was too large: `result.error`).
 */
export function storedResponse(ctx: AnsweredCall, result: { outcome?: CallOutcome; error?: unknown }, maxChars: number): unknown {
  const text = result.outcome?.responseText;
  const calls = result.error ? undefined : toolCallsOf(result.outcome);
  if ((text === undefined && !calls) || (ctx.endpoint !== 'chat' && ctx.endpoint !== 'completion' && ctx.endpoint !== 'responses')) return null;
  const content = text === undefined ? undefined : boundedJson(text, maxChars);
  const { reasoning: thought, calls: kept } = boundedChatParts(text, calls, result.error ? undefined : reasoningOf(ctx.endpoint, result.outcome), maxChars);
  const u = result.outcome?.usage;
  const usage = { prompt_tokens: u?.promptTokens ?? 0, completion_tokens: u?.completionTokens ?? 0, total_tokens: (u?.promptTokens ?? 0) + (u?.completionTokens ?? 0) };
  if (ctx.endpoint === 'responses') {
    return {
      object: 'response', model: ctx.deployment.model, output: responsesOutput(content, kept),
      usage: { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens, total_tokens: usage.total_tokens },
    };
  }
  if (ctx.endpoint === 'chat') {
    const choice = { index: 0, message: chatMessage(content, kept, thought), ...(kept ? { finish_reason: toolCallsFinish(result.outcome?.finishReason) } : {}) };
    return { object: 'chat.completion', model: ctx.deployment.model, choices: [choice], usage };
  }
  return { object: 'text_completion', model: ctx.deployment.model, choices: [{ index: 0, text: content ?? null }], usage };
}
