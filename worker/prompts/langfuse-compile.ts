/**
 * A Langfuse prompt compiled as LiteLLM compiles it through Langfuse's Python SDK: `{{name}}` replaced by
 * the variable's text (a name without a variable keeps its braces, a null one renders as nothing); a `text`
 * prompt becomes one system message, a `chat` prompt its messages, its `placeholder` entries replaced by the
 * list of messages the variable of that name holds. The prompt's `config.model` is the prompt's model and
 * the rest of its config its settings (LiteLLM's `_get_optional_params_from_langfuse`).
 */
import { GatewayError } from '../errors.ts';
import { renderBudget, type RenderBudget } from './template.ts';
import type { CompiledPrompt, PromptMessage } from './types.ts';

export interface LangfuseChatMessage {
  role: string;
  content: string;
  type?: 'chatmessage';
}

export interface LangfusePlaceholder {
  type: 'placeholder';
  name: string;
}

/** What Langfuse's `GET /api/public/v2/prompts/{name}` answers, as far as compiling needs it. */
export type LangfusePrompt =
  | { type: 'text'; prompt: string; config?: unknown }
  | { type: 'chat'; prompt: (LangfuseChatMessage | LangfusePlaceholder)[]; config?: unknown };

export function compileLangfusePrompt(promptId: string, prompt: LangfusePrompt, variables: Record<string, unknown>): CompiledPrompt {
  const budget = renderBudget(promptId);
  const messages: PromptMessage[] = prompt.type === 'text'
    ? [{ role: 'system', content: compileLangfuseTemplate(prompt.prompt, variables, budget) }]
    : prompt.prompt.flatMap((entry) => isPlaceholder(entry)
      ? placeholderMessages(promptId, entry.name, variables, budget)
      : [{ role: entry.role, content: compileLangfuseTemplate(entry.content, variables, budget) }]);
  const config = prompt.config && typeof prompt.config === 'object' && !Array.isArray(prompt.config) ? prompt.config as Record<string, unknown> : {};
  const { model, ...params } = config;
  return { messages, ...(typeof model === 'string' && model ? { model } : {}), params };
}

/**
 * Langfuse's TemplateParser: each `{{` up to the next `}}` is a variable named by the text between, trimmed.
 * One pass, so a variable's value is never searched for others.
 */
export function compileLangfuseTemplate(content: string, variables: Record<string, unknown>, budget: RenderBudget): string {
  budget(content.length);
  let out = '';
  let at = 0;
  for (;;) {
    const open = content.indexOf('{{', at);
    const close = open < 0 ? -1 : content.indexOf('}}', open);
    if (close < 0) return out + content.slice(at);
    const name = content.slice(open + 2, close).trim();
    const end = close + 2;
    const value = Object.hasOwn(variables, name) ? variableText(variables[name]) : content.slice(open, end);
    budget(value.length);
    out += content.slice(at, open) + value;
    at = end;
  }
}

const isPlaceholder = (entry: LangfuseChatMessage | LangfusePlaceholder): entry is LangfusePlaceholder => entry.type === 'placeholder';

/**
 * A placeholder's messages, each copied whole (tool calls kept) with its text content compiled, as the SDK
 * does. The SDK sends an unfilled placeholder on as `{type: "placeholder"}` and a value that is not a list of
 * messages as a message of role NOT_GIVEN, which the provider then refuses: here both are the caller's 400.
 */
function placeholderMessages(promptId: string, name: string, variables: Record<string, unknown>, budget: RenderBudget): PromptMessage[] {
  const value = Object.hasOwn(variables, name) ? variables[name] : undefined;
  const refuse = (why: string) => new GatewayError(`prompt "${promptId}": its placeholder "${name}" ${why}`, { status: 400, type: 'bad_request_error', param: 'prompt_variables' });
  if (value === undefined) throw refuse(`needs prompt_variables.${name}, a list of messages`);
  if (!Array.isArray(value)) throw refuse(`takes a list of messages; prompt_variables.${name} is not a list`);
  return value.map((message: unknown) => {
    if (!message || typeof message !== 'object' || Array.isArray(message) || typeof (message as { role?: unknown }).role !== 'string') {
      throw refuse(`takes messages with a role; prompt_variables.${name} holds something else`);
    }
    const { content = '' } = message as { content?: unknown };
    return { ...(message as PromptMessage), content: typeof content === 'string' ? compileLangfuseTemplate(content, variables, budget) : content };
  });
}

/** Python's str() of a JSON value, as the SDK renders it; objects and lists render as JSON. */
function variableText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
