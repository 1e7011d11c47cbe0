/**
 * A fake model for the web search interception suite (test/websearch-interception.test.ts), on OpenAI's chat wire,
 * Anthropic's Messages wire (`/v1/messages`) and the Responses wire (websearch-responses-model.ts): offered
 * `litellm_web_search` it calls it with a query made from the question (the `always-search` model on every turn, a
 * new query each time, `repeat-search` the same query every turn, `many-search` seven times at once), and with a tool result in the conversation it answers by quoting the result's first line; `call-own` calls the client's own
 * `web_search` tool; `slow-answer` takes 1.5 s over its answer from the results.
 */
import type { ServerResponse } from 'node:http';
import { openaiChatCompletion } from './openai-format.ts';
import type { RecordedRequest } from './upstream.ts';
import { sendJson } from './upstream-wire.ts';
import { answerAsResponsesModel } from './websearch-responses-model.ts';

type Json = Record<string, any>;
let sequence = 0;

/**
 * The model: with a tool result in the conversation it answers from it (quoting the result's first line); offered
 * litellm_web_search it calls it (the `always-search` model every time); else it answers plainly.
 */
export function answerAsModel(request: RecordedRequest, res: ServerResponse): void {
  if (request.path === '/v1/messages') return answerAsClaude(request, res);
  if (request.path === '/v1/responses') return answerAsResponsesModel(request, res);
  const body = request.body as Json;
  const messages = body.messages as Json[];
  const last = messages[messages.length - 1]!;
  const offered = (body.tools ?? []).some((t: Json) => t.function?.name === 'litellm_web_search');
  const base = { model: body.model, promptTokens: 20, completionTokens: 10 };
  const question = String(messages.find((m) => m.role === 'user')?.content ?? '');
  // `call-own` calls the client's own `web_search` function (its schema's `q`), never the gateway's tool.
  if (body.model === 'call-own') {
    sendJson(res, 200, openaiChatCompletion({ ...base, content: null, toolCalls: [{ name: 'web_search', arguments: JSON.stringify({ q: question }) }] }));
    return;
  }
  // `many-search` asks for seven searches in its first turn.
  if (offered && body.model === 'many-search' && last.role !== 'tool') {
    const toolCalls = Array.from({ length: 7 }, (_, i) => ({ name: 'litellm_web_search', arguments: JSON.stringify({ query: `${question} ${i + 1}` }) }));
    sendJson(res, 200, openaiChatCompletion({ ...base, content: null, toolCalls }));
    return;
  }
  if (offered && (body.model === 'always-search' || body.model === 'repeat-search' || last.role !== 'tool')) {
    // `always-search` asks something new each turn; `repeat-search` the same again.
    const round = body.model === 'always-search' ? messages.filter((m) => m.role === 'tool').length : 0;
    const query = `news about ${question}${round ? ` (${round + 1})` : ''}`;
    sendJson(res, 200, openaiChatCompletion({ ...base, content: null, toolCalls: [{ name: 'litellm_web_search', arguments: JSON.stringify({ query }) }] }));
    return;
  }
  const said = last.role === 'tool' ? `From the web: ${String(last.content).split('\n')[0]}` : 'plain answer';
  // `slow-answer` takes 1.5 s over its answer from the results (a client can leave mid-loop).
  const delay = body.model === 'slow-answer' && last.role === 'tool' ? 1_500 : 0;
  setTimeout(() => sendJson(res, 200, openaiChatCompletion({ ...base, content: said })), delay);
}

/** The same model on Anthropic's Messages wire: a `tool_use` of litellm_web_search first, text from the `tool_result` second. */
function answerAsClaude(request: RecordedRequest, res: ServerResponse): void {
  const body = request.body as Json;
  const messages = body.messages as Json[];
  const last = messages[messages.length - 1]!;
  const result = Array.isArray(last.content) ? last.content.find((b: Json) => b.type === 'tool_result') : undefined;
  const head = { id: `msg_${++sequence}`, type: 'message', role: 'assistant', model: body.model, stop_sequence: null, usage: { input_tokens: 30, output_tokens: 12 } };
  if (!result && (body.tools ?? []).some((t: Json) => t.name === 'litellm_web_search')) {
    const first = messages[0]!.content;
    const question = Array.isArray(first) ? first.map((b: Json) => b.text ?? '').join('') : String(first);
    sendJson(res, 200, { ...head, stop_reason: 'tool_use', content: [
      { type: 'text', text: 'Let me look that up.' },
      { type: 'tool_use', id: 'toolu_01', name: 'litellm_web_search', input: { query: `news about ${question}` } },
    ] });
    return;
  }
  const text = result ? `From the web: ${String(result.content).split('\n')[0]}` : 'plain answer';
  sendJson(res, 200, { ...head, stop_reason: 'end_turn', content: [{ type: 'text', text }] });
}
