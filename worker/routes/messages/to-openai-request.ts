import type { MessagesRequest } from './request-schema.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fields of an Anthropic request that are translated; any other is carried over as it is. */
const TRANSLATED = new Set([
  'model', 'messages', 'system', 'max_tokens', 'stop_sequences', 'stream', 'temperature', 'top_p',
  'tools', 'tool_choice', 'metadata',
]);

export interface TranslationOptions {
  /**
   * Every deployment of the model group is Anthropic: Anthropic-only detail
   * the chat format has no field for (`cache_control`, tool results'
   * `is_error`, signed thinking blocks, content blocks such as `search_result`)
   * rides along in LiteLLM's extensions to it. Other providers would refuse it.
   */
  anthropicTarget: boolean;
}

/**
 * An Anthropic Messages request as an OpenAI chat body for handleModelCall:
 * `system` → a system message; tool_result blocks → tool messages (ahead of
 * the rest of their user turn); tool_use blocks → assistant `tool_calls`;
 * images → `image_url` (data: URLs for base64); `stop_sequences` → `stop`;
 * `metadata.user_id` → `user`; `tool_choice` any → required, tool → a named
 * function, `disable_parallel_tool_use` → `parallel_tool_calls: false`.
 * Anthropic fields the chat format shares (`top_k`, `thinking`) and
 * gateway fields (`tags`, `mock_response`) are carried over, so drop_params
 * decides about them as for any chat call. A stream always asks for usage.
 */
export function toOpenAIChatRequest(request: MessagesRequest, options: TranslationOptions): Json {
  const keep = options.anthropicTarget;
  const messages: Json[] = [];
  if (request.system !== undefined) {
    const system = systemMessage(request.system, keep);
    if (system) messages.push(system);
  }
  for (const m of request.messages) messages.push(...chatMessages(m, keep));

  const body: Json = { model: request.model, messages };
  if (request.max_tokens !== undefined) body.max_tokens = request.max_tokens;
  if (request.stop_sequences?.length) body.stop = request.stop_sequences;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.top_p !== undefined) body.top_p = request.top_p;
  if (request.tools?.length) body.tools = request.tools.map((tool) => chatTool(tool, keep));
  if (request.tool_choice) Object.assign(body, toolChoice(request.tool_choice));
  if (typeof request.metadata?.user_id === 'string' && request.metadata.user_id) body.user = request.metadata.user_id;
  if (request.stream) {
    body.stream = true;
    // message_delta reports usage, so the stream needs it whether the client would have asked or not.
    body.stream_options = { include_usage: true };
  }
  for (const [key, value] of Object.entries(request)) {
    if (!TRANSLATED.has(key) && value !== undefined) body[key] = value;
  }
  return body;
}

function systemMessage(system: string | Json[], keep: boolean): Json | undefined {
  if (typeof system === 'string') return system ? { role: 'system', content: system } : undefined;
  const parts = system.filter((b) => b.type === 'text' && typeof b.text === 'string').map((b) => textPart(b, keep));
  if (!parts.length) return undefined;
  // Only Anthropic needs the blocks (for cache_control); one string suits every provider.
  return { role: 'system', content: keep ? parts : parts.map((p) => p.text).join('\n\n') };
}

function textPart(block: Json, keep: boolean): Json {
  return keep && isObject(block.cache_control)
    ? { type: 'text', text: block.text, cache_control: block.cache_control }
    : { type: 'text', text: block.text };
}

function chatMessages(message: MessagesRequest['messages'][number], keep: boolean): Json[] {
  const { role, content } = message;
  if (typeof content === 'string') return [{ role, content }];
  if (role === 'assistant') return [assistantMessage(content, keep)];
  // A user turn: its tool results become tool messages, which must directly follow the assistant's tool calls.
  const out: Json[] = [];
  const parts: Json[] = [];
  for (const block of content) {
    if (block.type === 'tool_result') out.push(toolMessage(block, keep));
    else parts.push(contentPart(block, keep));
  }
  if (parts.length) out.push({ role, content: parts });
  return out;
}

function contentPart(block: Json, keep: boolean): Json {
  const cache = keep && isObject(block.cache_control) ? { cache_control: block.cache_control } : {};
  const source = isObject(block.source) ? block.source : {};
  if (block.type === 'text') return textPart(block, keep);
  if (block.type === 'image' && source.type === 'base64') {
    return { type: 'image_url', image_url: { url: `data:${String(source.media_type)};base64,${String(source.data)}` }, ...cache };
  }
  if (block.type === 'image' && source.type === 'url') return { type: 'image_url', image_url: { url: source.url }, ...cache };
  if (block.type === 'document' && source.type === 'base64') {
    return { type: 'file', file: { file_data: `data:${String(source.media_type)};base64,${String(source.data)}` }, ...cache };
  }
  if (block.type === 'document' && source.type === 'text' && !keep) return { type: 'text', text: source.data };
  // Anything else (search results, URL documents, file references) only Anthropic reads.
  return block;
}

function toolMessage(block: Json, keep: boolean): Json {
  const content = Array.isArray(block.content)
    ? (block.content as unknown[]).filter(isObject).map((b) => contentPart(b, keep))
    : typeof block.content === 'string' ? block.content : '';
  const message: Json = { role: 'tool', tool_call_id: block.tool_use_id, content };
  if (keep && block.is_error === true) message.is_error = true;
  return message;
}

function assistantMessage(content: Json[], keep: boolean): Json {
  const parts: Json[] = [];
  const toolCalls: Json[] = [];
  const thinking: Json[] = [];
  for (const block of content) {
    if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    } else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
      thinking.push(block);
    } else {
      parts.push(contentPart(block, keep));
    }
  }
  const plainText = parts.every((p) => p.type === 'text' && !p.cache_control);
  const text = parts.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
  const message: Json = { role: 'assistant', content: plainText ? (text || (toolCalls.length ? null : '')) : parts };
  if (toolCalls.length) message.tool_calls = toolCalls;
  if (keep && thinking.length) message.thinking_blocks = thinking;
  return message;
}

function chatTool(tool: Json, keep: boolean): Json {
  // Custom tools have no type (or "custom"); Anthropic's server tools (web_search_..., bash_...) pass as they are.
  if (tool.type !== undefined && tool.type !== 'custom') return tool;
  const fn: Json = { name: tool.name, parameters: tool.input_schema ?? { type: 'object', properties: {} } };
  if (typeof tool.description === 'string') fn.description = tool.description;
  const out: Json = { type: 'function', function: fn };
  if (keep && isObject(tool.cache_control)) out.cache_control = tool.cache_control;
  return out;
}

function toolChoice(choice: NonNullable<MessagesRequest['tool_choice']>): Json {
  const out: Json = {};
  if (choice.type === 'auto') out.tool_choice = 'auto';
  else if (choice.type === 'any') out.tool_choice = 'required';
  else if (choice.type === 'none') out.tool_choice = 'none';
  else out.tool_choice = { type: 'function', function: { name: choice.name } };
  if (choice.disable_parallel_tool_use === true && choice.type !== 'none') out.parallel_tool_calls = false;
  return out;
}
