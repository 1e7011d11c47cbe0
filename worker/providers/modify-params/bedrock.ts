/**
 * `litellm_settings.modify_params` for Bedrock's Converse API: the rewrites LiteLLM's
 * `_bedrock_converse_messages_pt` makes, on the OpenAI body before it is translated. Converse refuses a
 * conversation that does not start (or, for most models, end) with a user turn, blank text, user text and
 * tool results in one turn, and tool blocks without a `toolConfig`.
 */
import { blankContent, CONTINUE_TEXT, filledContent, isSystem, messagesOf, toolCallsOf, withDummyTool } from './messages.ts';

type Json = Record<string, unknown>;

const USER_CONTINUE = { role: 'user', content: CONTINUE_TEXT };
const ASSISTANT_CONTINUE = { role: 'assistant', content: CONTINUE_TEXT };

/** The body as LiteLLM sends it to Bedrock under `modify_params`. */
export function modifiedForBedrock(body: Json): Json {
  const system = messagesOf(body).filter(isSystem);
  let turns = messagesOf(body).filter((m) => !isSystem(m)).map(filledBlank);
  // LiteLLM's `_initial_message_setup`: an assistant first or last gets the user continue message beside it.
  if (turns[0]?.role === 'assistant') turns = [USER_CONTINUE, ...turns];
  if (turns.at(-1)?.role === 'assistant') turns = [...turns, USER_CONTINUE];
  if (!turns.length) turns = [USER_CONTINUE];
  // User text next to tool results would share a turn, which Converse refuses: an assistant continue message parts them.
  const parted: Json[] = [];
  for (const m of turns) {
    const last = parted.at(-1);
    if (last && ((last.role === 'user' && m.role === 'tool') || (last.role === 'tool' && m.role === 'user'))) parted.push(ASSISTANT_CONTINUE);
    parted.push(m);
  }
  return withDummyTool({ ...body, messages: [...system, ...parted] }, parted);
}

/** Blank user text, and a blank assistant turn without tool calls, as the continue message (LiteLLM's). */
function filledBlank(m: Json): Json {
  if (m.role === 'user' && (blankContent(m.content) || (Array.isArray(m.content) && m.content.some((p) => blankContent([p]))))) {
    return { ...m, content: filledContent(m.content, CONTINUE_TEXT) };
  }
  if (m.role === 'assistant' && !toolCallsOf(m).length && blankContent(m.content)) return { ...m, content: CONTINUE_TEXT };
  return m;
}
