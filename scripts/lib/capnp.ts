/** A capnp text value: a rendered token (see q()), a list, or a struct (undefined fields left out). */
export type Value = string | Value[] | { [field: string]: Value | undefined };

/** A capnp text string literal; non-ASCII goes as `\xNN` UTF-8 bytes, so the file stays ASCII. */
export function q(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** Capnp text for a value: one line when it fits in 100 columns, else one field or item a line. */
export function render(value: Value, indent = ''): string {
  if (typeof value === 'string') return value;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    if (value.every((v) => typeof v === 'string')) return `[${value.join(', ')}]`;
    return `[\n${value.map((v) => inner + render(v, inner)).join(',\n')}\n${indent}]`;
  }
  const fields = Object.entries(value).filter((e): e is [string, Value] => e[1] !== undefined);
  if (!fields.length) return '()';
  const flat = fields.map(([k, v]) => `${k} = ${render(v, inner)}`);
  const oneLine = `(${flat.join(', ')})`;
  if (oneLine.length <= 100 && !oneLine.includes('\n')) return oneLine;
  return `(\n${flat.map((f) => inner + f).join(',\n')}\n${indent})`;
}
