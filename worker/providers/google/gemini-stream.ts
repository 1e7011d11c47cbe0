/**
 * `streamGenerateContent?alt=sse` events → OpenAI chunk deltas. Each event
 * is a GenerateContentResponse holding the next parts; a candidate's last
 * event has its finishReason, and usageMetadata is cumulative (the last wins).
 * Function calls arrive whole, so each is one tool-call delta.
 */
import type { ChunkDelta, StreamTranslator } from '../bedrock/openai-chunk-stream.ts';
import type { UsageExtras } from '../bedrock/openai-answer.ts';
import { unexpectedAnswer } from '../bedrock/upstream-post.ts';
import type { UsageReport } from '../types.ts';
import { type GoogleError, googleStreamError } from './errors.ts';
import { finishReasonOf, geminiResponseSchema, geminiUsage, geminiUsageExtras, type GeminiResponse, toolCallOf } from './gemini-response.ts';

interface CandidateState {
  started: boolean;
  tools: number;
  finished: boolean;
}

export class GeminiStreamTranslator implements StreamTranslator<string> {
  private readonly label: string;
  private readonly provider: string;
  private readonly secrets: readonly (string | undefined)[];
  private readonly candidates = new Map<number, CandidateState>();
  private usageMetadata: GeminiResponse['usageMetadata'];

  constructor(label: string, provider: string, secrets: readonly (string | undefined)[]) {
    this.label = label;
    this.provider = provider;
    this.secrets = secrets;
  }

  async event(data: string): Promise<ChunkDelta[]> {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw unexpectedAnswer(this.label, this.provider, 'a stream event that is not JSON');
    }
    const error = (json as { error?: GoogleError } | null)?.error;
    if (error && typeof error === 'object') throw await googleStreamError(error, this.label, this.provider, this.secrets);
    const parsed = geminiResponseSchema.safeParse(json);
    if (!parsed.success) throw unexpectedAnswer(this.label, this.provider, 'a stream event that does not parse');
    const response = parsed.data;
    this.usageMetadata = response.usageMetadata ?? this.usageMetadata;
    const deltas: ChunkDelta[] = [];
    if (!response.candidates?.length && response.promptFeedback?.blockReason) {
      deltas.push({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'content_filter' });
      this.state(0).finished = true;
    }
    (response.candidates ?? []).forEach((candidate, position) => {
      const index = candidate.index ?? position;
      const state = this.state(index);
      const role = () => {
        if (state.started) return {};
        state.started = true;
        return { role: 'assistant' as const };
      };
      for (const part of candidate.content?.parts ?? []) {
        if (part.functionCall) {
          const call = toolCallOf(part.functionCall);
          deltas.push({ index, delta: { ...role(), tool_calls: [{ index: state.tools++, ...call }] }, finish_reason: null });
        } else if (part.text) {
          deltas.push({ index, delta: { ...role(), ...(part.thought ? { reasoning_content: part.text } : { content: part.text }) }, finish_reason: null });
        }
      }
      if (candidate.finishReason && !state.finished) {
        state.finished = true;
        deltas.push({ index, delta: {}, finish_reason: finishReasonOf(candidate.finishReason, state.tools > 0) });
      }
    });
    return deltas;
  }

  end(): ChunkDelta[] {
    return [];
  }

  usage(): UsageReport | undefined {
    return geminiUsage(this.usageMetadata);
  }

  usageExtras(): UsageExtras {
    return geminiUsageExtras(this.usageMetadata);
  }

  private state(index: number): CandidateState {
    let state = this.candidates.get(index);
    if (!state) this.candidates.set(index, (state = { started: false, tools: 0, finished: false }));
    return state;
  }
}
