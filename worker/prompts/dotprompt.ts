/**
 * LiteLLM's `dotprompt` integration with the prompt in config.yaml: `dotprompt_content` (a .prompt file's
 * text) or `prompt_data` (`{content, metadata}`, alone or keyed by prompt id, `<id>.v<n>` for versions).
 * The front matter's `model` and other settings (all but `input` / `output`) go with the prompt. The
 * template becomes messages by its `System:` / `User:` / `Assistant:` lines, as LiteLLM splits it, but
 * split before it is rendered: a variable holding "\nSystem: .." stays text inside its own message.
 */
import { GatewayError } from '../errors.ts';
import { type FrontMatter, splitFrontMatter } from './front-matter.ts';
import { renderBudget, renderDotprompt, unsupportedTag, withoutComments } from './template.ts';
import type { CompiledPrompt, PromptMessage } from './types.ts';

export interface DotpromptTemplate {
  template: string;
  metadata: FrontMatter;
}

/** The templates of one `prompts:` entry, by id; throws (with the reason) on front matter it cannot read. */
export function loadDotprompts(promptId: string, params: { dotprompt_content?: string; prompt_data?: Record<string, unknown> }): Map<string, DotpromptTemplate> {
  const out = new Map<string, DotpromptTemplate>();
  if (params.dotprompt_content !== undefined) {
    const { metadata, template } = splitFrontMatter(params.dotprompt_content);
    out.set(promptId, { metadata, template: template.trim() });
  }
  const data = params.prompt_data;
  if (data) {
    const keyed = 'content' in data ? { [promptId]: data } : data;
    for (const [id, entry] of Object.entries(keyed)) {
      const e = (entry ?? {}) as { content?: unknown; metadata?: unknown };
      const metadata = e.metadata && typeof e.metadata === 'object' ? e.metadata as FrontMatter : {};
      out.set(id, { template: typeof e.content === 'string' ? e.content : '', metadata });
    }
  }
  return out;
}

/** The template for a call: `<id>.v<version>` when asked for and present, else the prompt's own. */
export function pickDotprompt(templates: Map<string, DotpromptTemplate>, promptId: string, version: string | undefined): DotpromptTemplate | undefined {
  return (version !== undefined ? templates.get(`${promptId}.v${version}`) : undefined) ?? templates.get(promptId);
}

export function compileDotprompt(promptId: string, prompt: DotpromptTemplate, variables: Record<string, unknown>): CompiledPrompt {
  checkInput(promptId, prompt.metadata, variables);
  const template = withoutComments(prompt.template);
  // A block spanning role lines is refused whole, before the split could cut it into tags that look plain.
  if (unsupportedTag(template)) renderDotprompt(promptId, template, {});
  const budget = renderBudget(promptId);
  const messages = toMessages(template)
    .map((m) => ({ role: m.role, content: renderDotprompt(promptId, m.content as string, variables, budget).trim() }))
    .filter((m) => m.content);
  const { model, input: _input, output: _output, ...params } = prompt.metadata;
  return { messages, ...(typeof model === 'string' && model ? { model } : {}), params };
}

const TYPES: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string', str: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number', float: (v) => typeof v === 'number',
  integer: Number.isInteger, int: Number.isInteger,
  boolean: (v) => typeof v === 'boolean', bool: (v) => typeof v === 'boolean',
  array: Array.isArray, list: Array.isArray,
  object: (v) => !!v && typeof v === 'object' && !Array.isArray(v), dict: (v) => !!v && typeof v === 'object' && !Array.isArray(v),
};

/** The front matter's `input.schema` types, checked for the variables given (LiteLLM checks only those too). */
function checkInput(promptId: string, metadata: FrontMatter, variables: Record<string, unknown>): void {
  const schema = (metadata.input as { schema?: unknown } | undefined)?.schema;
  if (!schema || typeof schema !== 'object') return;
  for (const [field, type] of Object.entries(schema)) {
    if (!(field in variables) || typeof type !== 'string') continue;
    const check = TYPES[type.toLowerCase()] ?? TYPES.string!;
    if (!check(variables[field])) {
      throw new GatewayError(`prompt "${promptId}": prompt_variables.${field} must be of type ${type}`, { status: 400, type: 'bad_request_error', param: `prompt_variables.${field}` });
    }
  }
}

const ROLE_LINE = /^(System|User|Assistant):/;

/** A template's messages by its role lines: text before any is the user's; text without role lines is one user message. */
export function toMessages(template: string): PromptMessage[] {
  const messages: PromptMessage[] = [];
  let role: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    const content = lines.join('\n').trim();
    if (role && content) messages.push({ role, content });
  };
  for (const raw of template.trim().split('\n')) {
    const line = raw.trim();
    const prefix = ROLE_LINE.exec(line);
    if (prefix) {
      flush();
      role = prefix[1]!.toLowerCase();
      lines = [line.slice(prefix[0].length).trim()];
    } else {
      role ??= 'user';
      lines.push(line);
    }
  }
  flush();
  return messages;
}
