/**
 * An answer's reasoning (`CallOutcome.responseReasoning`) as the logs show it: LiteLLM's logged message's
 * `reasoning_content` (LiteLLM names a server's `reasoning` so too). Claude's `thinking_blocks` are not logged:
 * their signatures are opaque, as large as the thinking, and tell a reader nothing.
 */
import type { AnswerReasoning, CallEndpoint } from '../providers/types.ts';

/** The reasoning text a chat call's outcome kept (only a chat message has a place for it in the logs); undefined without any (or an empty one). */
export function reasoningOf(endpoint: CallEndpoint, outcome: { responseReasoning?: AnswerReasoning } | undefined): string | undefined {
  if (endpoint !== 'chat') return undefined;
  const kept = outcome?.responseReasoning;
  return kept?.reasoning_content || kept?.reasoning || undefined;
}
