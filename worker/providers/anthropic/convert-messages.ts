import { badRequest } from '../../errors.ts';

type Json = Record<string, unknown>;

export interface AnthropicRequestMessage {
  role: 'user' | 'assistant';
  content: Json[];
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const DATA_URL = /^data:([^;,]+)((?:;[^;,]+)*);base64,(.*)$/s;

/**
 * OpenAI chat messages as Anthropic's: system and developer messages become
 * the top-level `system` blocks; tool messages become `tool_result` blocks of
 * a user turn; assistant `tool_calls` become `tool_use` blocks; consecutive
 * turns of the same role are merged (Anthropic wants user and assistant to
 * alternate, and every result of a parallel call in the one user turn that
 * follows). `cache_control` on a part, or on a message (its last block), is
 * kept, as LiteLLM keeps it.
 */
export function toAnthropicMessages(messages: readonly unknown[]): { system: Json[]; messages: AnthropicRequestMessage[] } {
  const system: Json[] = [];
  const out: AnthropicRequestMessage[] = [];
  const push = (role: 'user' | 'assistant', blocks: Json[]) => {
    if (!blocks.length) return;
    const last = out[out.length - 1];
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  messages.forEach((raw, i) => {
    const m = isObject(raw) ? raw : {};
    const at = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...withMessageCache(textBlocks(m.content, `${at}.content`), m));
        return;
      case 'user':
        push('user', withMessageCache(userBlocks(m.content, `${at}.content`), m));
        return;
      case 'assistant':
        push('assistant', withMessageCache(assistantBlocks(m, at), m));
        return;
      case 'tool':
        push('user', withMessageCache([toolResult(m, at)], m));
        return;
      default:
        throw badRequest(`${at}.role: Anthropic takes system, developer, user, assistant and tool messages, not "${String(m.role)}"; send function results as tool messages`, `${at}.role`);
    }
  });
  return { system, messages: out };
}

/** A message-level `cache_control` marks the message's last block, as LiteLLM places it. */
function withMessageCache(blocks: Json[], message: Json): Json[] {
  const last = blocks[blocks.length - 1];
  if (isObject(message.cache_control) && last) blocks[blocks.length - 1] = { ...last, cache_control: message.cache_control };
  return blocks;
}

function textBlock(text: string, part?: Json): Json {
  return isObject(part?.cache_control) ? { type: 'text', text, cache_control: part.cache_control } : { type: 'text', text };
}

/** System content: a string, or text parts. */
function textBlocks(content: unknown, at: string): Json[] {
  if (typeof content === 'string') return content ? [textBlock(content)] : [];
  if (!Array.isArray(content)) return [];
  return content.flatMap((part: unknown, j) => {
    if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
      throw badRequest(`${at}[${j}]: system messages take text parts only`, `${at}[${j}]`);
    }
    return part.text ? [textBlock(part.text, part)] : [];
  });
}

function userBlocks(content: unknown, at: string): Json[] {
  if (typeof content === 'string') return [textBlock(content)];
  if (!Array.isArray(content)) return [];
  return content.map((part: unknown, j) => contentPart(part, `${at}[${j}]`));
}

/** One OpenAI content part; parts already in Anthropic's form (`image`, `document`, ...) pass as they are. */
function contentPart(part: unknown, at: string): Json {
  if (!isObject(part)) throw badRequest(`${at}: a content part must be an object`, at);
  const cache = isObject(part.cache_control) ? { cache_control: part.cache_control } : {};
  switch (part.type) {
    case 'text':
      if (typeof part.text !== 'string') throw badRequest(`${at}.text must be a string`, `${at}.text`);
      return textBlock(part.text, part);
    case 'image_url': {
      const image = part.image_url;
      const url = typeof image === 'string' ? image : isObject(image) && typeof image.url === 'string' ? image.url : undefined;
      if (!url) throw badRequest(`${at}.image_url.url is required`, `${at}.image_url`);
      return { ...mediaBlock(url, `${at}.image_url.url`), ...cache };
    }
    case 'file': {
      const file = isObject(part.file) ? part.file : {};
      if (typeof file.file_data === 'string') return { ...mediaBlock(file.file_data, `${at}.file.file_data`), ...cache };
      // Anthropic's Files API (beta `files-api-2025-04-14`, sent by the client in anthropic-beta).
      if (typeof file.file_id === 'string') return { type: 'document', source: { type: 'file', file_id: file.file_id }, ...cache };
      throw badRequest(`${at}.file needs file_data or file_id`, `${at}.file`);
    }
    case 'input_audio':
      throw badRequest(`${at}: Anthropic does not take audio input`, at);
    default:
      return part;
  }
}

/** A data: URL (base64) or an http(s) URL, as an image block, or a document block for a PDF or text file. */
function mediaBlock(url: string, at: string): Json {
  const data = DATA_URL.exec(url);
  if (data) {
    const mediaType = (data[1] ?? '').toLowerCase();
    const source = { type: 'base64', media_type: mediaType, data: data[3] ?? '' };
    return mediaType.startsWith('image/') ? { type: 'image', source } : { type: 'document', source };
  }
  if (/^https?:\/\//i.test(url)) {
    return /\.pdf(?:$|[?#])/i.test(url) ? { type: 'document', source: { type: 'url', url } } : { type: 'image', source: { type: 'url', url } };
  }
  throw badRequest(`${at}: expected a base64 data: URL or an http(s) URL`, at);
}

function assistantBlocks(m: Json, at: string): Json[] {
  const blocks: Json[] = [];
  // Thinking must lead the turn, signed as Anthropic sent it, for the conversation to continue with thinking on.
  if (Array.isArray(m.thinking_blocks)) {
    for (const b of m.thinking_blocks as unknown[]) {
      if (isObject(b) && b.type === 'thinking' && typeof b.thinking === 'string') {
        blocks.push({ type: 'thinking', thinking: b.thinking, ...(typeof b.signature === 'string' ? { signature: b.signature } : {}) });
      } else if (isObject(b) && b.type === 'redacted_thinking' && typeof b.data === 'string') {
        blocks.push({ type: 'redacted_thinking', data: b.data });
      }
    }
  }
  if (typeof m.content === 'string') {
    if (m.content) blocks.push(textBlock(m.content));
  } else if (Array.isArray(m.content)) {
    (m.content as unknown[]).forEach((part, j) => {
      if (isObject(part) && part.type === 'refusal') return;
      if (isObject(part) && part.type === 'text' && part.text === '') return;
      blocks.push(contentPart(part, `${at}.content[${j}]`));
    });
  }
  if (Array.isArray(m.tool_calls)) {
    (m.tool_calls as unknown[]).forEach((call, j) => blocks.push(toolUse(call, `${at}.tool_calls[${j}]`)));
  }
  return blocks;
}

function toolUse(call: unknown, at: string): Json {
  const c = isObject(call) ? call : {};
  const fn = isObject(c.function) ? c.function : {};
  if (typeof c.id !== 'string' || typeof fn.name !== 'string') throw badRequest(`${at} needs an id and function.name`, at);
  const args = typeof fn.arguments === 'string' ? fn.arguments : '';
  let input: unknown = {};
  if (args.trim()) {
    try {
      input = JSON.parse(args);
    } catch {
      throw badRequest(`${at}.function.arguments is not valid JSON`, `${at}.function.arguments`);
    }
  }
  // Anthropic's tool input is always an object.
  return { type: 'tool_use', id: c.id, name: fn.name, input: isObject(input) ? input : {} };
}

function toolResult(m: Json, at: string): Json {
  if (typeof m.tool_call_id !== 'string') throw badRequest(`${at}.tool_call_id is required`, `${at}.tool_call_id`);
  let content: unknown = '';
  if (typeof m.content === 'string') content = m.content;
  else if (Array.isArray(m.content)) content = (m.content as unknown[]).map((part, j) => contentPart(part, `${at}.content[${j}]`));
  return { type: 'tool_result', tool_use_id: m.tool_call_id, content, ...(m.is_error === true ? { is_error: true } : {}) };
}
