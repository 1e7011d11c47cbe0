import { badRequest } from '../../errors.ts';
import { providerFields } from '../openai-compatible/params.ts';
import { toAnthropicMessages } from './convert-messages.ts';
import { RESPONSE_FORMAT_TOOL_NAME, responseFormatTool, toAnthropicToolChoice, toAnthropicTools } from './convert-tools.ts';

type Json = Record<string, unknown>;

/** Used when neither the request nor the price table gives a maximum (LiteLLM's DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS). */
export const DEFAULT_MAX_TOKENS = 4096;

/** LiteLLM's DEFAULT_REASONING_EFFORT_*_THINKING_BUDGET. */
const THINKING_BUDGET: Record<string, number> = { low: 1024, medium: 2048, high: 4096 };

/**
 * The chat fields the Anthropic adapter takes: OpenAI's that map onto the
 * Messages API, and Anthropic's own that a client may send as they are.
 */
export const ANTHROPIC_CHAT_PARAMS: ReadonlySet<string> = new Set([
  'messages', 'max_tokens', 'max_completion_tokens', 'stop', 'stream', 'stream_options', 'temperature', 'top_p',
  'tools', 'tool_choice', 'parallel_tool_calls', 'response_format', 'user', 'reasoning_effort',
  // Anthropic's own, sent as they are (a /v1/messages client's, or an OpenAI client's extra body)
  'top_k', 'thinking', 'service_tier', 'cache_control', 'container', 'context_management', 'mcp_servers',
  'output_config', 'inference_geo', 'speed', 'diagnostics',
]);
const PASSED_AS_IS = [
  'top_k', 'thinking', 'service_tier', 'cache_control', 'container', 'context_management', 'mcp_servers',
  'output_config', 'inference_geo', 'speed', 'diagnostics',
] as const;
/** Anthropic's `service_tier` values; OpenAI's (`default`, `flex`, `priority`) mean something else. */
const ANTHROPIC_SERVICE_TIERS: ReadonlySet<unknown> = new Set(['auto', 'standard_only']);

export interface AnthropicRequestOptions {
  /** The provider's model name. */
  model: string;
  dropParams: boolean;
  /** `max_tokens` when the request has none: the model's maximum output, else DEFAULT_MAX_TOKENS. */
  defaultMaxTokens: number;
  stream: boolean;
}

export interface AnthropicRequest {
  payload: Json;
  /** `response_format` asked for JSON: the forced tool's input is the answer's content. */
  jsonMode: boolean;
  /** JSON without a schema: a `{"values": ...}` wrapper the model tends to add is taken off (LiteLLM #6741). */
  unwrapValues: boolean;
}

/**
 * An OpenAI chat body as a Messages API body. Fields Anthropic does not take
 * are dropped with `drop_params`, else refused with a 400 naming them; `null`
 * fields count as absent, as in LiteLLM.
 */
export function toAnthropicRequest(body: Json, options: AnthropicRequestOptions): AnthropicRequest {
  const given: Json = {};
  for (const [key, value] of Object.entries(body)) if (value !== null && value !== undefined) given[key] = value;
  // An OpenAI service tier is a parameter Anthropic does not take, under the same name.
  const supported = given.service_tier === undefined || ANTHROPIC_SERVICE_TIERS.has(given.service_tier)
    ? ANTHROPIC_CHAT_PARAMS
    : new Set([...ANTHROPIC_CHAT_PARAMS].filter((name) => name !== 'service_tier'));
  const fields = providerFields(given, supported, options.dropParams, 'anthropic');

  const { system, messages } = toAnthropicMessages(Array.isArray(fields.messages) ? fields.messages : []);
  const payload: Json = { model: options.model, messages };
  if (system.length) payload.system = system;
  payload.max_tokens = fields.max_completion_tokens ?? fields.max_tokens ?? options.defaultMaxTokens;

  const stop = stopSequences(fields.stop, options.dropParams);
  if (stop) payload.stop_sequences = stop;
  for (const name of ['temperature', 'top_p'] as const) if (fields[name] !== undefined) payload[name] = fields[name];

  let thinking = fields.thinking as Json | undefined;
  if (thinking === undefined && typeof fields.reasoning_effort === 'string') thinking = thinkingFor(fields.reasoning_effort);

  let tools = fields.tools !== undefined ? toAnthropicTools(fields.tools) : [];
  let toolChoice = toAnthropicToolChoice(fields.tool_choice, fields.parallel_tool_calls);
  const json = responseFormatTool(fields.response_format);
  if (json) {
    tools = [...tools, json.tool];
    // Forcing a tool is refused while extended thinking is on; the model is then only offered it.
    if (thinking === undefined || thinking.type === 'disabled') toolChoice = { type: 'tool', name: RESPONSE_FORMAT_TOOL_NAME };
  }
  if (tools.length) {
    payload.tools = tools;
    if (toolChoice) payload.tool_choice = toolChoice;
  }
  if (typeof fields.user === 'string' && validUserId(fields.user)) payload.metadata = { user_id: fields.user };
  for (const name of PASSED_AS_IS) {
    if (name === 'thinking') {
      if (thinking) payload.thinking = thinking;
    } else if (fields[name] !== undefined) {
      payload[name] = fields[name];
    }
  }
  if (options.stream) payload.stream = true;
  return { payload, jsonMode: json !== undefined, unwrapValues: json !== undefined && !json.withSchema };
}

/**
 * `stop` as `stop_sequences`. Anthropic refuses whitespace-only sequences;
 * with drop_params they are left out (LiteLLM's `_map_stop_sequences`).
 */
function stopSequences(stop: unknown, dropParams: boolean): string[] | undefined {
  const list = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s): s is string => typeof s === 'string') : [];
  const kept = dropParams ? list.filter((s) => s.trim() !== '') : list;
  return kept.length ? kept : undefined;
}

function thinkingFor(effort: string): Json | undefined {
  if (effort === 'none') return undefined;
  const budget = THINKING_BUDGET[effort];
  if (!budget) throw badRequest(`reasoning_effort must be one of none, low, medium, high for Anthropic, not "${effort}"`, 'reasoning_effort');
  return { type: 'enabled', budget_tokens: budget };
}

// Anthropic refuses personal data in metadata.user_id; LiteLLM leaves out what looks like an email or phone number.
const EMAIL = /^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$/;
const PHONE = /^\+?[\d\s()-]{7,}$/;
function validUserId(user: string): boolean {
  return user !== '' && !EMAIL.test(user) && !PHONE.test(user);
}
