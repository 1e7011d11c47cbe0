import { chatChunks, chatCompletion, textCompletion, textCompletionChunks } from '../providers/mock/mock-format.ts';
import { itemId, messageItem, newShell, responseObject, responsesUsage } from '../providers/responses-bridge/to-response.ts';
import type { Endpoint, ProviderAnswer, UsageReport } from '../providers/types.ts';

// The endpoints whose request a guardrail's text may answer, each in its own format (guardrailReply).
const ANSWERABLE: ReadonlySet<Endpoint> = new Set(['chat', 'completion', 'responses']);
/** What a guardrail-answered call used of a model: nothing (LiteLLM reports zero usage for a pre-call block). */
const NO_USAGE: UsageReport = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: true };
/** Why a guardrail-answered choice ended, as LiteLLM says it of a guardrail's blocked response. */
export const GUARDRAIL_FINISH = 'content_filter';

/** Whether a request of this endpoint can be answered with a guardrail's text (else it is refused with the 400). */
export function answerable(endpoint: Endpoint): boolean {
  return ANSWERABLE.has(endpoint);
}

/**
 * A request a guardrail answered (pre_call, `disable_exception_on_block`): the guardrail's text as the model's
 * answer in the endpoint's own format, plain or streamed, no provider called, zero usage, as LiteLLM answers
 * its ModifyResponseException. A Responses request is answered as a completed response object (its events when
 * streamed) without the chat bridge, so what the bridge refuses (previous_response_id, tools, files) is no bar.
 */
export function guardrailReply(endpoint: Endpoint, body: Record<string, unknown>, text: string, stream: boolean, keepText: boolean): ProviderAnswer {
  const model = typeof body.model === 'string' ? body.model : '';
  const outcome = Promise.resolve({ usage: NO_USAGE, finishedAt: Date.now(), ...(stream ? { firstChunkAt: Date.now() } : {}), ...(keepText ? { responseText: text } : {}) });
  const answer = (json: unknown, events?: string[]): ProviderAnswer => ({
    status: 200, contentType: events ? 'text/event-stream' : 'application/json', outcome, apiBase: '',
    body: events ? streamOf(events) : JSON.stringify(json),
  });
  if (endpoint === 'responses') return responsesReply(body, model, text, stream, answer);
  const id = `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${crypto.randomUUID()}`;
  if (!stream) {
    const json = endpoint === 'chat' ? chatCompletion(id, model, text, NO_USAGE, GUARDRAIL_FINISH) : textCompletion(id, model, text, NO_USAGE, GUARDRAIL_FINISH);
    return answer(json);
  }
  const usage = (body.stream_options as { include_usage?: unknown } | null | undefined)?.include_usage === true ? NO_USAGE : undefined;
  const chunks = endpoint === 'chat' ? chatChunks(id, model, text, usage, GUARDRAIL_FINISH) : textCompletionChunks(id, model, text, usage, GUARDRAIL_FINISH);
  return answer(undefined, [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n']);
}

/** A Responses request answered: one completed message item holding the text; streamed, the Responses API's event sequence. */
function responsesReply(
  body: Record<string, unknown>, model: string, text: string, stream: boolean, answer: (json: unknown, events?: string[]) => ProviderAnswer,
): ProviderAnswer {
  const shell = newShell(body);
  const id = itemId('msg');
  const usage = responsesUsage({ prompt_tokens: 0, completion_tokens: 0 });
  const done = responseObject(shell, model, 'completed', [messageItem(id, text)], usage);
  if (!stream) return answer(done);
  let sequence = 0;
  const sse = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`;
  const started = responseObject(shell, model, 'in_progress', [], null);
  const at = { item_id: id, output_index: 0, content_index: 0 };
  const part = { type: 'output_text', text, annotations: [] };
  return answer(undefined, [
    sse('response.created', { response: started }),
    sse('response.in_progress', { response: started }),
    sse('response.output_item.added', { output_index: 0, item: messageItem(id, '', 'in_progress') }),
    sse('response.content_part.added', { ...at, part: { ...part, text: '' } }),
    sse('response.output_text.delta', { ...at, delta: text, logprobs: [] }),
    sse('response.output_text.done', { ...at, text, logprobs: [] }),
    sse('response.content_part.done', { ...at, part }),
    sse('response.output_item.done', { output_index: 0, item: messageItem(id, text) }),
    sse('response.completed', { response: done }),
  ]);
}

function streamOf(lines: string[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(lines.join(''));
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}
