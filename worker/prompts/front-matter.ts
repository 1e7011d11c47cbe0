/**
 * A dotprompt's YAML front matter, for the subset prompts use: nested mappings by indentation, scalars
 * (read as PyYAML's YAML 1.1 resolvers read them: yes/no/on/off are booleans, `1_000` and `0x1f` numbers,
 * `1e5` a string), flow values of scalars (`[a, b]`, `{k: v}`) and JSON-style flow values, nested ones
 * included (`{"k": [1]}`). Mappings have no prototype, so a `__proto__:` key is a key like any other.
 * The Worker carries no YAML library; anything else (block lists, anchors, multi-line strings) is
 * refused with the line, so a prompt is never loaded with settings read wrongly.
 */
export type FrontMatter = Record<string, unknown>;

/** `---\n<yaml>\n---\n<template>` split as LiteLLM does; content without front matter is all template. */
export function splitFrontMatter(content: string): { metadata: FrontMatter; template: string } {
  const match = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*\r?\n([\s\S]*)$/.exec(content);
  if (!match) return { metadata: emptyMap(), template: content };
  return { metadata: parseFrontMatter(match[1]!), template: match[2]! };
}

export function parseFrontMatter(yaml: string): FrontMatter {
  const root = emptyMap();
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
      const child = emptyMap();
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
  if (/^[|>&*!-]/.test(text) && !/^-?[\d.]/.test(text)) throw new Error(`front matter line ${line}: block strings, lists, anchors and tags are not read; write the value on one line`);
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
  if (/^(yes|Yes|YES|true|True|TRUE|on|On|ON)$/.test(text)) return true;
  if (/^(no|No|NO|false|False|FALSE|off|Off|OFF)$/.test(text)) return false;
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  return yamlNumber(text) ?? text;
}

/** A mapping read from YAML: without a prototype, so no key (`__proto__`, `constructor`) reaches Object's. */
const emptyMap = (): FrontMatter => Object.create(null) as FrontMatter;

/** A plain scalar PyYAML resolves as an int or float (YAML 1.1: underscores, 0b/0/0x bases, base 60, .inf, .nan); else undefined. */
function yamlNumber(text: string): number | undefined {
  const sign = text.startsWith('-') ? -1 : 1;
  const bare = text.replace(/^[-+]/, '');
  const digits = bare.replace(/_/g, '');
  if (/^0b[01_]+$/.test(bare)) return sign * parseInt(digits.slice(2), 2);
  if (/^0x[0-9a-fA-F_]+$/.test(bare)) return sign * parseInt(digits.slice(2), 16);
  if (/^0[0-7_]+$/.test(bare)) return sign * parseInt(digits, 8);
  if (/^(0|[1-9][0-9_]*)$/.test(bare)) return sign * Number(digits);
  if (/^[1-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/.test(bare)) return sign * digits.split(':').reduce((sum, part) => sum * 60 + Number(part), 0);
  if (/^([0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)([eE][-+][0-9]+)?$/.test(bare)) return sign * Number(digits);
  if (/^\.(inf|Inf|INF)$/.test(bare)) return sign * Infinity;
  if (/^\.(nan|NaN|NAN)$/.test(text)) return NaN;
  return undefined;
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
  const out = emptyMap();
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
