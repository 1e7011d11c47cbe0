import type { AnswerToolCall } from '../types.ts';
import { mapStopReason } from './finish-reason.ts';
import type { AnthropicContentBlock, AnthropicMessage } from './schemas.ts';
import { type AnthropicTokenCounts, mergeUsage, NO_TOKENS, openAIUsage } from './usage.ts';
import { RESPONSE_FORMAT_TOOL_NAME } from './convert-tools.ts';

type Json = Record<string, unknown>;

export interface ResponseOptions {
  jsonMode: boolean;
  unwrapValues: boolean;
  /** Seconds since the epoch (OpenAI's `created`). */
  created: number;
}

export interface ChatCompletionJson {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: Json; finish_reason: string }[];
  usage: ReturnType<typeof openAIUsage>;
}

export interface ConvertedResponse {
  completion: ChatCompletionJson;
  tokens: AnthropicTokenCounts;
  /** The answer's text, and the tool calls the client got (none in JSON mode, where the forced tool's input is the text): for the logs that keep them. */
  text: string;
  toolCalls: AnswerToolCall[];
}

/**
 * A Messages API answer as an OpenAI chat completion: text blocks joined
 * into `content` (null when there is none, as OpenAI sends it), `tool_use`
 * blocks as `tool_calls` with their input as JSON text, thinking as
 * LiteLLM's `reasoning_content` and `thinking_blocks`. In JSON mode the
 * forced tool's input is the content and the finish reason `stop`. A stop
 * sequence that ended the answer is kept in `provider_specific_fields`.
 */
export function toOpenAIChatCompletion(message: AnthropicMessage, options: ResponseOptions): ConvertedResponse {
  let text = '';
  const toolCalls: AnswerToolCall[] = [];
  const thinking: Json[] = [];
  for (const block of message.content) {
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_use') toolCalls.push(toolCall(block));
    else if (block.type === 'thinking') thinking.push({ type: 'thinking', thinking: block.thinking ?? '', signature: block.signature ?? '' });
    else if (block.type === 'redacted_thinking') thinking.push({ type: 'redacted_thinking', data: block.data ?? '' });
  }
  let finishReason = mapStopReason(message.stop_reason) ?? 'stop';
  const jsonCall = options.jsonMode && toolCalls.length === 1 ? jsonAnswer(toolCalls[0], options.unwrapValues) : undefined;
  const chatMessage: Json = { role: 'assistant', content: jsonCall ?? (text || null) };
  if (jsonCall !== undefined) finishReason = 'stop';
  else if (toolCalls.length) chatMessage.tool_calls = toolCalls;
  if (thinking.length) {
    chatMessage.reasoning_content = thinking.map((b) => (typeof b.thinking === 'string' ? b.thinking : '')).join('');
    chatMessage.thinking_blocks = thinking;
  }
  if (message.stop_reason === 'stop_sequence' && message.stop_sequence) {
    chatMessage.provider_specific_fields = { stop_sequence: message.stop_sequence };
  }
  const tokens = mergeUsage(NO_TOKENS, message.usage);
  const completion: ChatCompletionJson = {
    id: message.id,
    object: 'chat.completion',
    created: options.created,
    model: message.model,
    choices: [{ index: 0, message: chatMessage, finish_reason: finishReason }],
    usage: openAIUsage(tokens),
  };
  return { completion, tokens, text: jsonCall ?? text, toolCalls: jsonCall !== undefined ? [] : toolCalls };
}

function toolCall(block: AnthropicContentBlock): AnswerToolCall {
  return {
    id: block.id ?? '',
    type: 'function',
    function: { name: block.name ?? '', arguments: JSON.stringify(block.input ?? {}) },
  };
}

/** The forced JSON tool's arguments, as the answer's content; undefined when the model called another tool. */
function jsonAnswer(call: AnswerToolCall | undefined, unwrapValues: boolean): string | undefined {
  const fn = call?.function;
  if (fn?.name !== RESPONSE_FORMAT_TOOL_NAME) return undefined;
  if (!unwrapValues) return fn.arguments;
  const parsed = JSON.parse(fn.arguments) as unknown;
  const values = typeof parsed === 'object' && parsed !== null ? (parsed as Json).values : undefined;
  return values !== undefined ? JSON.stringify(values) : fn.arguments;
}
