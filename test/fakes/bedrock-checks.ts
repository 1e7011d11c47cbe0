/**
 * What Bedrock's Converse API refuses before answering (a 400 `ValidationException` with its messages), so
 * the fake refuses what the real API would.
 */
type Json = Record<string, unknown>;

/** The message of Converse's refusal of this body, or undefined when it would be answered. */
export function converseRefusal(body: Json): string | undefined {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  if (messages[0]?.role !== 'user') return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  for (const [i, m] of messages.entries()) {
    if (i > 0 && messages[i - 1]!.role === m.role) {
      return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
    }
    const blocks = Array.isArray(m.content) ? (m.content as Json[]) : [];
    for (const [j, b] of blocks.entries()) {
      if (typeof b.text === 'string' && !b.text.trim()) return `The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`;
    }
    if (blocks.some((b) => 'toolResult' in b) && blocks.some((b) => 'text' in b)) {
      return 'messages.' + i + ': conversation blocks and tool result blocks cannot be provided in the same turn.';
    }
  }
  const tools = messages.some((m) => Array.isArray(m.content) && (m.content as Json[]).some((b) => 'toolUse' in b || 'toolResult' in b));
  if (tools && !(body.toolConfig as Json | undefined)?.tools) return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  return undefined;
}
