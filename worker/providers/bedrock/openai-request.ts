/**
 * Reading an OpenAI request for a provider that speaks another format.
 * Provider-neutral (Bedrock, Gemini, Vertex use it).
 */
import { badRequest } from '../../errors.ts';

export interface OpenAIToolCall {
  id?: unknown;
  type?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

export interface OpenAIMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';
  content?: string | OpenAIPart[] | null;
  name?: unknown;
  tool_calls?: OpenAIToolCall[];
  tool_call_id?: unknown;
}

export type OpenAIPart = { type: string; text?: unknown; image_url?: unknown } & Record<string, unknown>;

export interface OpenAITool {
  type?: unknown;
  function?: { name?: unknown; description?: unknown; parameters?: unknown };
}

/** The messages of a validated chat body (roles and content shapes were checked by the request schema). */
export function messagesOf(body: Record<string, unknown>): OpenAIMessage[] {
  return (Array.isArray(body.messages) ? body.messages : []) as OpenAIMessage[];
}

/** The text of a message's content: a string, or its text parts joined. */
export function contentText(content: OpenAIMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
}

export interface InlineImage {
  mimeType: string;
  /** Base64, as it came in the data URL. */
  data: string;
}

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)(?:;[\w-]+=[^;,]*)*;base64,([A-Za-z0-9+/=\s]+)$/;

/** `image_url` of a content part: its URL, from either `{url}` or a bare string. */
export function imageUrlOf(part: OpenAIPart): string {
  const value = part.image_url;
  const url = typeof value === 'string' ? value : (value as { url?: unknown } | undefined)?.url;
  if (typeof url !== 'string' || !url) throw badRequest('image_url must have a url', 'messages');
  return url;
}

/** A base64 data URL's type and bytes, or undefined for any other URL. */
export function parseDataUrl(url: string): InlineImage | undefined {
  const match = DATA_URL.exec(url);
  if (!match) return undefined;
  return { mimeType: match[1]!.toLowerCase(), data: match[2]!.replace(/\s+/g, '') };
}

/** A tool call's `arguments`: JSON text from the client, parsed to the object providers want. */
export function toolArguments(call: OpenAIToolCall): Record<string, unknown> {
  const raw = call.function?.arguments;
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw === 'object') return raw as Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(String(raw));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw badRequest(`tool call ${String(call.id ?? '')} has arguments that are not a JSON object`, 'messages');
}

export function toolName(call: OpenAIToolCall): string {
  const name = call.function?.name;
  if (typeof name !== 'string' || !name) throw badRequest('a tool call has no function name', 'messages');
  return name;
}

/** The function tools of a request; other tool types are refused. */
export function functionTools(body: Record<string, unknown>): { name: string; description?: string; parameters?: Record<string, unknown> }[] {
  if (!Array.isArray(body.tools)) return [];
  return (body.tools as OpenAITool[]).map((tool, i) => {
    const fn = tool.function;
    if (tool.type !== 'function' || !fn || typeof fn.name !== 'string') throw badRequest(`tools[${i}] must be a function tool with a name`, 'tools');
    return {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      ...(fn.parameters && typeof fn.parameters === 'object' ? { parameters: fn.parameters as Record<string, unknown> } : {}),
    };
  });
}

export type ToolChoice = { kind: 'auto' } | { kind: 'none' } | { kind: 'required' } | { kind: 'function'; name: string };

export function toolChoiceOf(body: Record<string, unknown>): ToolChoice | undefined {
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { kind: choice };
  const name = (choice as { function?: { name?: unknown } }).function?.name;
  if (typeof name === 'string' && name) return { kind: 'function', name };
  throw badRequest('tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":...}}', 'tool_choice');
}

/** `stop` as a list. */
export function stopSequences(body: Record<string, unknown>): string[] | undefined {
  const stop = body.stop;
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) return stop.length ? stop : undefined;
  return undefined;
}

/** `max_completion_tokens`, else `max_tokens`. */
export function maxTokensOf(body: Record<string, unknown>): number | undefined {
  const value = body.max_completion_tokens ?? body.max_tokens;
  return typeof value === 'number' ? value : undefined;
}

export function numberField(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Embedding inputs as texts: token-id inputs are OpenAI's alone. */
export function embeddingTexts(body: Record<string, unknown>, label: string): string[] {
  const input = body.input;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((x) => typeof x === 'string')) return input as string[];
  throw badRequest(`${label} embeddings take text input (a string or a list of strings), not token ids`, 'input');
}
