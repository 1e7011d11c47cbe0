import type { ChatMessage } from '../../openai/chat-request.ts';

/** About four characters a token for English text: the mock provider's stand-in for a tokenizer. */
export function estimateTokens(text: string): number {
  return text ? Math.max(1, Math.ceil(text.length / 4)) : 0;
}

export function messageText(messages: readonly ChatMessage[]): string {
  return messages
    .map((m) => (typeof m.content === 'string'
      ? m.content
      : Array.isArray(m.content) ? m.content.map((p) => (typeof p.text === 'string' ? p.text : '')).join(' ') : ''))
    .join('\n');
}
