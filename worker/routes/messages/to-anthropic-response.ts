import { z } from 'zod';

type Json = Record<string, unknown>;

/** The parts of an OpenAI chat completion read here (other providers' answers pass the gateway as they came). */
const toolCall = z.looseObject({
  id: z.string().nullish(),
  function: z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});
export const chatCompletionSchema = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z.array(z.looseObject({
    message: z.looseObject({
      content: z.union([z.string(), z.array(z.looseObject({ type: z.string().optional(), text: z.string().optional() }))]).nullish(),
      tool_calls: z.array(toolCall).nullish(),
      reasoning_content: z.string().nullish(),
      thinking_blocks: z.array(z.looseObject({ type: z.string() })).nullish(),
      provider_specific_fields: z.looseObject({ stop_sequence: z.string().nullish() }).nullish(),
    }).nullish(),
    finish_reason: z.string().nullish(),
  })).nullish(),
  usage: z.looseObject({
    prompt_tokens: z.number().nullish(),
    completion_tokens: z.number().nullish(),
    prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
    cache_creation_input_tokens: z.number().nullish(),
    cache_read_input_tokens: z.number().nullish(),
  }).nullish(),
});
export type ChatCompletion = z.output<typeof chatCompletionSchema>;
export type ChatUsage = NonNullable<ChatCompletion['usage']>;

/** OpenAI's finish reason as Anthropic's stop reason. */
export function stopReasonOf(finishReason: string | null | undefined, stopSequence: string | null | undefined): string {
  switch (finishReason) {
    case 'length': return 'max_tokens';
    case 'tool_calls':
    case 'function_call': return 'tool_use';
    case 'content_filter': return 'refusal';
    default: return stopSequence ? 'stop_sequence' : 'end_turn';
  }
}

/**
 * Anthropic's usage from OpenAI's: cache reads from LiteLLM's
 * `cache_read_input_tokens` (else `cached_tokens`), cache writes from
 * `cache_creation_input_tokens`, and `input_tokens` the rest of the prompt,
 * as Anthropic counts it.
 */
export function anthropicUsage(usage: ChatUsage | null | undefined) {
  const n = (v: number | null | undefined) => (typeof v === 'number' && v > 0 ? Math.floor(v) : 0);
  const cacheRead = n(usage?.cache_read_input_tokens ?? usage?.prompt_tokens_details?.cached_tokens);
  const cacheCreation = n(usage?.cache_creation_input_tokens);
  return {
    input_tokens: Math.max(0, n(usage?.prompt_tokens) - cacheRead - cacheCreation),
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
    output_tokens: n(usage?.completion_tokens),
  };
}

/** Tool arguments as Anthropic's input object ({} when they are not a JSON object). */
export function toolInput(args: string | null | undefined): Json {
  try {
    const parsed = JSON.parse(args || '{}') as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Json : {};
  } catch {
    return {};
  }
}

/**
 * An OpenAI chat completion as an Anthropic message: thinking first, then
 * the text, then one `tool_use` block per tool call.
 */
export function toAnthropicMessage(completion: ChatCompletion): Json {
  const choice = completion.choices?.[0];
  const message = choice?.message;
  const content: Json[] = [];
  for (const block of message?.thinking_blocks ?? []) content.push(block);
  if (!message?.thinking_blocks?.length && message?.reasoning_content) {
    content.push({ type: 'thinking', thinking: message.reasoning_content, signature: '' });
  }
  const text = typeof message?.content === 'string'
    ? message.content
    : (message?.content ?? []).map((p) => p.text ?? '').join('');
  if (text) content.push({ type: 'text', text });
  for (const call of message?.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id ?? '', name: call.function?.name ?? '', input: toolInput(call.function?.arguments) });
  }
  const stopSequence = message?.provider_specific_fields?.stop_sequence ?? null;
  const stopReason = stopReasonOf(choice?.finish_reason, stopSequence);
  return {
    id: completion.id ?? '',
    type: 'message',
    role: 'assistant',
    model: completion.model ?? '',
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? stopSequence : null,
    usage: anthropicUsage(completion.usage),
  };
}
