/**
 * Search over the fake's vector stores: `POST /vector_stores/{id}/search` and `POST /v1/responses` with
 * `file_search` tools. A chunk is a non-blank line of an attached file, scored by the share of query words it holds.
 */
import { fileSearchResponse, fileSearchStreamEvents, type FileSearchHit } from './openai-responses.ts';
import { type Answer, type Call, type FakeFile, invalid, isRecord, missing, now, unrecognized } from './openai-batches-wire.ts';
import type { FakeStore } from './openai-vector-stores.ts';

const SEARCH_FIELDS = new Set(['query', 'filters', 'max_num_results', 'ranking_options', 'rewrite_query']);

export function searchStore(store: FakeStore, files: Map<string, FakeFile>, call: Call): Answer {
  const body = call.json;
  if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
  const unknown = Object.keys(body).find((name) => !SEARCH_FIELDS.has(name));
  if (unknown) return unrecognized(unknown);
  if (body.query === undefined) return missing('query');
  const queries = [body.query].flat().map(String);
  const max = body.max_num_results === undefined ? 10 : Number(body.max_num_results);
  if (!Number.isInteger(max) || max < 1 || max > 50) return invalid("Invalid 'max_num_results': expected an integer between 1 and 50.", 'max_num_results');
  const results = hitsIn(store, files, queries.join(' ')).slice(0, max).map(({ text, ...hit }) => ({ ...hit, content: [{ type: 'text', text }] }));
  return { status: 200, body: { object: 'vector_store.search_results.page', search_query: queries, data: results, has_more: false, next_page: null } };
}

/** Each line of the store's files holding words of the query, best first. */
function hitsIn(store: FakeStore, files: Map<string, FakeFile>, query: string): FileSearchHit[] {
  const words = query.toLowerCase().split(/\W+/).filter(Boolean);
  store.last_active_at = now();
  return [...store.files.values()].flatMap((attached) => {
    const file = files.get(attached.id);
    if (!file) return [];
    return file.content.toString('utf8').split('\n').filter((line) => line.trim()).map((text) => {
      const score = words.length ? words.filter((w) => text.toLowerCase().includes(w)).length / words.length : 0;
      return { file_id: file.id, filename: file.filename, score, attributes: attached.attributes, text };
    });
  }).filter((r) => r.score > 0).sort((a, b) => b.score - a.score);
}

export function respondFromStores(stores: Map<string, FakeStore>, files: Map<string, FakeFile>, call: Call): Answer {
  const body = call.json;
  if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
  if (typeof body.model !== 'string') return missing('model');
  if (typeof body.input !== 'string') return invalid("The fake answers a string 'input' only.", 'input');
  const tools = Array.isArray(body.tools) ? body.tools : [];
  const named = tools.filter((t) => isRecord(t) && t.type === 'file_search').flatMap((t) => (t as { vector_store_ids?: unknown }).vector_store_ids ?? []);
  if (!named.length) return invalid('The fake answers file_search calls only.', 'tools');
  const searched: FakeStore[] = [];
  for (const id of named as unknown[]) {
    const store = typeof id === 'string' ? stores.get(id) : undefined;
    if (store?.prefix !== call.prefix) return invalid(`Vector store with id '${String(id)}' not found.`, 'tools', null, 404);
    searched.push(store);
  }
  const hits = searched.flatMap((store) => hitsIn(store, files, body.input as string)).sort((a, b) => b.score - a.score).slice(0, 10);
  const response = fileSearchResponse({ model: body.model, input: body.input, tools, include: body.include, previous_response_id: body.previous_response_id }, hits);
  if (body.stream !== true) return { status: 200, body: response };
  return { status: 200, body: Buffer.from(fileSearchStreamEvents(response)), headers: { 'content-type': 'text/event-stream' } };
}
