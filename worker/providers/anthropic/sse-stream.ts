import { keptAnswer } from '../answer-tool-calls.ts';
import { estimateTokens } from '../openai-compatible/usage.ts';
import type { CallOutcome, UsageReport } from '../types.ts';
import { upstreamBroke } from './errors.ts';
import { AnthropicStreamTranslator, type StreamTranslatorOptions } from './stream-translator.ts';
import { usageReport } from './usage.ts';

export interface AnthropicStreamOptions extends StreamTranslatorOptions {
  promptTokenEstimate: number;
  keepText: boolean;
}

/**
 * Relays Anthropic's stream as OpenAI chunks, pulled by the client: nothing
 * is read ahead of what the client takes, a client that goes away cancels
 * the upstream read (closing the connection), and `outcome` settles on every
 * ending. It reads up to the first event before it returns: Anthropic can
 * answer 200 and then an `error` event (`overloaded_error`), which is thrown
 * here as the call's error, with its status (529), while the router can
 * still retry and the client still gets a status. Read failures before that
 * are thrown as they are, for the caller to tell a timeout from a reset.
 */
export async function openAnthropicStream(upstream: ReadableStream<Uint8Array>, options: AnthropicStreamOptions): Promise<{
  body: ReadableStream<Uint8Array>;
  outcome: Promise<CallOutcome>;
}> {
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const translator = new AnthropicStreamTranslator(options);
  const feed = (result: ReadableStreamReadResult<Uint8Array>) => (result.done
    ? translator.push(decoder.decode()) + translator.end()
    : translator.push(decoder.decode(result.value, { stream: true })));
  const release = () => void reader.cancel().catch(() => undefined);

  let pending = '';
  try {
    while (!translator.started && !translator.done) pending += feed(await reader.read());
  } catch (err) {
    release();
    throw err;
  }
  if (!translator.started) {
    release();
    throw translator.error ?? upstreamBroke();
  }
  const firstChunkAt = Date.now();

  let settle!: (outcome: CallOutcome) => void;
  const outcome = new Promise<CallOutcome>((resolve) => (settle = resolve));
  let settled = false;
  const finish = (extra: Partial<CallOutcome>) => {
    if (settled) return;
    settled = true;
    const toolCalls = translator.keptToolCalls;
    settle({
      usage: usageOf(translator, options.promptTokenEstimate),
      firstChunkAt,
      finishedAt: Date.now(),
      ...(options.keepText ? keptAnswer(translator.text, toolCalls) : {}),
      // Not an answer the cache can rebuild from its text (call-helpers.ts).
      ...(toolCalls ? { toolCalls: true } : {}),
      ...(options.keepText ? kept(translator) : {}),
      ...(translator.error ? { error: translator.error } : {}),
      ...extra,
    });
  };
  const end = (controller: ReadableStreamDefaultController<Uint8Array>, out: string, upstreamDone: boolean) => {
    if (out) controller.enqueue(encoder.encode(out));
    controller.close();
    finish({});
    // Anthropic's stream is over at message_stop or an error event, whatever bytes may follow.
    if (!upstreamDone) release();
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending) {
        const out = pending;
        pending = '';
        if (translator.done) end(controller, out, false);
        else controller.enqueue(encoder.encode(out));
        return;
      }
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch {
          // The upstream broke after the stream began: tell the client in-band and end cleanly.
          end(controller, translator.fail(upstreamBroke()), true);
          return;
        }
        const out = feed(result);
        if (translator.done) return end(controller, out, result.done);
        if (out) {
          controller.enqueue(encoder.encode(out));
          return;
        }
      }
    },
    cancel(reason) {
      finish({ aborted: true });
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });

  return { body, outcome };
}

/**
 * What the cache must know beside the kept answer: how it finished, what it was called, its thinking with the
 * signatures, whether it carried more (cache/streamed-answer.ts).
 */
function kept(translator: AnthropicStreamTranslator): Partial<CallOutcome> {
  return {
    ...(translator.finishReason !== null ? { finishReason: translator.finishReason } : {}),
    ...(translator.partsLeftOut ? { partsLeftOut: true } : {}),
    // Beside what it leaves out too (a stop sequence): the logs show it; the cache stores no answer with partsLeftOut.
    ...translator.keptThinking,
    streamedAs: translator.streamedAs,
  };
}

/** The reported counts once message_delta gave them; otherwise what message_start said, and an estimate of the output. */
function usageOf(translator: AnthropicStreamTranslator, promptTokenEstimate: number): UsageReport {
  if (translator.finishReason !== null) return usageReport(translator.tokens, true);
  const known = usageReport(translator.tokens, false);
  return {
    ...known,
    promptTokens: known.promptTokens || promptTokenEstimate,
    completionTokens: Math.max(known.completionTokens, estimateTokens(translator.outputChars)),
  };
}
