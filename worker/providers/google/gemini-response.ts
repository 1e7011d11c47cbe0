/** Gemini `generateContent` answer → OpenAI chat completion: candidates, function calls, finish reasons, usage. */
import { z } from 'zod';
import { type AnswerChoice, type FinishReason, reportedUsage, type ToolCall, toolCallId, type UsageExtras } from '../bedrock/openai-answer.ts';
import type { UsageReport } from '../types.ts';

const count = z.number().int().nonnegative().catch(0).optional();

export const partSchema = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  functionCall: z.looseObject({ name: z.string(), args: z.record(z.string(), z.unknown()).optional(), id: z.string().optional() }).optional(),
});

export const candidateSchema = z.looseObject({
  content: z.looseObject({ parts: z.array(partSchema).optional() }).optional(),
  finishReason: z.string().optional(),
  index: z.number().int().nonnegative().optional(),
});

const modalityCounts = z.array(z.looseObject({ modality: z.string().optional(), tokenCount: count })).catch([]).optional();

export const usageMetadataSchema = z.looseObject({
  promptTokenCount: count,
  candidatesTokenCount: count,
  cachedContentTokenCount: count,
  thoughtsTokenCount: count,
  promptTokensDetails: modalityCounts,
  candidatesTokensDetails: modalityCounts,
});

const imageTokens = (details: z.output<typeof modalityCounts>) => (details ?? []).filter((d) => d.modality === 'IMAGE').reduce((sum, d) => sum + (d.tokenCount ?? 0), 0);

/** The parts of a GenerateContentResponse we read (one SSE event of a stream has the same shape). */
export const geminiResponseSchema = z.looseObject({
  candidates: z.array(candidateSchema).optional(),
  promptFeedback: z.looseObject({ blockReason: z.string().optional() }).optional(),
  usageMetadata: usageMetadataSchema.optional(),
});

export type GeminiResponse = z.output<typeof geminiResponseSchema>;
export type GeminiCandidate = z.output<typeof candidateSchema>;

// The answer was withheld by a safety or policy check.
const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

export function finishReasonOf(reason: string | undefined, calledTools: boolean): FinishReason {
  if (reason && FILTERED.has(reason)) return 'content_filter';
  if (reason === 'MAX_TOKENS') return 'length';
  return calledTools ? 'tool_calls' : 'stop';
}

/** promptTokenCount already includes cached tokens; thinking tokens are billed as output, as LiteLLM counts them. */
export function geminiUsage(usage: z.output<typeof usageMetadataSchema> | undefined): UsageReport | undefined {
  if (!usage) return undefined;
  const report = reportedUsage(usage.promptTokenCount ?? 0, (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0), usage.cachedContentTokenCount ?? 0);
  // Images in and out (gemini-2.5-flash-image's) are priced at the model's image-token prices.
  const imageIn = imageTokens(usage.promptTokensDetails);
  const imageOut = imageTokens(usage.candidatesTokensDetails);
  if (imageIn) report.imagePromptTokens = imageIn;
  if (imageOut) report.imageCompletionTokens = imageOut;
  return report;
}

export function geminiUsageExtras(usage: z.output<typeof usageMetadataSchema> | undefined): UsageExtras {
  return usage?.thoughtsTokenCount ? { reasoningTokens: usage.thoughtsTokenCount } : {};
}

export function toolCallOf(call: NonNullable<z.output<typeof partSchema>['functionCall']>): ToolCall {
  return { id: call.id ?? toolCallId(), type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } };
}

/** OpenAI choices; a prompt blocked before any candidate is one empty choice with finish_reason content_filter. */
export function geminiChoices(response: GeminiResponse): AnswerChoice[] {
  const candidates = response.candidates ?? [];
  if (!candidates.length) {
    const blocked = Boolean(response.promptFeedback?.blockReason);
    return [{ message: { role: 'assistant', content: blocked ? null : '' }, finishReason: blocked ? 'content_filter' : 'stop' }];
  }
  return candidates.map((candidate) => {
    let text = '';
    let reasoning = '';
    const toolCalls: ToolCall[] = [];
    for (const part of candidate.content?.parts ?? []) {
      if (part.functionCall) toolCalls.push(toolCallOf(part.functionCall));
      else if (part.text !== undefined && part.thought) reasoning += part.text;
      else if (part.text !== undefined) text += part.text;
    }
    return {
      message: {
        role: 'assistant',
        content: text || (toolCalls.length || FILTERED.has(candidate.finishReason ?? '') ? null : ''),
        ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        ...(reasoning ? { reasoning_content: reasoning } : {}),
      },
      finishReason: finishReasonOf(candidate.finishReason, toolCalls.length > 0),
    };
  });
}
