/**
 * The ids in a Responses API answer to a call with `file_search` tools, as the caller is to see them: the
 * stores the response echoes in `tools` by the ids the client named them by, and the files the search found
 * (`file_search_call` results' `file_id`, `file_citation` annotations' `file_id`) signed for the caller.
 * A store the client did not name (a stored prompt's) is left out, and then no file is known to be the
 * caller's: every `file_id` is dropped rather than signed. Objects are changed in place.
 */
export interface FileSearchIds {
  /** The provider's id of each store the request named → the client's. */
  storeIds: ReadonlyMap<string, string>;
  /** Whether every store the model may search is one the caller named (so every file found is the caller's). */
  filesKnown: boolean;
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

/** One answer's (or one stream's) rewriter: a stream's first event echoing an unnamed store makes later files unknown too. */
export function fileSearchRewriter(ids: FileSearchIds): { response(response: unknown): void; event(event: Record<string, unknown>): void } {
  let known = ids.filesKnown;
  const file = (holder: Record<string, unknown>) => {
    if (typeof holder.file_id !== 'string') return;
    if (known) holder.file_id = ids.fileId(holder.file_id);
    else delete holder.file_id;
  };
  const part = (content: unknown) => {
    if (!isRecord(content) || !Array.isArray(content.annotations)) return;
    for (const annotation of content.annotations) if (isRecord(annotation) && annotation.type === 'file_citation') file(annotation);
  };
  const item = (output: unknown) => {
    if (!isRecord(output)) return;
    if (output.type === 'file_search_call' && Array.isArray(output.results)) {
      for (const result of output.results) if (isRecord(result)) file(result);
    } else if (output.type === 'message' && Array.isArray(output.content)) {
      for (const content of output.content) part(content);
    }
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
    if (Array.isArray(whole.output)) for (const output of whole.output) item(output);
  };
  return {
    response,
    event(event) {
      if (isRecord(event.response)) response(event.response);
      if (isRecord(event.item)) item(event.item);
      if (isRecord(event.part)) part(event.part);
      if (isRecord(event.annotation) && event.annotation.type === 'file_citation') file(event.annotation);
    },
  };
}
