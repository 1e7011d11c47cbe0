import { badRequest } from '../../errors.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The forced tool that carries a JSON answer (`response_format`), named as LiteLLM names it. */
export const RESPONSE_FORMAT_TOOL_NAME = 'json_tool_call';

/**
 * OpenAI function tools as Anthropic tools (`parameters` → `input_schema`).
 * Anything else (Anthropic's own server tools such as `web_search_20250305`,
 * or a tool already in Anthropic's form) passes as it is.
 */
export function toAnthropicTools(tools: unknown): Json[] {
  if (!Array.isArray(tools)) throw badRequest('tools must be a list', 'tools');
  return tools.map((tool: unknown, i) => {
    if (!isObject(tool)) throw badRequest(`tools[${i}] must be an object`, `tools[${i}]`);
    if (tool.type !== 'function') return tool;
    const fn = isObject(tool.function) ? tool.function : {};
    if (typeof fn.name !== 'string') throw badRequest(`tools[${i}].function.name is required`, `tools[${i}].function.name`);
    const out: Json = {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      input_schema: isObject(fn.parameters) ? fn.parameters : { type: 'object', properties: {} },
    };
    const cache = isObject(tool.cache_control) ? tool.cache_control : isObject(fn.cache_control) ? fn.cache_control : undefined;
    if (cache) out.cache_control = cache;
    return out;
  });
}

/**
 * OpenAI's `tool_choice` and `parallel_tool_calls` as Anthropic's one
 * `tool_choice`: auto → auto, required → any, none → none, a named function
 * → that tool; `parallel_tool_calls: false` → `disable_parallel_tool_use`.
 */
export function toAnthropicToolChoice(toolChoice: unknown, parallelToolCalls: unknown): Json | undefined {
  let choice: Json | undefined;
  if (toolChoice === 'auto') choice = { type: 'auto' };
  else if (toolChoice === 'required') choice = { type: 'any' };
  else if (toolChoice === 'none') choice = { type: 'none' };
  else if (isObject(toolChoice)) {
    const name = isObject(toolChoice.function) ? toolChoice.function.name : undefined;
    if (typeof name !== 'string') throw badRequest('tool_choice.function.name is required', 'tool_choice');
    choice = { type: 'tool', name };
  } else if (toolChoice !== undefined) {
    throw badRequest('tool_choice must be "auto", "none", "required" or a function', 'tool_choice');
  }
  if (typeof parallelToolCalls === 'boolean' && choice?.type !== 'none') {
    choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: !parallelToolCalls };
  }
  return choice;
}

/**
 * `response_format` as a tool the model is made to call (Anthropic's JSON
 * mode, as LiteLLM does it): `json_schema` gives the tool its schema,
 * `json_object` an open object. `text` needs nothing.
 */
export function responseFormatTool(responseFormat: unknown): { tool: Json; withSchema: boolean } | undefined {
  if (!isObject(responseFormat) || responseFormat.type === 'text') return undefined;
  if (responseFormat.type === 'json_object') {
    return { tool: { name: RESPONSE_FORMAT_TOOL_NAME, input_schema: { type: 'object', additionalProperties: true, properties: {} } }, withSchema: false };
  }
  if (responseFormat.type === 'json_schema') {
    const spec = isObject(responseFormat.json_schema) ? responseFormat.json_schema : {};
    const schema = isObject(spec.schema) ? spec.schema : {};
    return { tool: { name: RESPONSE_FORMAT_TOOL_NAME, input_schema: { type: 'object', ...schema } }, withSchema: true };
  }
  throw badRequest('response_format.type must be "text", "json_object" or "json_schema"', 'response_format');
}
