/**
 * A dotprompt's YAML front matter, for the subset prompts use: nested mappings by indentation, scalars
 * (numbers, true/false, null, quoted or plain strings), flow values of scalars (`[a, b]`, `{k: v}`) and
 * JSON-style flow values, nested ones included (`{"k": [1]}`).
 * The Worker carries no YAML library; anything else (block lists, anchors, multi-line strings) is
 * refused with the line, so a prompt is never loaded with settings read wrongly.
 */
export type FrontMatter = Record<string, unknown>;

/** `---\n<yaml>\n---\n<template>` split as LiteLLM does; content without front matter is all template. */
export function splitFrontMatter(content: string): { metadata: FrontMatter; template: string } {
  const match = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*\r?\n([\s\S]*)$/.exec(content);
  if (!match) return { metadata: {}, template: content };
  return { metadata: parseFrontMatter(match[1]!), template: match[2]! };
}

export function parseFrontMatter(yaml: string): FrontMatter {
  const root: FrontMatter = {};
  // Each open mapping with the indentation of its keys; a deeper line opens a child of the last key.
  const stack: { indent: number; map: FrontMatter }[] = [{ indent: -1, map: root }];
  let pendingKey: { map: FrontMatter; key: string; indent: number } | undefined;
  yaml.split(/\r?\n/).forEach((raw, i) => {
    const line = withoutComment(raw);
    if (!line.trim() || line.trim().startsWith('#')) return;
    const indent = line.length - line.trimStart().length;
    const entry = /^([A-Za-z0-9_.-]+|"[^"]*"|'[^']*'):(?:\s+(.*))?$/.exec(line.trim());
    if (!entry || raw.includes('\t')) throw new Error(`front matter line ${i + 1}: expected "key: value" (only mappings, scalars and [..]/{..} flow values are read)`);
    if (pendingKey && indent > pendingKey.indent) {
      const child: FrontMatter = {};
      pendingKey.map[pendingKey.key] = child;
      stack.push({ indent, map: child });
    } else {
      while (stack.length > 1 && indent < stack[stack.length - 1]!.indent) stack.pop();
    }
    pendingKey = undefined;
    const top = stack[stack.length - 1]!;
    if (indent !== Math.max(top.indent, 0)) throw new Error(`front matter line ${i + 1}: unexpected indentation`);
    const key = entry[1]!.replace(/^["']|["']$/g, '');
    const value = entry[2]?.trim();
    if (value === undefined || value === '') {
      top.map[key] = null;
      pendingKey = { map: top.map, key, indent };
    } else {
      top.map[key] = scalar(value, i + 1);
    }
  });
  return root;
}

/** `raw` without a `# comment`: a `#` after whitespace and outside quotes (a `#` inside a quoted value is text). */
function withoutComment(raw: string): string {
  let quote: string | undefined;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) {
      return raw.slice(0, i).trimEnd();
    }
  }
  return raw.trimEnd();
}

function scalar(text: string, line: number): unknown {
  if (/^[|>&*!-]/.test(text) && !/^-?\d/.test(text)) throw new Error(`front matter line ${line}: block strings, lists, anchors and tags are not read; write the value on one line`);
  if (text.startsWith('[') || text.startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      const flow = flowOfScalars(text, line);
      if (flow !== undefined) return flow;
      throw new Error(`front matter line ${line}: a nested [..] or {..} value must be written as JSON`);
    }
  }
  if (/^"(?:[^"\\]|\\.)*"$/.test(text)) return JSON.parse(text);
  if (/^'(?:[^']|'')*'$/.test(text)) return text.slice(1, -1).replace(/''/g, "'");
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text;
}

/** A YAML flow sequence or mapping of scalars (`[a, 'b']`, `{subject: string}`); undefined when nested. */
function flowOfScalars(text: string, line: number): unknown[] | Record<string, unknown> | undefined {
  const mapping = text.startsWith('{');
  if (!text.endsWith(mapping ? '}' : ']')) return undefined;
  const inner = text.slice(1, -1);
  if (/[[\]{}]/.test(inner)) return undefined;
  const items = splitOutsideQuotes(inner).map((item) => item.trim());
  if (items.at(-1) === '') items.pop();
  if (!mapping) return items.map((item) => scalar(item, line));
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const entry = /^([A-Za-z0-9_.-]+|"[^"]*"|'[^']*'):(?:\s+(.*))?$/.exec(item);
    if (!entry) return undefined;
    out[entry[1]!.replace(/^["']|["']$/g, '')] = entry[2] === undefined || entry[2] === '' ? null : scalar(entry[2], line);
  }
  return out;
}

function splitOutsideQuotes(text: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === ',') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
