/**
 * OpenAI chat request → Gemini `generateContent` request, the one format
 * Google AI Studio (`gemini/`) and Vertex AI (`vertex_ai/`) share.
 */
import { badRequest } from '../../errors.ts';
import {
  contentText, functionTools, imageUrlOf, maxTokensOf, messagesOf, numberField, type OpenAIMessage, parseDataUrl,
  stopSequences, toolArguments, toolChoiceOf, toolName,
} from '../bedrock/openai-request.ts';

/** What Gemini chat deployments take from an OpenAI request; the rest is dropped or refused. */
export const GEMINI_PARAMS: ReadonlySet<string> = new Set([
  'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'top_k', 'stop', 'n',
  'tools', 'tool_choice', 'response_format', 'presence_penalty', 'frequency_penalty', 'seed', 'user',
]);

export type GeminiPart =
  | { text: string }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { mimeType: string; fileUri: string } }
  | { functionCall: { name: string; args: Record<string, unknown> } }
  | { functionResponse: { name: string; response: { content: string } } };

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: { text: string }[] };
  tools?: { functionDeclarations: { name: string; description?: string; parameters?: Record<string, unknown> }[] }[];
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: Record<string, unknown>;
}

// Cloud Storage files Vertex reads itself; the type is told by the name.
const FILE_TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', pdf: 'application/pdf',
  mp3: 'audio/mpeg', wav: 'audio/wav', mp4: 'video/mp4', txt: 'text/plain',
};

export function toGeminiRequest(body: Record<string, unknown>): GeminiRequest {
  const system: { text: string }[] = [];
  const contents: GeminiContent[] = [];
  const toolNames = new Map<string, string>();
  const push = (role: GeminiContent['role'], parts: GeminiPart[]) => {
    if (!parts.length) return;
    // One turn per role change: a model's parallel calls need their responses in one turn.
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const message of messagesOf(body)) {
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = contentText(message.content);
        if (text) system.push({ text });
        break;
      }
      case 'user':
        push('user', userParts(message));
        break;
      case 'assistant':
        push('model', modelParts(message, toolNames));
        break;
      case 'tool': {
        const id = String(message.tool_call_id ?? '');
        const name = typeof message.name === 'string' && message.name ? message.name : toolNames.get(id);
        if (!name) throw badRequest(`tool message ${id} answers no tool call of an earlier assistant message`, 'messages');
        push('user', [{ functionResponse: { name, response: { content: contentText(message.content) } } }]);
        break;
      }
      default:
        throw badRequest('Gemini does not take "function" messages; send tool messages with tool_call_id', 'messages');
    }
  }
  const request: GeminiRequest = { contents };
  if (system.length) request.systemInstruction = { parts: system };
  const declarations = functionTools(body).map((t) => ({
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    ...(t.parameters ? { parameters: geminiSchema(t.parameters) as Record<string, unknown> } : {}),
  }));
  if (declarations.length) request.tools = [{ functionDeclarations: declarations }];
  const choice = toolChoiceOf(body);
  if (choice && declarations.length) {
    request.toolConfig = {
      functionCallingConfig: choice.kind === 'function'
        ? { mode: 'ANY', allowedFunctionNames: [choice.name] }
        : { mode: choice.kind === 'required' ? 'ANY' : choice.kind === 'none' ? 'NONE' : 'AUTO' },
    };
  }
  const config = generationConfig(body);
  if (Object.keys(config).length) request.generationConfig = config;
  return request;
}

function userParts(message: OpenAIMessage): GeminiPart[] {
  if (typeof message.content === 'string') return message.content ? [{ text: message.content }] : [];
  const parts: GeminiPart[] = [];
  for (const part of message.content ?? []) {
    if (part.type === 'text' && typeof part.text === 'string') {
      if (part.text) parts.push({ text: part.text });
    } else if (part.type === 'image_url') {
      const url = imageUrlOf(part);
      const inline = parseDataUrl(url);
      if (inline) parts.push({ inlineData: { mimeType: inline.mimeType, data: inline.data } });
      else if (url.startsWith('gs://')) parts.push({ fileData: { mimeType: fileType(url), fileUri: url } });
      // Fetching a client-named URL from the gateway would let clients aim it anywhere: only inline and gs:// pass.
      else throw badRequest('Gemini takes images as base64 data URLs (data:image/png;base64,...) or gs:// URIs', 'messages');
    } else {
      throw badRequest(`Gemini does not take content parts of type "${part.type}"`, 'messages');
    }
  }
  return parts;
}

function fileType(uri: string): string {
  const ext = uri.split('.').pop()?.toLowerCase() ?? '';
  const type = FILE_TYPES[ext];
  if (!type) throw badRequest(`cannot tell the media type of ${uri}; name it with an extension such as .png or .pdf`, 'messages');
  return type;
}

function modelParts(message: OpenAIMessage, toolNames: Map<string, string>): GeminiPart[] {
  const text = contentText(message.content);
  const parts: GeminiPart[] = text ? [{ text }] : [];
  for (const call of message.tool_calls ?? []) {
    const name = toolName(call);
    if (typeof call.id === 'string') toolNames.set(call.id, name);
    parts.push({ functionCall: { name, args: toolArguments(call) } });
  }
  return parts;
}

function generationConfig(body: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const set = (name: string, value: unknown) => {
    if (value !== undefined) config[name] = value;
  };
  set('maxOutputTokens', maxTokensOf(body));
  set('temperature', numberField(body, 'temperature'));
  set('topP', numberField(body, 'top_p'));
  set('topK', numberField(body, 'top_k'));
  set('stopSequences', stopSequences(body));
  set('presencePenalty', numberField(body, 'presence_penalty'));
  set('frequencyPenalty', numberField(body, 'frequency_penalty'));
  set('seed', numberField(body, 'seed'));
  const n = numberField(body, 'n');
  if (n !== undefined && n > 1) config.candidateCount = n;
  const format = body.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type === 'json_object' || format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    const schema = format.json_schema?.schema;
    if (format.type === 'json_schema' && schema && typeof schema === 'object') config.responseSchema = geminiSchema(schema);
  }
  return config;
}

// JSON Schema keywords Gemini's OpenAPI-subset Schema refuses ("Unknown name ...").
const UNSUPPORTED_SCHEMA_KEYS = new Set(['$schema', '$id', 'additionalProperties', 'strict']);

/** A JSON Schema trimmed to what Gemini's Schema object takes. */
export function geminiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(geminiSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (UNSUPPORTED_SCHEMA_KEYS.has(key)) continue;
    if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, geminiSchema(sub)]));
    } else {
      out[key] = typeof value === 'object' ? geminiSchema(value) : value;
    }
  }
  return out;
}
