/**
 * `litellm_settings.modify_params` for Anthropic's Messages API (anthropic/, Claude on Vertex): the rewrites
 * LiteLLM's `anthropic_messages_pt` and `sanitize_messages_for_tool_calling` make, on the OpenAI body before
 * it is translated. Anthropic refuses a conversation that does not open with a user turn, blank text blocks,
 * a `tool_use` without its `tool_result` in the next turn (or the reverse), and tool blocks without `tools`.
 */
import {
  blankContent, CONTINUE_TEXT, filledContent, isSystem, messagesOf, toolCallsOf, withDummyTool,
} from './messages.ts';

type Json = Record<string, unknown>;

/** LiteLLM's placeholder for blank user and assistant text. */
export const EMPTY_CONTENT_PLACEHOLDER = '[System: Empty message content sanitised to satisfy protocol]';

/** LiteLLM's tool result for a call the history never answered. */
export const skippedToolResult = (name: string): string => `[System: Tool execution skipped/interrupted by user. No result provided for tool '${name}'.]`;

/** The body as LiteLLM sends it to Anthropic under `modify_params`; unchanged when nothing needs changing. */
export function modifiedForAnthropic(body: Json): Json {
  let messages = sanitizedToolHistory(messagesOf(body)).map(withoutBlankText);
  const firstTurn = messages.findIndex((m) => !isSystem(m));
  // No turn at all: LiteLLM adds its user continue message; a first turn not the user's: a "." user turn before it.
  if (firstTurn < 0) messages = [...messages, { role: 'user', content: CONTINUE_TEXT }];
  else if (messages[firstTurn]!.role !== 'user' && messages[firstTurn]!.role !== 'tool') {
    messages = [...messages.slice(0, firstTurn), { role: 'user', content: '.' }, ...messages.slice(firstTurn)];
  }
  let out: Json = { ...body, messages };
  out = withDummyTool(out, messages);
  return thinkingDroppable(out, messages) ? withoutThinking(out) : out;
}

/** Case C: blank user or assistant text as the placeholder (an assistant's blank text beside tool calls is left out anyway). */
function withoutBlankText(m: Json): Json {
  if (m.role !== 'user' && m.role !== 'assistant') return m;
  if (m.role === 'assistant' && toolCallsOf(m).length) return m;
  if (!blankContent(m.content) && !(Array.isArray(m.content) && m.content.some((p) => blankContent([p])))) return m;
  return { ...m, content: filledContent(m.content, EMPTY_CONTENT_PLACEHOLDER) };
}

/**
 * Cases A, B and D of LiteLLM's `sanitize_messages_for_tool_calling`: each tool call answered (a skipped
 * result for one that is not), results answering no call of the turn before dropped, and of two results for
 * one call within a turn only the last kept.
 */
function sanitizedToolHistory(messages: Json[]): Json[] {
  const out: Json[] = [];
  let i = 0;
  while (i < messages.length) {
    const m = messages[i]!;
    const calls = toolCallsOf(m);
    if (calls.length) {
      let j = i + 1;
      const results: Json[] = [];
      while (j < messages.length && messages[j]!.role === 'tool') results.push(messages[j++]!);
      const callIds = new Set(calls.map((c) => c.id));
      const answered = new Set(results.map((r) => r.tool_call_id));
      // Case D: the last result of a call wins; Case B: a result for no call of this turn is dropped.
      const kept = results.filter((r, k) => callIds.has(r.tool_call_id) && !results.slice(k + 1).some((later) => later.tool_call_id === r.tool_call_id));
      const skipped = calls.filter((c) => !answered.has(c.id)).map((c) => ({
        role: 'tool', tool_call_id: c.id, content: skippedToolResult(typeof (c.function as Json | undefined)?.name === 'string' ? String((c.function as Json).name) : 'unknown_tool'),
      }));
      out.push(m, ...kept, ...skipped);
      i = j;
      continue;
    }
    // Case B: a tool result that follows no tool call.
    if (m.role !== 'tool') out.push(m);
    i++;
  }
  return out;
}

/**
 * LiteLLM drops `thinking` when the last assistant turn with tool calls carries no thinking blocks and no
 * turn does: Anthropic refuses thinking on while such a turn lacks its signed thinking.
 */
function thinkingDroppable(body: Json, messages: readonly Json[]): boolean {
  if ((body.thinking === undefined || body.thinking === null) && typeof body.reasoning_effort !== 'string') return false;
  const withCalls = messages.filter((m) => toolCallsOf(m).length > 0);
  const hasThinking = (m: Json) => Array.isArray(m.thinking_blocks) && m.thinking_blocks.length > 0;
  return withCalls.length > 0 && !hasThinking(withCalls.at(-1)!) && !messages.some((m) => m.role === 'assistant' && hasThinking(m));
}

function withoutThinking(body: Json): Json {
  const { thinking: _thinking, reasoning_effort: _effort, ...rest } = body;
  return rest;
}
