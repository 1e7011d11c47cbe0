/**
 * OpenAI chat request → Bedrock Converse request (the same body serves
 * Converse and ConverseStream). Every model family on Bedrock (Anthropic,
 * Llama, Mistral, Nova, ...) takes this one format.
 */
import { badRequest } from '../../errors.ts';
import {
  contentText, functionTools, imageUrlOf, maxTokensOf, messagesOf, numberField, type OpenAIMessage, type OpenAIPart,
  parseDataUrl, stopSequences, toolArguments, toolChoiceOf, toolName,
} from './openai-request.ts';

/** What Bedrock chat deployments take from an OpenAI request; the rest is dropped or refused. */
export const CONVERSE_PARAMS: ReadonlySet<string> = new Set([
  'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop',
  'tools', 'tool_choice', 'user',
]);

export type ConverseBlock =
  | { text: string }
  | { image: { format: string; source: { bytes: string } } }
  | { toolUse: { toolUseId: string; name: string; input: Record<string, unknown> } }
  | { toolResult: { toolUseId: string; content: { text: string }[] } }
  | { cachePoint: { type: 'default' } };

export interface ConverseMessage {
  role: 'user' | 'assistant';
  content: ConverseBlock[];
}

export interface ConverseRequest {
  messages: ConverseMessage[];
  system?: ({ text: string } | { cachePoint: { type: 'default' } })[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools: { toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> } } }[]; toolChoice?: Record<string, unknown> };
}

const IMAGE_FORMATS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };
const CACHE_POINT = { cachePoint: { type: 'default' as const } };

export function toConverseRequest(body: Record<string, unknown>): ConverseRequest {
  const system: NonNullable<ConverseRequest['system']> = [];
  const messages: ConverseMessage[] = [];
  const push = (role: ConverseMessage['role'], blocks: ConverseBlock[]) => {
    if (!blocks.length) return;
    // Converse wants turns to alternate: consecutive messages of one role become one turn (tool results follow each other).
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const message of messagesOf(body)) {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...userBlocks(message).filter((b): b is { text: string } | typeof CACHE_POINT => 'text' in b || 'cachePoint' in b));
        break;
      case 'user':
        push('user', userBlocks(message));
        break;
      case 'assistant':
        push('assistant', assistantBlocks(message));
        break;
      case 'tool':
        push('user', [{ toolResult: { toolUseId: String(message.tool_call_id ?? ''), content: [{ text: contentText(message.content) }] } }]);
        break;
      default:
        throw badRequest('Bedrock does not take "function" messages; send tool messages with tool_call_id', 'messages');
    }
  }
  const request: ConverseRequest = { messages };
  if (system.length) request.system = system;
  const inference = inferenceConfig(body);
  if (inference) request.inferenceConfig = inference;
  const tools = toolConfig(body, messages);
  if (tools) request.toolConfig = tools;
  return request;
}

function userBlocks(message: OpenAIMessage): ConverseBlock[] {
  if (typeof message.content === 'string') return message.content ? [{ text: message.content }] : [];
  const blocks: ConverseBlock[] = [];
  for (const part of message.content ?? []) {
    if (part.type === 'text' && typeof part.text === 'string') {
      if (part.text) blocks.push({ text: part.text });
    } else if (part.type === 'image_url') {
      blocks.push(imageBlock(part));
    } else {
      throw badRequest(`Bedrock does not take content parts of type "${part.type}"`, 'messages');
    }
    // LiteLLM's prompt-caching marker on a part becomes a Converse cache point after it.
    if (part.cache_control) blocks.push(CACHE_POINT);
  }
  return blocks;
}

function imageBlock(part: OpenAIPart): ConverseBlock {
  const url = imageUrlOf(part);
  const inline = parseDataUrl(url);
  // Fetching a client-named URL from the gateway would let clients aim it anywhere: only inline images pass.
  if (!inline) throw badRequest('Bedrock takes images as base64 data URLs (data:image/png;base64,...)', 'messages');
  const format = IMAGE_FORMATS[inline.mimeType];
  if (!format) throw badRequest(`Bedrock does not take images of type ${inline.mimeType}; use png, jpeg, gif or webp`, 'messages');
  return { image: { format, source: { bytes: inline.data } } };
}

function assistantBlocks(message: OpenAIMessage): ConverseBlock[] {
  // Bedrock refuses blank text blocks, which clients send next to tool calls.
  const text = contentText(message.content);
  const blocks: ConverseBlock[] = text.trim() ? [{ text }] : [];
  for (const call of message.tool_calls ?? []) {
    blocks.push({ toolUse: { toolUseId: String(call.id ?? ''), name: toolName(call), input: toolArguments(call) } });
  }
  return blocks;
}

function inferenceConfig(body: Record<string, unknown>): ConverseRequest['inferenceConfig'] {
  const config: NonNullable<ConverseRequest['inferenceConfig']> = {};
  const maxTokens = maxTokensOf(body);
  if (maxTokens !== undefined) config.maxTokens = maxTokens;
  const temperature = numberField(body, 'temperature');
  if (temperature !== undefined) config.temperature = temperature;
  const topP = numberField(body, 'top_p');
  if (topP !== undefined) config.topP = topP;
  const stop = stopSequences(body);
  if (stop) config.stopSequences = stop;
  return Object.keys(config).length ? config : undefined;
}

function toolConfig(body: Record<string, unknown>, messages: ConverseMessage[]): ConverseRequest['toolConfig'] {
  const tools = functionTools(body).map((t) => ({
    toolSpec: {
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      inputSchema: { json: t.parameters ?? { type: 'object', properties: {} } },
    },
  }));
  if (!tools.length) return undefined;
  const choice = toolChoiceOf(body);
  if (choice?.kind === 'none') {
    // Converse has no "none": leave the tools out, unless the history uses them (Converse then requires their specs).
    const used = messages.some((m) => m.content.some((b) => 'toolUse' in b || 'toolResult' in b));
    return used ? { tools } : undefined;
  }
  if (choice?.kind === 'required') return { tools, toolChoice: { any: {} } };
  if (choice?.kind === 'function') return { tools, toolChoice: { tool: { name: choice.name } } };
  if (choice?.kind === 'auto') return { tools, toolChoice: { auto: {} } };
  return { tools };
}
