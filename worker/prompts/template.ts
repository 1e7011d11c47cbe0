/**
 * Renders a managed prompt's text. Dotprompt templates (LiteLLM renders them with Jinja2 under
 * handlebars-style `{{ }}` delimiters) get plain `{{ name }}` / `{{ a.b }}` substitution; blocks, filters
 * and helpers (`{% for %}`, `{{#if}}`, `{{ x | upper }}`) are refused rather than sent half-rendered.
 * Both renderers make one pass over the template, so a variable's value is never searched for others,
 * and count what they render against MAX_RENDERED_CHARS: a few placeholders of a large variable cannot
 * make the gateway build a prompt far past any body it would accept.
 */
import { GatewayError } from '../errors.ts';

/** The most characters one call's prompt may render to, all its messages together. */
export const MAX_RENDERED_CHARS = 4 * 1024 * 1024;

const PLACEHOLDER = /\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*-?\}\}/g;
const ANY_TAG = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g;
const COMMENT = /\{#[\s\S]*?#\}/g;
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

/** The first tag of `template` that is not a plain variable, or undefined when there is none. */
export function unsupportedTag(template: string): string | undefined {
  for (const [tag] of template.matchAll(ANY_TAG)) {
    if (tag.startsWith('{#')) continue; // a Jinja comment renders as nothing
    if (!new RegExp(`^${PLACEHOLDER.source}$`).test(tag)) return tag;
  }
  return undefined;
}

/** `template` without its Jinja comments (`{# .. #}`), which render as nothing. */
export function withoutComments(template: string): string {
  return template.replace(COMMENT, '');
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
