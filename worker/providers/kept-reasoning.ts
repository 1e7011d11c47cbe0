import { isObject } from '../json.ts';
import type { CallOutcome, ThinkingBlock } from './types.ts';

// A streamed answer's reasoning, kept beside its text (`CallOutcome.responseReasoning`) so the cache can store the
// answer whole and the logs show it: what the client got, or nothing past the cap (and the answer marked as not
// whole, `partsLeftOut`). A plain answer's is kept too (`keptReasoning`), for the logs that show the answer's message.

/**
 * The most reasoning kept of one answer, in characters (thinking text, signatures and redacted data together: about
 * 64 K tokens, past Claude's usual thinking budgets). Past it nothing is kept and the answer is not cached: a stored
 * answer with its reasoning cut would not be the one the client got.
 */
export const MAX_KEPT_REASONING_CHARS = 256 * 1024;

/** What an outcome keeps of a stream's reasoning: the reasoning, or, where it is not kept whole, the answer marked as not whole. */
export type StreamReasoning = Pick<CallOutcome, 'responseReasoning' | 'partsLeftOut'>;

/** The delta fields an OpenAI-compatible server streams reasoning text in. */
export type ReasoningField = 'reasoning_content' | 'reasoning';

/**
 * A stream's first choice's reasoning text, joined from its deltas field by field (a server may send both fields,
 * the old one as an alias); `cut` once past `MAX_KEPT_REASONING_CHARS`, and then none is kept.
 */
export class ReasoningJoiner {
  private fields: Partial<Record<ReasoningField, string>> = {};
  private chars = 0;
  cut = false;

  add(field: ReasoningField, piece: string): void {
    if (this.cut) return;
    this.chars += piece.length;
    if (this.chars > MAX_KEPT_REASONING_CHARS) {
      this.cut = true;
      this.fields = {};
      return;
    }
    this.fields[field] = (this.fields[field] ?? '') + piece;
  }

  /** The reasoning joined (nothing where none came), or past the cap none and `partsLeftOut`. */
  kept(): StreamReasoning {
    if (this.cut) return { partsLeftOut: true };
    return this.fields.reasoning_content === undefined && this.fields.reasoning === undefined ? {} : { responseReasoning: { ...this.fields } };
  }
}

/**
 * A Claude stream's thinking, block by block as Anthropic streams it (`content_block_start` of a `thinking` or
 * `redacted_thinking` block, `thinking_delta`, `signature_delta`, `content_block_stop`), rebuilt as the gateway's
 * non-streamed answer carries it: `reasoning_content` (the thinking joined) and `thinking_blocks`. Kept only where
 * every thinking block ended with its signature whole (without it the block cannot go back with tool results) and
 * all of it fits `MAX_KEPT_REASONING_CHARS`; otherwise `cut`.
 */
export class ThinkingJoiner {
  private readonly blocks = new Map<number, ThinkingBlock>();
  private readonly open = new Set<number>();
  private chars = 0;
  private over = false;

  /** A `thinking` or `redacted_thinking` block began at this content index (a redacted one comes whole). */
  start(index: number, block: ThinkingBlock): void {
    if (this.over) return;
    this.blocks.set(index, block);
    if (block.type === 'thinking') this.open.add(index);
    this.count(block.type === 'thinking' ? block.thinking.length + block.signature.length : block.data.length);
  }

  thinking(index: number, piece: string): void {
    if (this.over) return;
    const block = this.blocks.get(index) ?? this.started(index);
    if (block.type === 'thinking') block.thinking += piece;
    this.count(piece.length);
  }

  signature(index: number, piece: string): void {
    if (this.over) return;
    const block = this.blocks.get(index) ?? this.started(index);
    if (block.type === 'thinking') block.signature += piece;
    this.count(piece.length);
  }

  /** The content block at this index ended: a thinking block's signature is whole. */
  stop(index: number): void {
    this.open.delete(index);
  }

  /** Some thinking is not kept whole: a block unsigned or unfinished, or all of it past the cap. */
  get cut(): boolean {
    return this.over || this.open.size > 0 || [...this.blocks.values()].some((b) => b.type === 'thinking' && !b.signature);
  }

  /** The thinking as the non-streamed answer carries it (nothing where none came), or where it is `cut` none and `partsLeftOut`. */
  kept(): StreamReasoning {
    if (this.cut) return { partsLeftOut: true };
    if (!this.blocks.size) return {};
    const blocks = [...this.blocks.entries()].sort((a, b) => a[0] - b[0]).map(([, block]) => block);
    return { responseReasoning: { reasoning_content: blocks.map((b) => (b.type === 'thinking' ? b.thinking : '')).join(''), thinking_blocks: blocks } };
  }

  /** A delta for a block whose start did not say it was thinking: kept as one, left open, so it is `cut` unless it ends signed. */
  private started(index: number): ThinkingBlock {
    const block: ThinkingBlock = { type: 'thinking', thinking: '', signature: '' };
    this.blocks.set(index, block);
    this.open.add(index);
    return block;
  }

  /** Past the cap what was kept is let go and nothing more is held: the answer is `cut` for good. */
  private count(chars: number): void {
    this.chars += chars;
    if (this.chars <= MAX_KEPT_REASONING_CHARS) return;
    this.over = true;
    this.blocks.clear();
    this.open.clear();
  }
}

/**
 * What an outcome keeps of a plain chat answer's first message's reasoning, where the call keeps its text (for the
 * logs): its `reasoning_content` and a server's `reasoning`, the parsed answer's own strings (no copy, no cap: the
 * logs bound what they show). Claude's `thinking_blocks` are left out: the logs show the thinking text, and a cache
 * stores a plain answer as it came.
 */
export function keptReasoning(message: unknown): Pick<CallOutcome, 'responseReasoning'> {
  if (!isObject(message)) return {};
  const { reasoning_content: content, reasoning } = message;
  if (typeof content !== 'string' && typeof reasoning !== 'string') return {};
  return { responseReasoning: { ...(typeof content === 'string' ? { reasoning_content: content } : {}), ...(typeof reasoning === 'string' ? { reasoning } : {}) } };
}
