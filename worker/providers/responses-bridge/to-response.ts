import { PROVIDER_METADATA } from '../types.ts';

/**
 * A chat completion as a Responses API `response` object: the assistant's
 * reasoning as a `reasoning` item, its text as a `message` item with one
 * `output_text` part, each tool call as a `function_call` item; chat's usage
 * under the Responses API's names; a cut-off answer (`length`,
 * `content_filter`) is `incomplete`. The request's settings are echoed as
 * OpenAI echoes them.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The parts of a bridged response known before the answer: its id, when it was made, the request it answers. */
export interface ResponseShell {
  id: string;
  createdAt: number;
  /** The request as the adapter got it (the gateway's view: the client's metadata under PROVIDER_METADATA). */
  request: Json;
}

export function newShell(request: Json): ResponseShell {
  return { id: `resp_${crypto.randomUUID().replaceAll('-', '')}`, createdAt: Math.floor(Date.now() / 1000), request };
}

export const itemId = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`;

export interface ChatUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

export function responsesUsage(usage: ChatUsage | null | undefined): Json | null {
  if (!usage) return null;
  const input = usage.prompt_tokens ?? 0;
  const output = usage.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens ?? input + output,
  };
}

/** Why an answer stopped short, as the Responses API says it; undefined for a complete one. */
export function incompleteReason(finishReason: unknown): string | undefined {
  if (finishReason === 'length') return 'max_output_tokens';
  if (finishReason === 'content_filter') return 'content_filter';
  return undefined;
}

/** The response object around `output`, in the state given. */
export function responseObject(shell: ResponseShell, model: string, status: string, output: Json[], usage: Json | null, extra: { incomplete?: string; error?: Json } = {}): Json {
  const r = shell.request;
  const reasoning = isObject(r.reasoning) ? r.reasoning : {};
  return {
    id: shell.id,
    object: 'response',
    created_at: shell.createdAt,
    status,
    error: extra.error ?? null,
    incomplete_details: extra.incomplete ? { reason: extra.incomplete } : null,
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    model,
    output,
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null },
    // Not stored: GET /v1/responses/{id} cannot find it.
    store: false,
    temperature: r.temperature ?? 1,
    text: isObject(r.text) ? r.text : { format: { type: 'text' } },
    tool_choice: r.tool_choice ?? 'auto',
    tools: Array.isArray(r.tools) ? r.tools : [],
    top_p: r.top_p ?? 1,
    truncation: 'disabled',
    usage,
    user: r.user ?? null,
    metadata: (r as Record<symbol, unknown>)[PROVIDER_METADATA] ?? {},
  };
}

export const messageItem = (id: string, text: string, status = 'completed'): Json => ({
  type: 'message', id, status, role: 'assistant', content: text === '' && status === 'in_progress' ? [] : [{ type: 'output_text', text, annotations: [] }],
});

export const reasoningItem = (id: string, text: string): Json => ({ type: 'reasoning', id, summary: text ? [{ type: 'summary_text', text }] : [] });

export const functionCallItem = (id: string, callId: string, name: string, args: string, status = 'completed'): Json => ({
  type: 'function_call', id, call_id: callId, name, arguments: args, status,
});

interface ChatCompletion {
  model?: unknown;
  choices?: { message?: { content?: unknown; reasoning_content?: unknown; tool_calls?: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }[] | null } | null; finish_reason?: unknown }[];
  usage?: ChatUsage | null;
}

/** A chat.completion answer as the response object. */
export function toResponse(chat: ChatCompletion, shell: ResponseShell): Json {
  const choice = chat.choices?.[0];
  const message = choice?.message ?? {};
  const output: Json[] = [];
  if (str(message.reasoning_content)) output.push(reasoningItem(itemId('rs'), str(message.reasoning_content)));
  const incomplete = incompleteReason(choice?.finish_reason);
  if (str(message.content)) output.push(messageItem(itemId('msg'), str(message.content), incomplete ? 'incomplete' : 'completed'));
  for (const call of message.tool_calls ?? []) {
    output.push(functionCallItem(itemId('fc'), str(call.id), str(call.function?.name), str(call.function?.arguments)));
  }
  return responseObject(shell, str(chat.model), incomplete ? 'incomplete' : 'completed', output, responsesUsage(chat.usage), incomplete ? { incomplete } : {});
}
