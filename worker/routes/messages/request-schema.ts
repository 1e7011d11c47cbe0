import { z } from 'zod';

/**
 * The parts of an Anthropic Messages API request the gateway reads
 * (https://docs.anthropic.com/en/api/messages); everything else is kept
 * (`looseObject`) and carried over to the chat body as it is.
 */
const block = z.looseObject({ type: z.string({ error: 'a content block needs a type' }) });
const content = z.union([z.string(), z.array(block)], { error: 'content must be a string or a list of content blocks' });

export const messagesRequestSchema = z.looseObject({
  model: z.string({ error: 'model: Field required' }).min(1, 'model must not be empty'),
  messages: z.array(
    z.looseObject({
      role: z.enum(['user', 'assistant', 'system'], { error: 'role must be one of user, assistant, system' }),
      content,
    }),
    { error: 'messages: Field required' },
  ).min(1, 'messages must not be empty'),
  system: content.optional(),
  max_tokens: z.number({ error: 'max_tokens must be a number' }).int().positive().optional(),
  stop_sequences: z.array(z.string(), { error: 'stop_sequences must be a list of strings' }).optional(),
  stream: z.boolean({ error: 'stream must be true or false' }).optional(),
  temperature: z.number({ error: 'temperature must be a number' }).optional(),
  top_p: z.number({ error: 'top_p must be a number' }).optional(),
  top_k: z.number({ error: 'top_k must be a number' }).int().optional(),
  tools: z.array(z.looseObject({
    name: z.string().optional(),
    type: z.string().optional(),
    description: z.string().optional(),
    input_schema: z.record(z.string(), z.unknown()).optional(),
  }), { error: 'tools must be a list of tools' }).optional(),
  tool_choice: z.looseObject({
    type: z.enum(['auto', 'any', 'tool', 'none'], { error: 'tool_choice.type must be one of auto, any, tool, none' }),
    name: z.string().optional(),
    disable_parallel_tool_use: z.boolean().optional(),
  }).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).nullish(),
});

export type MessagesRequest = z.output<typeof messagesRequestSchema>;
