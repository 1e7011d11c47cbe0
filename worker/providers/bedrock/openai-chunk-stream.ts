/**
 * Turns a provider's own stream (Bedrock's event stream, Gemini's SSE) into
 * OpenAI's chat chunks. Provider-neutral: a decoder cuts bytes into events,
 * a translator turns events into chunk deltas. Reading is pulled by the
 * client, so a client that goes away cancels the upstream read; nothing is
 * thrown mid-stream: a broken or malformed stream ends with an error event.
 */
import { errorEnvelope, GatewayError } from '../../errors.ts';
import { estimatedUsage } from '../openai-compatible/usage.ts';
import { keptAnswer, ToolCallJoiner } from '../answer-tool-calls.ts';
import { ReasoningJoiner } from '../kept-reasoning.ts';
import type { CallOutcome, UsageReport } from '../types.ts';
import { chatId, type FinishReason, nowSeconds, openaiUsage, type UsageExtras } from './openai-answer.ts';

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  /** The choice (candidate) index. */
  index: number;
  delta: { role?: 'assistant'; content?: string; reasoning_content?: string; tool_calls?: ToolCallDelta[] };
  finish_reason: FinishReason | null;
}

/** Cuts the upstream bytes into events; may throw on malformed framing. */
export interface StreamDecoder<E> {
  push(bytes: Uint8Array): E[];
  /** The upstream ended: any complete event left, or a throw for a truncated one. */
  end(): E[];
}

export interface StreamTranslator<E> {
  /** Deltas for one event. Throws (or rejects with) a GatewayError for an error the provider sent in-band. */
  event(event: E): ChunkDelta[] | Promise<ChunkDelta[]>;
  /** Deltas still owed once the events ended. */
  end(): ChunkDelta[];
  usage(): UsageReport | undefined;
  usageExtras?(): UsageExtras;
}

export interface ChunkStreamOptions {
  model: string;
  clientWantsUsage: boolean;
  promptTokenEstimate: number;
  keepText: boolean;
  label: string;
  provider: string;
}

export function translateStream<E>(
  upstream: ReadableStream<Uint8Array>,
  decoder: StreamDecoder<E>,
  translator: StreamTranslator<E>,
  options: ChunkStreamOptions,
): { body: ReadableStream<Uint8Array>; outcome: Promise<CallOutcome> } {
  const reader = upstream.getReader();
  const encoder = new TextEncoder();
  const base = { id: chatId(), object: 'chat.completion.chunk', created: nowSeconds(), model: options.model };
  let firstChunkAt: number | undefined;
  let completionChars = 0;
  let text = '';
  // The answer's tool calls and reasoning, kept with its text: the first choice's deltas joined as the client gets
  // them; its finish reason; whether the stream carried what that leaves out (another choice, reasoning past the cap).
  const joiner = options.keepText ? new ToolCallJoiner() : undefined;
  const reasoning = options.keepText ? new ReasoningJoiner() : undefined;
  let finishReason: FinishReason | undefined;
  let partsLeftOut = false;
  let settle!: (outcome: CallOutcome) => void;
  const outcome = new Promise<CallOutcome>((resolve) => (settle = resolve));
  let settled = false;
  const finish = (extra: Partial<CallOutcome>) => {
    if (settled) return;
    settled = true;
    const calls = joiner?.calls();
    settle({
      usage: usageOf(translator.usage(), options.keepText ? translator.usageExtras?.() : undefined) ?? estimatedUsage(options.promptTokenEstimate, completionChars),
      firstChunkAt,
      finishedAt: Date.now(),
      ...(options.keepText ? keptAnswer(text, calls) : {}),
      // Not an answer the cache can rebuild from its text (call-helpers.ts).
      ...(calls ? { toolCalls: true } : {}),
      ...(finishReason ? { finishReason } : {}),
      ...(partsLeftOut ? { partsLeftOut: true } : {}),
      // Beside another choice too: the logs show the first's; the cache stores no answer with partsLeftOut.
      ...reasoning?.kept(),
      ...(options.keepText ? { streamedAs: { id: base.id, created: base.created, model: base.model } } : {}),
      ...extra,
    });
  };

  const render = (deltas: ChunkDelta[]): string => {
    let out = '';
    for (const d of deltas) {
      firstChunkAt ??= Date.now();
      const seen = (d.delta.content ?? '') + (d.delta.reasoning_content ?? '') +
        (d.delta.tool_calls ?? []).map((t) => t.function.arguments ?? '').join('');
      completionChars += seen.length;
      if (options.keepText && d.delta.content) text += d.delta.content;
      if (joiner) {
        if (d.index !== 0) partsLeftOut = true;
        else if (d.delta.reasoning_content) reasoning?.add('reasoning_content', d.delta.reasoning_content);
        if (d.index === 0 && d.finish_reason) finishReason = d.finish_reason;
        if (d.index === 0 && d.delta.tool_calls) joiner.add(d.delta.tool_calls);
      }
      out += `data: ${JSON.stringify({ ...base, choices: [{ index: d.index, delta: d.delta, logprobs: null, finish_reason: d.finish_reason }] })}\n\n`;
    }
    return out;
  };

  const closing = (): string => {
    let out = render(translator.end());
    const usage = translator.usage();
    if (options.clientWantsUsage && usage) {
      out += `data: ${JSON.stringify({ ...base, choices: [], usage: openaiUsage(usage, translator.usageExtras?.()) })}\n\n`;
    }
    return `${out}data: [DONE]\n\n`;
  };

  const failed = (cause: unknown): GatewayError => cause instanceof GatewayError
    ? cause
    : new GatewayError(`litellm.APIConnectionError: ${options.label}Exception - the upstream stream ended unexpectedly`, {
      status: 502, type: 'api_connection_error', provider: options.provider, retryable: true,
    });

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let out = '';
        let done = false;
        try {
          const result = await reader.read();
          const events = result.done ? decoder.end() : decoder.push(result.value);
          for (const event of events) out += render(await translator.event(event));
          if (result.done) {
            out += closing();
            done = true;
          }
        } catch (cause) {
          const error = failed(cause);
          controller.enqueue(encoder.encode(`${out}data: ${JSON.stringify(errorEnvelope(error))}\n\n`));
          controller.close();
          finish({ error });
          reader.cancel().catch(() => undefined);
          return;
        }
        if (out) controller.enqueue(encoder.encode(out));
        if (done) {
          controller.close();
          finish({});
          return;
        }
        if (out) return;
      }
    },
    cancel(reason) {
      finish({ aborted: true });
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });

  return { body, outcome };
}

/** The provider's usage, with the reasoning tokens it reported apart (Gemini's `thoughtsTokenCount`) where the answer is kept: a stored answer carries them. */
function usageOf(usage: UsageReport | undefined, extras: UsageExtras | undefined): UsageReport | undefined {
  return usage && extras?.reasoningTokens ? { ...usage, reasoningTokens: extras.reasoningTokens } : usage;
}
