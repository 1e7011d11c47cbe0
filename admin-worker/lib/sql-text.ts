/**
 * A LIKE / ILIKE pattern matching `text` anywhere, its own `%`, `_` and `\`
 * taken literally (Postgres's default escape character is the backslash).
 */
export function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}
