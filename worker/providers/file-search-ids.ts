/**
 * The ids in a Responses API answer to a call with `file_search` tools, as the caller is to see them: the
 * stores the response echoes in `tools` by the ids the client named them by, and files signed for the
 * caller. A virtual key is given a file only as this response's searches found it (a `file_search_call`'s
 * results) over the stores it named: a `file_citation` may name any file the model has in context (an
 * earlier turn's, a stored prompt's store's, one in client-written input), so a citation of any other
 * file loses its `file_id`. A store the client did not name (a stored prompt's) is left out of the echo,
 * and then no file found is known to be the key's: every `file_id` is dropped rather than signed. The
 * master key may read any file: every file id is signed. Objects are changed in place.
 */
export interface FileSearchIds {
  /** The provider's id of each store the request named → the client's. */
  storeIds: ReadonlyMap<string, string>;
  /** Whether every store the model may search is one the caller named (so every file found is the caller's). */
  filesKnown: boolean;
  /** The master key: every file the answer names is signed, found by this call's searches or not. */
  everyFile: boolean;
  /** The gateway, not the client, asked for the searches' results (`include`): taken out of the answer again. */
  hideResults: boolean;
  /** The caller's id of a file found in its stores. */
  fileId(upstreamId: string): string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The stream events that carry ids to rewrite: the whole response, an output item, a content part, an annotation. */
export const FILE_SEARCH_EVENTS: ReadonlySet<string> = new Set([
  'response.created', 'response.queued', 'response.in_progress', 'response.completed', 'response.incomplete', 'response.failed',
  'response.output_item.added', 'response.output_item.done', 'response.content_part.added', 'response.content_part.done',
  'response.output_text.annotation.added',
]);

/** Where file ids sit in an output (or input) item: a file_search_call's results, a message's file citations. */
function eachFileHolder(item: unknown, onResult: (result: Record<string, unknown>) => void, onCitation: (annotation: Record<string, unknown>) => void): void {
  if (!isRecord(item)) return;
  if (item.type === 'file_search_call' && Array.isArray(item.results)) {
    for (const result of item.results) if (isRecord(result)) onResult(result);
  } else if (item.type === 'message' && Array.isArray(item.content)) {
    for (const content of item.content) eachCitation(content, onCitation);
  }
}

function eachCitation(part: unknown, onCitation: (annotation: Record<string, unknown>) => void): void {
  if (!isRecord(part) || !Array.isArray(part.annotations)) return;
  for (const annotation of part.annotations) if (isRecord(annotation) && annotation.type === 'file_citation') onCitation(annotation);
}

/**
 * One answer's (or one stream's) rewriter. The files found are collected before any citation is looked
 * at: a whole response's search items first, and in a stream the search item's `output_item.done` comes
 * before the annotations; a citation of a file not (yet) found loses its id. A stream's first event
 * echoing an unnamed store makes later files unknown too.
 */
export function fileSearchRewriter(ids: FileSearchIds): { response(response: unknown): void; event(event: Record<string, unknown>): void } {
  let known = ids.filesKnown;
  // The provider's ids of the files this response's searches found.
  const found = new Set<string>();
  const sign = (holder: Record<string, unknown>, mayHave: boolean) => {
    if (mayHave) holder.file_id = ids.fileId(holder.file_id as string);
    else delete holder.file_id;
  };
  const collect = (result: Record<string, unknown>) => {
    if (typeof result.file_id === 'string') found.add(result.file_id);
  };
  const result = (holder: Record<string, unknown>) => {
    if (typeof holder.file_id === 'string') sign(holder, ids.everyFile || known);
  };
  const citation = (holder: Record<string, unknown>) => {
    if (typeof holder.file_id === 'string') sign(holder, ids.everyFile || (known && found.has(holder.file_id)));
  };
  const item = (output: unknown) => {
    eachFileHolder(output, collect, () => undefined);
    if (ids.hideResults && isRecord(output) && output.type === 'file_search_call') {
      if (output.results) output.results = null;
      return;
    }
    eachFileHolder(output, result, citation);
  };
  const response = (whole: unknown) => {
    if (!isRecord(whole)) return;
    if (Array.isArray(whole.tools)) {
      for (const tool of whole.tools) {
        if (!isRecord(tool) || tool.type !== 'file_search' || !Array.isArray(tool.vector_store_ids)) continue;
        const named = tool.vector_store_ids.filter((id): id is string => typeof id === 'string' && ids.storeIds.has(id));
        if (named.length !== tool.vector_store_ids.length) known = false;
        tool.vector_store_ids = named.map((id) => ids.storeIds.get(id)!);
      }
    }
    if (!Array.isArray(whole.output)) return;
    for (const output of whole.output) eachFileHolder(output, collect, () => undefined);
    for (const output of whole.output) item(output);
  };
  return {
    response,
    event(event) {
      if (isRecord(event.response)) response(event.response);
      if (isRecord(event.item)) item(event.item);
      if (isRecord(event.part)) eachCitation(event.part, citation);
      if (isRecord(event.annotation) && event.annotation.type === 'file_citation') citation(event.annotation);
    },
  };
}

/**
 * A stored response (or its input items) read by a virtual key (routes/stored-responses.ts): the stores it
 * searched and the files found or cited are the provider's ids, and nothing the provider keeps says which
 * of them the key may have (a stored prompt's stores, an earlier turn's files), so none is signed here:
 * the `file_search` tools' stores and every `file_id` of results and citations are dropped. In place.
 */
export function withoutProviderFileSearchIds(body: unknown): void {
  if (!isRecord(body)) return;
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) if (isRecord(tool) && tool.type === 'file_search' && Array.isArray(tool.vector_store_ids)) tool.vector_store_ids = [];
  }
  const drop = (holder: Record<string, unknown>) => {
    delete holder.file_id;
  };
  for (const items of [body.output, body.data]) {
    if (Array.isArray(items)) for (const item of items) eachFileHolder(item, drop, drop);
  }
}
