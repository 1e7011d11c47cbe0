/**
 * The code interpreter containers a Responses API call named by the gateway's ids (routes/containers.ts), as
 * the answer names them: the echoed tool's `container`, a `code_interpreter_call`'s `container_id`, a
 * `container_file_citation`'s `container_id`, each the client's id again. Only containers the call named are
 * known (the caller's own); any other (one the provider made for `container: {type: "auto"}`) keeps the
 * provider's id. Objects are changed in place.
 */

/** The stream events that carry a container id: the whole response, an output item, a content part, an annotation. */
export const CONTAINER_EVENTS: ReadonlySet<string> = new Set([
  'response.created', 'response.queued', 'response.in_progress', 'response.completed', 'response.incomplete', 'response.failed',
  'response.output_item.added', 'response.output_item.done', 'response.content_part.added', 'response.content_part.done',
  'response.output_text.annotation.added',
]);

const MAX_DEPTH = 32;

/** Every `container` or `container_id` naming one of the call's containers, in a value, as the client named it. */
export function showContainerIds(value: unknown, ids: ReadonlyMap<string, string>, depth = 0): void {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return;
  if (Array.isArray(value)) {
    for (const item of value) showContainerIds(item, ids, depth + 1);
    return;
  }
  const object = value as Record<string, unknown>;
  for (const field in object) {
    const inner = object[field];
    if ((field === 'container' || field === 'container_id') && typeof inner === 'string') {
      const shown = ids.get(inner);
      if (shown !== undefined) object[field] = shown;
    } else if (typeof inner === 'object' && inner !== null) {
      showContainerIds(inner, ids, depth + 1);
    }
  }
}
