/** The fake's echo rules (prompt token counts, answer words, streamed pieces), exported so tests can compute expected values. */

export function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

export function countWords(text: string): number {
  return words(text).length;
}

/** The text of a message's content: a string, or the text parts of a content array. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: { text?: unknown } | null) => (typeof p?.text === 'string' ? p.text : '')).filter(Boolean).join(' ');
  return '';
}

/** Echo rule: words in every message's content, plus 3 per message. */
export function chatPromptTokens(messages: readonly unknown[]): number {
  return messages.reduce<number>((sum, m) => sum + countWords(messageText((m as { content?: unknown } | null)?.content)) + 3, 0);
}

/** Echo rule: the answer's words, 'echo:' first, then the last user message; one streamed piece (and one token) per word. */
export function echoWords(messages: readonly unknown[]): string[] {
  const lastUser = [...messages].reverse().find((m) => (m as { role?: unknown } | null)?.role === 'user') as { content?: unknown } | undefined;
  return ['echo:', ...words(messageText(lastUser?.content))];
}

/** Streamed pieces of an answer: the first word bare, every later one with its leading space. */
export function piecesOf(answerWords: readonly string[]): string[] {
  return answerWords.map((w, i) => (i === 0 ? w : ` ${w}`));
}
