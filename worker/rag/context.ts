/**
 * How `/rag/query` puts what a search found in front of the model and back to the client, as LiteLLM's
 * RAGQuery does: the query is the last message's text, the context one user message ("Context:" then each
 * chunk's text) placed just before it, and the search page rides on each choice's
 * `message.provider_specific_fields.search_results`.
 */

/** LiteLLM's prefix of the context message (RAGQuery.CONTENT_PREFIX_STRING). */
export const CONTEXT_PREFIX = 'Context:\n\n';

/** The text the last message holds (a string, or its first text part): what the store is searched for. */
export function queryText(messages: readonly Record<string, unknown>[]): string | undefined {
  const content = messages.at(-1)?.content;
  if (typeof content === 'string') return content.trim() ? content : undefined;
  if (!Array.isArray(content)) return undefined;
  for (const part of content) {
    if (part && typeof part === 'object' && (part as { type?: unknown }).type === 'text') {
      const text = (part as { text?: unknown }).text;
      if (typeof text === 'string' && text.trim()) return text;
    }
  }
  return undefined;
}

/** The user message holding each result's text, in the search's order. */
export function contextMessage(found: Record<string, unknown>): { role: 'user'; content: string } {
  let content = CONTEXT_PREFIX;
  for (const result of Array.isArray(found.data) ? found.data : []) {
    if (!result || typeof result !== 'object') continue;
    const parts = (result as { content?: unknown }).content;
    if (Array.isArray(parts)) {
      for (const part of parts) {
        const text = part && typeof part === 'object' ? (part as { text?: unknown }).text : undefined;
        if (typeof text === 'string' && text) content += `${text}\n\n`;
      }
    } else if (typeof (result as { text?: unknown }).text === 'string') {
      content += `${(result as { text: string }).text}\n\n`;
    }
  }
  return { role: 'user', content };
}

/**
 * A chat completion with the search page on each choice's message, and `x-litellm-response-cost` the
 * whole query's (the search's price and the chat's). A stream, or an answer that is not a chat completion,
 * keeps its body; where the chat's cost is not in its headers (a stream), the header is the search's alone.
 */
export async function groundedAnswer(answered: Response, found: Record<string, unknown>, searchCost: number, stream: boolean): Promise<Response> {
  const headers = new Headers(answered.headers);
  const chatCost = Number(headers.get('x-litellm-response-cost') ?? NaN);
  // A stream's header has no chat cost (known only at its end): it is then the search's alone.
  if (Number.isFinite(chatCost)) {
    if (searchCost > 0) headers.set('x-litellm-response-cost', String(chatCost + searchCost));
  } else {
    headers.set('x-litellm-response-cost', String(searchCost));
  }
  if (stream || !(headers.get('content-type') ?? '').includes('application/json')) {
    return new Response(answered.body, { status: answered.status, headers });
  }
  const completion = (await answered.json()) as { choices?: unknown };
  if (Array.isArray(completion.choices)) {
    for (const choice of completion.choices as { message?: Record<string, unknown> }[]) {
      const message = choice?.message;
      if (!message || typeof message !== 'object') continue;
      const fields = message.provider_specific_fields && typeof message.provider_specific_fields === 'object' ? message.provider_specific_fields : {};
      message.provider_specific_fields = { ...fields, search_results: found };
    }
  }
  headers.delete('content-length');
  return new Response(JSON.stringify(completion), { status: answered.status, headers });
}
