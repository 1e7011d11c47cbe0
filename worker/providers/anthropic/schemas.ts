import { z } from 'zod';

/**
 * Anthropic's Messages API answers, limited to what the gateway reads
 * (`looseObject`: fields Anthropic adds later pass unnoticed).
 * https://docs.anthropic.com/en/api/messages
 */
export const anthropicUsageSchema = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});
export type AnthropicUsage = z.output<typeof anthropicUsageSchema>;

/** One content block of an answer; its type-specific fields are read by the mappers. */
const contentBlock = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
  thinking: z.string().optional(),
  signature: z.string().optional(),
  data: z.string().optional(),
});
export type AnthropicContentBlock = z.output<typeof contentBlock>;

export const anthropicMessageSchema = z.looseObject({
  id: z.string(),
  model: z.string(),
  content: z.array(contentBlock),
  stop_reason: z.string().nullish(),
  stop_sequence: z.string().nullish(),
  usage: anthropicUsageSchema.nullish(),
});
export type AnthropicMessage = z.output<typeof anthropicMessageSchema>;

const errorBody = z.looseObject({ type: z.string(), message: z.string() });

/** `{type:'error', error:{type, message}}`, as an HTTP error body and as a stream's `error` event. */
export const anthropicErrorSchema = z.looseObject({ type: z.literal('error'), error: errorBody });

/**
 * The stream's events. Anthropic may add event types ("handle unknown events
 * gracefully"), so only these are parsed; anything else is skipped.
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export const anthropicStreamEventSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('message_start'),
    message: z.looseObject({ id: z.string(), model: z.string(), usage: anthropicUsageSchema.nullish() }),
  }),
  z.looseObject({ type: z.literal('content_block_start'), index: z.number(), content_block: contentBlock }),
  z.looseObject({
    type: z.literal('content_block_delta'),
    index: z.number(),
    delta: z.looseObject({
      type: z.string(),
      text: z.string().optional(),
      partial_json: z.string().optional(),
      thinking: z.string().optional(),
      signature: z.string().optional(),
    }),
  }),
  z.looseObject({ type: z.literal('content_block_stop'), index: z.number() }),
  z.looseObject({
    type: z.literal('message_delta'),
    delta: z.looseObject({ stop_reason: z.string().nullish(), stop_sequence: z.string().nullish() }),
    usage: anthropicUsageSchema.nullish(),
  }),
  z.looseObject({ type: z.literal('message_stop') }),
  z.looseObject({ type: z.literal('ping') }),
  z.looseObject({ type: z.literal('error'), error: errorBody }),
]);
export type AnthropicStreamEvent = z.output<typeof anthropicStreamEventSchema>;

export const STREAM_EVENT_TYPES: ReadonlySet<string> = new Set([
  'message_start', 'content_block_start', 'content_block_delta', 'content_block_stop',
  'message_delta', 'message_stop', 'ping', 'error',
]);
