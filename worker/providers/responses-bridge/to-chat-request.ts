import { GatewayError } from '../../errors.ts';

/**
 * A Responses API request as a chat completions request, for a provider that
 * speaks only chat (Anthropic, Bedrock, Vertex AI, Gemini, ...), as LiteLLM
 * bridges them: `instructions` become the system message; `input` (a string,
 * or items) becomes messages, `function_call` items an assistant turn's tool
 * calls and `function_call_output` items tool messages; function tools,
 * `tool_choice`, `text.format` (response_format), `reasoning.effort`,
 * `max_output_tokens` (max_tokens), temperature, top_p and user carry over.
 * What only OpenAI's servers can do (stored responses and conversations,
 * hosted tools, file ids) is a 400 naming the field.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function refuse(message: string, param: string): GatewayError {
  return new GatewayError(`${message} (this model's provider is reached through chat completions)`, { status: 400, type: 'bad_request_error', param });
}

/** Fields a Responses request shares with chat completions under the same name. */
const SAME_NAME = ['model', 'stream', 'temperature', 'top_p', 'user', 'parallel_tool_calls', 'top_logprobs', 'metadata', 'tags'];
/** Fields with no chat counterpart that change nothing about the answer a chat provider gives: left out. */
const IGNORED = new Set(['store', 'include', 'truncation', 'service_tier', 'background', 'stream_options', 'safety_identifier', 'prompt_cache_key', 'max_tool_calls']);
/** Fields only OpenAI's own servers can serve. */
const OPENAI_ONLY: Record<string, string> = {
  previous_response_id: 'previous_response_id (a response stored by OpenAI) is not supported',
  conversation: 'conversation (stored by OpenAI) is not supported',
  prompt: 'prompt (a prompt template stored by OpenAI) is not supported',
};

export function toChatRequest(body: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined || value === null) continue;
    if (OPENAI_ONLY[key]) throw refuse(OPENAI_ONLY[key], key);
    if (key === 'background' && value === true) throw refuse('background: true (a response stored by the provider, read later) is not supported', key);
    if (SAME_NAME.includes(key)) out[key] = value;
    else if (key === 'max_output_tokens') out.max_tokens = value;
    else if (key === 'tools') out.tools = chatTools(value);
    else if (key === 'tool_choice') out.tool_choice = chatToolChoice(value);
    else if (key === 'text') {
      const format = chatResponseFormat(value);
      if (format) out.response_format = format;
    } else if (key === 'reasoning') {
      if (isObject(value) && typeof value.effort === 'string') out.reasoning_effort = value.effort;
    } else if (key !== 'input' && key !== 'instructions' && !IGNORED.has(key)) {
      // Anything else is the client's own (LiteLLM passes extra fields on): the chat adapter decides.
      out[key] = value;
    }
  }
  const messages: Json[] = [];
  if (typeof body.instructions === 'string' && body.instructions) messages.push({ role: 'system', content: body.instructions });
  if (typeof body.input === 'string') messages.push({ role: 'user', content: body.input });
  else if (Array.isArray(body.input)) body.input.forEach((item, i) => addItem(messages, item, `input.${i}`));
  if (!messages.some((m) => m.role !== 'system')) throw refuse('input is required', 'input');
  out.messages = messages;
  return out;
}

function addItem(messages: Json[], item: unknown, at: string): void {
  if (!isObject(item)) throw refuse('an input item must be an object', at);
  const type = item.type ?? 'message';
  if (type === 'message') {
    const role = item.role === 'developer' ? 'system' : item.role;
    if (role !== 'user' && role !== 'assistant' && role !== 'system') throw refuse(`role must be user, assistant, system or developer, got ${JSON.stringify(item.role)}`, `${at}.role`);
    messages.push({ role, content: chatContent(item.content, role, `${at}.content`) });
  } else if (type === 'function_call') {
    const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {}) } };
    if (typeof call.id !== 'string' || typeof call.function.name !== 'string') throw refuse('a function_call item needs call_id and name', at);
    // Calls in a row are one assistant turn's.
    const last = messages[messages.length - 1];
    if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) (last.tool_calls as Json[]).push(call);
    else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
  } else if (type === 'function_call_output') {
    if (typeof item.call_id !== 'string') throw refuse('a function_call_output item needs call_id', at);
    messages.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : JSON.stringify(item.output ?? '') });
  } else if (type === 'reasoning') {
    // A model's earlier reasoning: chat providers take none back.
  } else {
    throw refuse(`input items of type ${JSON.stringify(type)} are not supported`, `${at}.type`);
  }
}

/** A message's content: a string as it is; parts as chat parts (an assistant's as its text). */
function chatContent(content: unknown, role: string, at: string): unknown {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw refuse('content must be a string or a list of parts', at);
  const parts = content.map((part, i) => chatPart(part, `${at}.${i}`));
  return role === 'user' ? parts : parts.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
}

function chatPart(part: unknown, at: string): Json {
  if (!isObject(part)) throw refuse('a content part must be an object', at);
  switch (part.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return { type: 'text', text: typeof part.text === 'string' ? part.text : '' };
    case 'refusal':
      return { type: 'text', text: typeof part.refusal === 'string' ? part.refusal : '' };
    case 'input_image': {
      if (typeof part.image_url !== 'string') throw refuse('input_image needs image_url (a URL or a data URL); file_id is not supported', at);
      return { type: 'image_url', image_url: { url: part.image_url, ...(typeof part.detail === 'string' ? { detail: part.detail } : {}) } };
    }
    case 'input_file': {
      if (typeof part.file_data !== 'string') throw refuse('input_file needs file_data (a data URL); file_id and file_url are not supported', at);
      return { type: 'file', file: { file_data: part.file_data, ...(typeof part.filename === 'string' ? { filename: part.filename } : {}) } };
    }
    default:
      throw refuse(`content parts of type ${JSON.stringify(part.type)} are not supported`, `${at}.type`);
  }
}

function chatTools(tools: unknown): Json[] {
  if (!Array.isArray(tools)) throw refuse('tools must be a list', 'tools');
  return tools.map((tool, i) => {
    if (!isObject(tool) || tool.type !== 'function') throw refuse(`only function tools are supported, not ${JSON.stringify(isObject(tool) ? tool.type : tool)}`, `tools.${i}`);
    if (typeof tool.name !== 'string') throw refuse('a function tool needs a name', `tools.${i}.name`);
    const fn: Json = { name: tool.name };
    for (const key of ['description', 'parameters', 'strict']) if (tool[key] !== undefined && tool[key] !== null) fn[key] = tool[key];
    return { type: 'function', function: fn };
  });
}

function chatToolChoice(choice: unknown): unknown {
  if (typeof choice === 'string') return choice;
  if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  throw refuse('tool_choice must be "auto", "none", "required" or a function', 'tool_choice');
}

/** `text.format` as chat's response_format (none for plain text). */
function chatResponseFormat(text: unknown): Json | undefined {
  const format = isObject(text) ? text.format : undefined;
  if (!isObject(format) || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    const schema: Json = { name: format.name ?? 'response', schema: format.schema };
    if (format.strict !== undefined) schema.strict = format.strict;
    if (format.description !== undefined) schema.description = format.description;
    return { type: 'json_schema', json_schema: schema };
  }
  throw refuse(`text.format of type ${JSON.stringify(format.type)} is not supported`, 'text.format');
}
