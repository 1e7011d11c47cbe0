import { estimateTokens } from '../../providers/openai-compatible/usage.ts';
import type { MessagesRequest } from './request-schema.ts';

type Json = Record<string, unknown>;

/**
 * An image or a document, whatever its size: Anthropic bills an image at
 * about width × height / 750 tokens, at most about 1,600 for the 1.15
 * megapixels it resizes to; the dimensions are not known here.
 */
const MEDIA_BLOCK_TOKENS = 1_600;

/**
 * `/v1/messages/count_tokens`: an estimate, about four characters a token
 * over the text the model reads (system, messages, tool calls and results,
 * tool definitions), as the gateway estimates prompts elsewhere.
 */
export function estimateInputTokens(request: Pick<MessagesRequest, 'system' | 'messages' | 'tools'>): number {
  let chars = 0;
  let media = 0;
  const visit = (content: unknown) => {
    if (typeof content === 'string') {
      chars += content.length;
      return;
    }
    if (!Array.isArray(content)) return;
    for (const block of content as Json[]) {
      if (typeof block.text === 'string') chars += block.text.length;
      if (typeof block.thinking === 'string') chars += block.thinking.length;
      if (block.type === 'tool_use') chars += String(block.name ?? '').length + JSON.stringify(block.input ?? {}).length;
      if (block.type === 'tool_result') visit(block.content);
      if (block.type === 'image' || block.type === 'document') media += 1;
    }
  };
  visit(request.system);
  for (const message of request.messages) visit(message.content);
  for (const tool of request.tools ?? []) chars += JSON.stringify(tool).length;
  return estimateTokens(chars) + media * MEDIA_BLOCK_TOKENS;
}
