/** OpenAI/Azure `chat.completion` objects and their streamed `chat.completion.chunk`s, as put on the wire. */

import { azurePromptFilterResults, azureSafeFilterResults, chatUsage, fakeId, now, SYSTEM_FINGERPRINT, type FinishReason, type Flavor, type ToolCallInput } from './openai-format-common.ts';

export interface ChatCompletionInput {
  model: string;
  content: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens?: number;
  reasoningTokens?: number;
  /** Defaults to 'tool_calls' when toolCalls are given, else 'stop'. */
  finishReason?: FinishReason;
  toolCalls?: ToolCallInput[];
  /** The message's `reasoning_content`, as DeepSeek and vLLM send a reasoning model's thinking. */
  reasoningContent?: string;
  id?: string;
  created?: number;
  flavor?: Flavor;
}

/** A non-streamed `chat.completion` object. */
export function openaiChatCompletion(input: ChatCompletionInput) {
  const azure = input.flavor === 'azure';
  const message: Record<string, unknown> = { role: 'assistant', content: input.content, refusal: null, annotations: [] };
  if (input.reasoningContent !== undefined) message.reasoning_content = input.reasoningContent;
  if (input.toolCalls?.length) message.tool_calls = input.toolCalls.map((c) => ({ id: c.id ?? fakeId('call_'), type: 'function', function: { name: c.name, arguments: c.arguments } }));
  const finish = input.finishReason ?? (input.toolCalls?.length ? 'tool_calls' : 'stop');
  return {
    id: input.id ?? fakeId('chatcmpl-'),
    object: 'chat.completion',
    created: input.created ?? now(),
    model: input.model,
    ...(azure ? { prompt_filter_results: azurePromptFilterResults() } : {}),
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish, ...(azure ? { content_filter_results: input.content ? azureSafeFilterResults() : {} } : {}) }],
    usage: chatUsage(input.promptTokens, input.completionTokens, input.cachedTokens, input.reasoningTokens),
    ...(azure ? {} : { service_tier: 'default' }),
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** A non-streamed answer with OpenAI's audio output (`message.audio`: an id the provider keeps until `expires_at`, in seconds). */
export function openaiAudioChatCompletion(audioId: string, expiresAt: number) {
  return {
    id: `chatcmpl-${audioId}`, object: 'chat.completion', created: 1, model: 'gpt-4o-audio-preview',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: null, audio: { id: audioId, expires_at: expiresAt, data: 'UklGRg==', transcript: 'hello' } } }],
    usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
  };
}

export interface ChatChunksInput {
  model: string;
  /** Content deltas, one chunk each. */
  pieces: string[];
  promptTokens: number;
  completionTokens: number;
  /** As requested with `stream_options.include_usage`: adds `usage: null` to every chunk and a final usage chunk with `choices: []`. */
  includeUsage: boolean;
  cachedTokens?: number;
  /** In the usage chunk's `completion_tokens_details.reasoning_tokens`. */
  reasoningTokens?: number;
  /** Reasoning deltas, one chunk each, before the content (content null in them, as DeepSeek streams them). */
  reasoningPieces?: string[];
  /** The delta field the reasoning streams in: `reasoning_content` (DeepSeek, vLLM; the default) or `reasoning` (OpenRouter). */
  reasoningField?: 'reasoning_content' | 'reasoning';
  finishReason?: FinishReason;
  /** Streamed after the pieces: per call, a chunk with id and name, then one with the arguments. */
  toolCalls?: ToolCallInput[];
  /** Each call's arguments in this many chunks, as OpenAI streams them (default 1). */
  argumentPieces?: number;
  id?: string;
  created?: number;
  flavor?: Flavor;
}

/**
 * The `chat.completion.chunk` objects of one streamed answer, without the
 * trailing '[DONE]' (the caller appends it). Azure additionally opens with a
 * chunk that has empty id/model/object, `created: 0`, `choices: []` and the
 * prompt's filter verdicts: parsers must survive it.
 */
export function openaiChatChunks(input: ChatChunksInput): Record<string, unknown>[] {
  const azure = input.flavor === 'azure';
  const id = input.id ?? fakeId('chatcmpl-');
  const head = { id, object: 'chat.completion.chunk', created: input.created ?? now(), model: input.model, ...(azure ? {} : { service_tier: 'default' }), system_fingerprint: SYSTEM_FINGERPRINT };
  const usageNull = input.includeUsage ? { usage: null } : {};
  const choice = (delta: Record<string, unknown>, finish: FinishReason | null, filter: 'none' | 'safe') => {
    const annotations = azure ? { content_filter_results: filter === 'safe' ? azureSafeFilterResults() : {} } : {};
    return { ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...annotations }], ...usageNull };
  };
  const out: Record<string, unknown>[] = [];
  if (azure) out.push({ id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: azurePromptFilterResults(), ...usageNull });
  const calls = input.toolCalls ?? [];
  out.push(choice({ role: 'assistant', content: calls.length && !input.pieces.length ? null : '', refusal: null }, null, 'none'));
  for (const piece of input.reasoningPieces ?? []) out.push(choice({ content: null, [input.reasoningField ?? 'reasoning_content']: piece }, null, 'none'));
  for (const piece of input.pieces) out.push(choice({ content: piece }, null, 'safe'));
  calls.forEach((call, index) => {
    out.push(choice({ tool_calls: [{ index, id: call.id ?? fakeId('call_'), type: 'function', function: { name: call.name, arguments: '' } }] }, null, 'none'));
    const pieces = input.argumentPieces ?? 1;
    for (let i = 0; i < pieces; i++) {
      const piece = call.arguments.slice(Math.floor((i * call.arguments.length) / pieces), Math.floor(((i + 1) * call.arguments.length) / pieces));
      out.push(choice({ tool_calls: [{ index, function: { arguments: piece } }] }, null, 'none'));
    }
  });
  out.push(choice({}, input.finishReason ?? (calls.length ? 'tool_calls' : 'stop'), 'none'));
  if (input.includeUsage) out.push({ ...head, choices: [], usage: chatUsage(input.promptTokens, input.completionTokens, input.cachedTokens, input.reasoningTokens) });
  return out;
}
