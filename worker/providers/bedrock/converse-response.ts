/** Bedrock Converse answer → OpenAI chat completion: content, tool calls, stop reason, usage. */
import { z } from 'zod';
import type { UsageReport } from '../types.ts';
import { type AnswerChoice, type FinishReason, reportedUsage, type ToolCall } from './openai-answer.ts';

const count = z.number().int().nonnegative().catch(0).optional();

export const converseUsageSchema = z.looseObject({
  inputTokens: count,
  outputTokens: count,
  cacheReadInputTokens: count,
  cacheWriteInputTokens: count,
});

const contentBlock = z.looseObject({
  text: z.string().optional(),
  toolUse: z.looseObject({ toolUseId: z.string(), name: z.string(), input: z.unknown() }).optional(),
  reasoningContent: z.looseObject({ reasoningText: z.looseObject({ text: z.string() }).optional() }).optional(),
});

/** The parts of Converse's answer we read. */
export const converseResponseSchema = z.looseObject({
  output: z.looseObject({ message: z.looseObject({ content: z.array(contentBlock) }) }),
  stopReason: z.string(),
  usage: converseUsageSchema.optional(),
});

export type ConverseResponse = z.output<typeof converseResponseSchema>;

/** Converse's stop reasons in OpenAI's words. */
export function finishReasonOf(stopReason: string | undefined): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** Bedrock's inputTokens leave out cache reads and writes; OpenAI's prompt_tokens (and LiteLLM's) include them. */
export function converseUsage(usage: z.output<typeof converseUsageSchema> | undefined): UsageReport | undefined {
  if (!usage) return undefined;
  const read = usage.cacheReadInputTokens ?? 0;
  const written = usage.cacheWriteInputTokens ?? 0;
  return reportedUsage((usage.inputTokens ?? 0) + read + written, usage.outputTokens ?? 0, read, written);
}

export function converseChoice(response: ConverseResponse): AnswerChoice {
  let text = '';
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  for (const block of response.output.message.content) {
    if (block.text !== undefined) text += block.text;
    if (block.reasoningContent?.reasoningText) reasoning += block.reasoningContent.reasoningText.text;
    if (block.toolUse) {
      toolCalls.push({
        id: block.toolUse.toolUseId,
        type: 'function',
        function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) },
      });
    }
  }
  return {
    message: {
      role: 'assistant',
      content: text || (toolCalls.length ? null : ''),
      ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
      ...(reasoning ? { reasoning_content: reasoning } : {}),
    },
    finishReason: finishReasonOf(response.stopReason),
  };
}
