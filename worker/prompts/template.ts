/**
 * Renders a managed prompt's text. Dotprompt templates (LiteLLM renders them with Jinja2 under
 * handlebars-style `{{ }}` delimiters) get plain `{{ name }}` / `{{ a.b }}` substitution; blocks, filters
 * and helpers (`{% for %}`, `{{#if}}`, `{{ x | upper }}`) are refused rather than sent half-rendered.
 * Both renderers make one pass over the template, so a variable's value is never searched for others,
 * and count what they render against MAX_RENDERED_CHARS: a few placeholders of a large variable cannot
 * make the gateway build a prompt far past any body it would accept. Tags are found in linear time
 * (tagSpans), as a template may be a caller's (`POST /prompts/test`).
 */
import { GatewayError } from '../errors.ts';

/** The most characters one call's prompt may render to, all its messages together. */
export const MAX_RENDERED_CHARS = 4 * 1024 * 1024;

const PLACEHOLDER = /\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*-?\}\}/g;
const WHOLE_PLACEHOLDER = new RegExp(`^${PLACEHOLDER.source}$`);
/** A tag's opener and closer: a variable or helper, a block, a comment. */
type TagKind = readonly [open: string, close: string];
const ANY_TAG: readonly TagKind[] = [['{{', '}}'], ['{%', '%}'], ['{#', '#}']];
const COMMENT: readonly TagKind[] = [['{#', '#}']];
const BRACES = /\{\{([^{}]+)\}\}|\{([^{}]+)\}/g;

/** Charges rendered characters to one call's prompt; throws a 400 once MAX_RENDERED_CHARS is passed. */
export type RenderBudget = (chars: number) => void;

export function renderBudget(promptId: string, max = MAX_RENDERED_CHARS): RenderBudget {
  let left = max;
  return (chars) => {
    left -= chars;
    if (left < 0) {
      throw new GatewayError(`prompt "${promptId}" renders to more than ${max} characters with these prompt_variables`, {
        status: 400, type: 'bad_request_error', param: 'prompt_variables',
      });
    }
  };
}

/**
 * Where the tags of `kinds` are in `template`, left to right: from the first opener, to the first closer after
 * it, then on from there; an opener with no closer after it is text. As a lazy regex (`/\{\{[\s\S]*?\}\}/g`)
 * finds them, but in linear time: such a regex scans to the end from every unclosed opener (a template of `{{`
 * is quadratic: seconds for 100 KB), while here each kind's next opener and closer are found once and kept until
 * passed, and a kind with an opener but no closer after it has no tag further on.
 */
export function* tagSpans(template: string, kinds: readonly TagKind[]): Generator<[start: number, end: number]> {
  const next = kinds.map(() => ({ open: -1, close: -1, done: false }));
  let at = 0;
  for (;;) {
    let first: [number, number] | undefined;
    kinds.forEach(([open, close], k) => {
      const n = next[k]!;
      if (n.done) return;
      if (n.open < at) n.open = template.indexOf(open, at);
      // The first closer after an earlier opener is the first after this one too, unless the opener passed it.
      if (n.open >= 0 && n.close < n.open + open.length) n.close = template.indexOf(close, n.open + open.length);
      if (n.open < 0 || n.close < 0) n.done = true;
      else if (!first || n.open < first[0]) first = [n.open, n.close + close.length];
    });
    if (!first) return;
    yield first;
    at = first[1];
  }
}

/** The first tag of `template` that is not a plain variable, or undefined when there is none. */
export function unsupportedTag(template: string): string | undefined {
  for (const [start, end] of tagSpans(template, ANY_TAG)) {
    const tag = template.slice(start, end);
    if (tag.startsWith('{#')) continue; // a Jinja comment renders as nothing
    if (!WHOLE_PLACEHOLDER.test(tag)) return tag;
  }
  return undefined;
}

/** `template` without its Jinja comments (`{# .. #}`), which render as nothing. */
export function withoutComments(template: string): string {
  let out = '';
  let from = 0;
  for (const [start, end] of tagSpans(template, COMMENT)) {
    out += template.slice(from, start);
    from = end;
  }
  return from ? out + template.slice(from) : template;
}

/**
 * `{{ name }}` replaced by the variable's text. A variable not given renders as nothing, as Jinja2's
 * default does in LiteLLM; objects and lists render as JSON.
 */
export function renderDotprompt(promptId: string, template: string, variables: Record<string, unknown>, budget = renderBudget(promptId)): string {
  const tag = unsupportedTag(template);
  if (tag) {
    throw new GatewayError(`prompt "${promptId}" uses ${tag}: Tollgate renders only {{ variable }} substitution (no blocks, filters or helpers)`, {
      status: 400, type: 'bad_request_error', param: 'prompt_id',
    });
  }
  const stripped = withoutComments(template);
  budget(stripped.length);
  const texts = memoText();
  return stripped.replace(PLACEHOLDER, (_, path: string) => charged(budget, texts(path, () => lookup(variables, path))));
}

/**
 * LiteLLM's generic prompt API substitution: `{name}` and `{{name}}` in each string message content;
 * a placeholder without a variable stays as it is.
 */
export function substituteBraces(content: string, variables: Record<string, unknown>, budget: RenderBudget): string {
  budget(content.length);
  const texts = memoText();
  return content.replace(BRACES, (whole, doubled: string | undefined, single: string | undefined) => {
    const name = (doubled ?? single)!;
    return Object.hasOwn(variables, name) ? charged(budget, texts(name, () => variables[name])) : whole;
  });
}

const charged = (budget: RenderBudget, text: string) => {
  budget(text.length);
  return text;
};

/** Each variable's text computed once per render, however many placeholders name it. */
function memoText(): (name: string, value: () => unknown) => string {
  const seen = new Map<string, string>();
  return (name, value) => {
    let t = seen.get(name);
    if (t === undefined) seen.set(name, t = text(value()));
    return t;
  };
}

function lookup(variables: Record<string, unknown>, path: string): unknown {
  let v: unknown = variables;
  for (const part of path.split('.')) {
    if (!v || typeof v !== 'object' || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
