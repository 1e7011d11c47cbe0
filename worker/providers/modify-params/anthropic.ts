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
 * Cases A, B and D of LiteLLM's `sanitize_messages_for_tool_calling`. A: a turn with a call left unanswered
 * before the next assistant turn gets its results (wherever they were before that turn) moved up to it,
 * then a skipped result for each unanswered call; a turn fully answered is left as it is. B: a result for no
 * call of the last assistant turn is dropped. D: of two results for one call in a run of results, the last kept.
 * (LiteLLM, moving results up, also skips as many messages after the turn as it moved; here those are kept.)
 */
function sanitizedToolHistory(messages: Json[]): Json[] {
  const out: Json[] = [];
  const moved = new Set<number>();
  messages.forEach((m, i) => {
    if (moved.has(i)) return;
    const calls = toolCallsOf(m);
    if (calls.length) {
      const ids = new Set(calls.map((c) => c.id).filter((id) => typeof id === 'string' && id));
      const found: number[] = [];
      for (let j = i + 1; j < messages.length && messages[j]!.role !== 'assistant'; j++) {
        if (isToolResult(messages[j]!) && ids.has(messages[j]!.tool_call_id)) found.push(j);
      }
      const answered = new Set(found.map((j) => messages[j]!.tool_call_id));
      const skipped = calls.filter((c) => ids.has(c.id) && !answered.has(c.id)).map((c) => ({
        role: 'tool', tool_call_id: c.id, content: skippedToolResult(typeof (c.function as Json | undefined)?.name === 'string' ? String((c.function as Json).name) : 'unknown_tool'),
      }));
      if (!skipped.length) {
        out.push(m);
        return;
      }
      for (const j of found) moved.add(j);
      out.push(m, ...found.map((j) => messages[j]!), ...skipped);
      return;
    }
    if (!orphanResult(m, out)) out.push(m);
  });
  return withoutRepeatedResults(out);
}

const isToolResult = (m: Json): boolean => m.role === 'tool' || m.role === 'function';

/** Case B: a result whose call id the last assistant turn (or no turn at all) did not make. */
function orphanResult(m: Json, before: readonly Json[]): boolean {
  if (!isToolResult(m) || !m.tool_call_id) return false;
  const turn = before.findLast((p) => p.role === 'assistant');
  return !turn || !toolCallsOf(turn).some((c) => c.id === m.tool_call_id);
}

/** Case D: within a run of results, only the last for each call id. */
function withoutRepeatedResults(messages: Json[]): Json[] {
  const dropped = new Set<number>();
  let seen = new Map<unknown, number>();
  messages.forEach((m, i) => {
    if (!isToolResult(m)) seen = new Map();
    else if (typeof m.tool_call_id === 'string' && m.tool_call_id) {
      const earlier = seen.get(m.tool_call_id);
      if (earlier !== undefined) dropped.add(earlier);
      seen.set(m.tool_call_id, i);
    }
  });
  return dropped.size ? messages.filter((_, i) => !dropped.has(i)) : messages;
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
