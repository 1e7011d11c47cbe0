import { fakeId } from './openai-format.ts';

/**
 * OpenAI's Responses API on the wire (`POST /v1/responses`): the response
 * object and the typed SSE events of a streamed one, as api.openai.com sends
 * them (`event:` line, then `data:` with the same `type`).
 */

export function responsesUsage(inputTokens: number, outputTokens: number, cachedTokens = 0) {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: cachedTokens },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

function messageItem(id: string, text: string, status: 'in_progress' | 'completed') {
  return { id, type: 'message', status, role: 'assistant', content: status === 'completed' ? [{ type: 'output_text', text, annotations: [], logprobs: [] }] : [] };
}

/** A response object; `output` holds one assistant message with `text` (and usage once completed). */
export function responseObject(model: string, text: string, usage: ReturnType<typeof responsesUsage> | null, ids = { response: fakeId('resp_'), message: fakeId('msg_') }, status: 'in_progress' | 'completed' = 'completed') {
  return {
    id: ids.response,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model,
    output: status === 'completed' ? [messageItem(ids.message, text, 'completed')] : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: {},
  };
}

/** The SSE events of a streamed response whose text arrives in `pieces`, as `sse` behaviour strings. */
export function responseStreamEvents(model: string, pieces: string[], usage: ReturnType<typeof responsesUsage>): string[] {
  const ids = { response: fakeId('resp_'), message: fakeId('msg_') };
  const text = pieces.join('');
  let sequence = 0;
  const event = (type: string, fields: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`;
  const at = { item_id: ids.message, output_index: 0, content_index: 0 };
  return [
    event('response.created', { response: responseObject(model, '', null, ids, 'in_progress') }),
    event('response.in_progress', { response: responseObject(model, '', null, ids, 'in_progress') }),
    event('response.output_item.added', { output_index: 0, item: messageItem(ids.message, '', 'in_progress') }),
    event('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }),
    ...pieces.map((delta) => event('response.output_text.delta', { ...at, delta, logprobs: [] })),
    event('response.output_text.done', { ...at, text, logprobs: [] }),
    event('response.content_part.done', { ...at, part: { type: 'output_text', text, annotations: [], logprobs: [] } }),
    event('response.output_item.done', { output_index: 0, item: messageItem(ids.message, text, 'completed') }),
    event('response.completed', { response: responseObject(model, text, usage, ids) }),
  ];
}

/** One file_search result as the Responses API reports it (`include: ['file_search_call.results']`). */
export interface FileSearchHit {
  file_id: string;
  filename: string;
  score: number;
  text: string;
  attributes: Record<string, unknown>;
}

/** Each file_search response's best hit, by its id: a later turn (`previous_response_id`) still has it in context. */
const bestHitOf = new Map<string, FileSearchHit>();

/**
 * A response that searched vector stores: a `file_search_call` item (its results only when `include`
 * asked for them, else null, as OpenAI sends it), then a message quoting the best hit with a
 * `file_citation` annotation, and the request's `tools` echoed, as OpenAI's answers carry them. A follow-up
 * (`previous_response_id` of an earlier file_search response) also quotes and cites the earlier turn's
 * best file, which this response's searches did not find, as a model with it in context may.
 */
export function fileSearchResponse(body: { model: string; input: string; tools: unknown[]; include?: unknown; previous_response_id?: unknown }, hits: FileSearchHit[]) {
  const best = hits[0];
  const earlier = typeof body.previous_response_id === 'string' ? bestHitOf.get(body.previous_response_id) : undefined;
  const quoted = [best, earlier].filter((hit): hit is FileSearchHit => hit !== undefined);
  let text = '';
  const annotations = quoted.map((hit) => {
    text += `${text ? ' ' : ''}${hit.text} [${hit.filename}]`;
    return { type: 'file_citation', file_id: hit.file_id, filename: hit.filename, index: text.length };
  });
  if (!text) text = 'Nothing in the documents says.';
  const withResults = Array.isArray(body.include) && body.include.includes('file_search_call.results');
  const search = { id: fakeId('fs_'), type: 'file_search_call', status: 'completed', queries: [body.input], results: withResults ? hits : null };
  const message = { id: fakeId('msg_'), type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations, logprobs: [] }] };
  const response = {
    ...responseObject(body.model, text, responsesUsage(40, 12)), tools: body.tools, output: [search, message],
    previous_response_id: typeof body.previous_response_id === 'string' ? body.previous_response_id : null,
  };
  if (best) bestHitOf.set(response.id, best);
  return response;
}

/** The SSE events of a streamed file_search response (fileSearchResponse's), as one text. */
export function fileSearchStreamEvents(response: ReturnType<typeof fileSearchResponse>): string {
  const [search, message] = response.output as unknown as [Record<string, unknown>, { id: string; content: { text: string; annotations: unknown[] }[] }];
  const part = message.content[0]!;
  let sequence = 0;
  const event = (type: string, fields: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`;
  const pending = { ...response, status: 'in_progress', output: [], usage: null };
  const at = { item_id: message.id, output_index: 1, content_index: 0 };
  return [
    event('response.created', { response: pending }),
    event('response.in_progress', { response: pending }),
    event('response.output_item.added', { output_index: 0, item: { ...search, status: 'in_progress', results: null } }),
    event('response.file_search_call.in_progress', { output_index: 0, item_id: search.id }),
    event('response.file_search_call.searching', { output_index: 0, item_id: search.id }),
    event('response.file_search_call.completed', { output_index: 0, item_id: search.id }),
    event('response.output_item.done', { output_index: 0, item: search }),
    event('response.output_item.added', { output_index: 1, item: { ...message, status: 'in_progress', content: [] } }),
    event('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }),
    event('response.output_text.delta', { ...at, delta: part.text, logprobs: [] }),
    ...part.annotations.map((annotation, i) => event('response.output_text.annotation.added', { ...at, annotation_index: i, annotation })),
    event('response.output_text.done', { ...at, text: part.text, logprobs: [] }),
    event('response.content_part.done', { ...at, part }),
    event('response.output_item.done', { output_index: 1, item: message }),
    event('response.completed', { response }),
  ].join('');
}
