/**
 * LiteLLM's `modify_params` rewrites of an OpenAI chat body, shared by the strict providers' adapters
 * (anthropic.ts, bedrock.ts beside this). Pure: each takes the body and returns it, or a changed copy.
 */
type Json = Record<string, unknown>;

/** LiteLLM's DEFAULT_USER_CONTINUE_MESSAGE / DEFAULT_ASSISTANT_CONTINUE_MESSAGE text. */
export const CONTINUE_TEXT = 'Please continue.';

/** LiteLLM's `add_dummy_tool`: offered when the history has tool calls and the request no tools. */
export const DUMMY_TOOL = {
  type: 'function',
  function: { name: 'dummy_tool', description: 'This is a dummy tool call', parameters: { type: 'object', properties: {} } },
} as const;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export const messagesOf = (body: Json): Json[] => (Array.isArray(body.messages) ? body.messages.filter(isObject) : []);

export const isSystem = (m: Json): boolean => m.role === 'system' || m.role === 'developer';

export const toolCallsOf = (m: Json): Json[] => (m.role === 'assistant' && Array.isArray(m.tool_calls) ? m.tool_calls.filter(isObject) : []);

/** LiteLLM's `has_tool_call_blocks`: an assistant tool call or a tool result anywhere in the history. */
export function hasToolCallBlocks(messages: readonly Json[]): boolean {
  return messages.some((m) => toolCallsOf(m).length > 0 || m.role === 'tool' || m.role === 'function');
}

/** The body with the dummy tool when its history calls tools and it offers none (LiteLLM's `add_dummy_tool`). */
export function withDummyTool(body: Json, messages: readonly Json[]): Json {
  const offered = Array.isArray(body.tools) && body.tools.length > 0;
  return offered || !hasToolCallBlocks(messages) ? body : { ...body, tools: [DUMMY_TOOL] };
}

/** Whether content is empty or whitespace only: a blank string, no parts, or text parts all blank. */
export function blankContent(content: unknown): boolean {
  if (content === null || content === undefined) return true;
  if (typeof content === 'string') return !content.trim();
  if (!Array.isArray(content)) return false;
  return content.every((p) => isObject(p) && p.type === 'text' && (typeof p.text !== 'string' || !p.text.trim()));
}

/** Content with each blank text part given `text` (a blank string becomes `text`); other parts kept. */
export function filledContent(content: unknown, text: string): unknown {
  if (typeof content === 'string' || content === null || content === undefined) return typeof content === 'string' && content.trim() ? content : text;
  if (!Array.isArray(content)) return content;
  if (!content.length) return text;
  return content.map((p) => (isObject(p) && p.type === 'text' && (typeof p.text !== 'string' || !p.text.trim()) ? { ...p, text } : p));
}
