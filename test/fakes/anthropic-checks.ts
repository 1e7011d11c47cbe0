/**
 * What Anthropic's Messages API refuses before answering, with its 400 `invalid_request_error` messages, so
 * the fake refuses what the real API would (the rules of `litellm_settings.modify_params` are tested against it).
 */
type Json = Record<string, unknown>;

const blocksOf = (m: Json): Json[] => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? (m.content as Json[]) : []);

/** The message of Anthropic's refusal of this body, or undefined when it would be answered. */
export function anthropicRefusal(body: Json): string | undefined {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  if (!messages.length) return 'messages: at least one message is required';
  if (messages[0]!.role !== 'user') return 'messages: first message must use the "user" role';
  for (const [i, m] of messages.entries()) {
    const blocks = blocksOf(m);
    if (!blocks.length && !(i === messages.length - 1 && m.role === 'assistant')) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    for (const [j, b] of blocks.entries()) {
      if (b.type === 'text' && typeof b.text === 'string' && !b.text.trim()) return `messages.${i}.content.${j}: text content blocks must be non-empty`;
    }
  }
  const toolBlocks = messages.some((m) => blocksOf(m).some((b) => b.type === 'tool_use' || b.type === 'tool_result'));
  if (toolBlocks && !(Array.isArray(body.tools) && body.tools.length)) return 'Requests which include `tool_use` or `tool_result` blocks must define tools.';
  for (const [i, m] of messages.entries()) {
    const uses = blocksOf(m).filter((b) => b.type === 'tool_use').map((b) => String(b.id));
    const next = messages[i + 1];
    const results = next ? blocksOf(next).filter((b) => b.type === 'tool_result').map((b) => String(b.tool_use_id)) : [];
    const missing = uses.filter((id) => !results.includes(id));
    if (missing.length) {
      return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
    const prevUses = i > 0 ? blocksOf(messages[i - 1]!).filter((b) => b.type === 'tool_use').map((b) => String(b.id)) : [];
    const orphan = blocksOf(m).filter((b) => b.type === 'tool_result' && !prevUses.includes(String(b.tool_use_id)));
    if (orphan.length) {
      return `messages.${i}.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(orphan[0]!.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
    }
  }
  return undefined;
}
