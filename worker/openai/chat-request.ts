import { z } from 'zod';

/**
 * The part of an OpenAI chat request the gateway reads. Everything else is
 * passed through untouched (`looseObject`), so this stays "limited to what
 * is needed".
 */
const contentPart = z.looseObject({ type: z.string() });
export const chatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
});

export const chatRequestSchema = z.looseObject({
  model: z.string({ error: 'model is required' }).min(1, 'model must not be empty'),
  messages: z.array(chatMessageSchema, { error: 'messages must be a list of messages' }).min(1, 'messages must not be empty'),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  user: z.string().optional(),
  mock_response: z.string().optional(),
});

export type ChatRequest = z.output<typeof chatRequestSchema>;
export type ChatMessage = z.output<typeof chatMessageSchema>;

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}
