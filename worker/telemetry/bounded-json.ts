/**
 * A value for a log or a callback, bounded: the value itself when its JSON
 * fits in `max` characters, else its JSON cut to `max` and marked
 * `{truncated, original_chars, head}` (spend logs and Langfuse events alike).
 * Null and undefined are null.
 */
export function boundedJson(value: unknown, max: number): unknown {
  if (value === null || value === undefined) return null;
  const json = typeof value === 'string' ? value : JSON.stringify(value);
  if (json.length <= max) return value;
  return { truncated: true, original_chars: json.length, head: json.slice(0, max) };
}
