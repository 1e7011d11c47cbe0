/** A model name as one URL path segment; `@` (Vertex's version pin, `claude-...@20240620`) is a legal path character and stays. */
export function modelSegment(model: string): string {
  return encodeURIComponent(model).replaceAll('%40', '@');
}
