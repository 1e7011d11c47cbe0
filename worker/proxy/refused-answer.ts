import type { CallOutcome } from '../providers/types.ts';

/**
 * The outcome of an answer the client never got (a guardrail refused it, it was past `max_response_size_mb`): its
 * usage and timing, for what it cost, and nothing of what it said (text, tool calls, reasoning) for the logs.
 */
export const refusedOutcome = (outcome: CallOutcome): CallOutcome => ({ ...outcome, responseText: undefined, responseToolCalls: undefined, responseReasoning: undefined });
