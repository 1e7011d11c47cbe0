/**
 * Which of a span's sizes goes on the Queue: the span is built at less and
 * less prompt and answer until it fits in a message. Pure (no Worker binding),
 * so the steps can be tested as they are chosen.
 */
import { ITEM_BYTES } from '../langfuse/packing.ts';
import { utf8Length } from '../queue-packing.ts';
import type { ContentLimits } from './openinference-content.ts';

/** Characters of a call's prompt and answer an `otel` span keeps (each), then fewer while the span would not fit in a message. */
export const CONTENT_CHARS = [16 * 1024, 2 * 1024, 512, 128, 0];

/**
 * The content limits of an OpenInference span (`langfuse_otel`, `arize_phoenix`, `arize`), tried in turn while it
 * would not fit in a message: the prompt's (its messages together) lowered to nothing before the answer's, so the
 * answer is the last thing a span loses.
 */
export const INFERENCE_LIMITS: readonly ContentLimits[] = [
  ...CONTENT_CHARS.map((input) => ({ input, output: CONTENT_CHARS[0]! })),
  ...CONTENT_CHARS.slice(1).map((output) => ({ input: 0, output })),
];

/**
 * A span's UTF-8 size as far as fitting it needs: 3 bytes a character while that is under the limit (no scan),
 * else counted exactly, so a long ASCII answer with one curly quote is not taken for three times its size.
 */
export function spanBytes(json: string, max = ITEM_BYTES): number {
  return json.length * 3 <= max ? json.length * 3 : utf8Length(json);
}

/**
 * The span `build` makes at the first of `limits` (less and less prompt and answer) at which it fits in a message,
 * with its size; undefined when none does.
 */
export function fitSpan<L>(limits: readonly L[], build: (limit: L) => string, max = ITEM_BYTES): { json: string; bytes: number; limit: L } | undefined {
  for (const limit of limits) {
    const json = build(limit);
    const bytes = spanBytes(json, max);
    if (bytes <= max) return { json, bytes, limit };
  }
  return undefined;
}
