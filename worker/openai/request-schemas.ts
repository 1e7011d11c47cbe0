import { z } from 'zod';

/**
 * The parts of OpenAI request bodies the gateway reads. Everything else is
 * kept (`looseObject`) and handed to the provider adapter, which decides what
 * its provider takes.
 */
const contentPart = z.looseObject({ type: z.string() });
const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function'], { error: 'role must be one of system, developer, user, assistant, tool, function' }),
  content: z.union([z.string(), z.array(contentPart), z.null()], { error: 'content must be a string, a list of parts or null' }).optional(),
});

const model = z.string({ error: 'model is required' }).min(1, 'model must not be empty');
const streamOptions = z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional();
const common = {
  model,
  user: z.string({ error: 'user must be a string' }).optional(),
  mock_response: z.string({ error: 'mock_response must be a string' }).optional(),
  metadata: z.record(z.string(), z.unknown(), { error: 'metadata must be an object' }).nullable().optional(),
  tags: z.array(z.string(), { error: 'tags must be a list of strings' }).optional(),
};

export const chatRequestSchema = z.looseObject({
  ...common,
  messages: z.array(message, { error: 'messages must be a list of messages' }).min(1, 'messages must not be empty'),
  stream: z.boolean({ error: 'stream must be true or false' }).nullable().optional(),
  stream_options: streamOptions,
  max_tokens: z.number({ error: 'max_tokens must be a number' }).int().positive().nullable().optional(),
  max_completion_tokens: z.number({ error: 'max_completion_tokens must be a number' }).int().positive().nullable().optional(),
  temperature: z.number({ error: 'temperature must be a number' }).min(0).max(2).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
});

export const completionRequestSchema = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()), z.array(z.number()), z.array(z.array(z.number()))], { error: 'prompt must be a string or a list' }),
  stream: z.boolean({ error: 'stream must be true or false' }).nullable().optional(),
  stream_options: streamOptions,
  max_tokens: z.number({ error: 'max_tokens must be a number' }).int().positive().nullable().optional(),
});

export const embeddingRequestSchema = z.looseObject({
  ...common,
  input: z.union([z.string(), z.array(z.string()), z.array(z.number()), z.array(z.array(z.number()))], { error: 'input must be a string or a list' }),
  encoding_format: z.enum(['float', 'base64'], { error: 'encoding_format must be "float" or "base64"' }).optional(),
  dimensions: z.number().int().positive().optional(),
});

export type ChatRequest = z.output<typeof chatRequestSchema>;

/** The text a request sends, for a prompt-size estimate (token reservation, streams cut short). */
export function promptText(body: Record<string, unknown>): string {
  if (Array.isArray(body.messages)) {
    return body.messages.map((m: { content?: unknown }) => {
      if (typeof m.content === 'string') return m.content;
      if (Array.isArray(m.content)) return m.content.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join(' ');
      return '';
    }).join('\n');
  }
  const value = body.prompt ?? body.input;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : ' '.repeat(4 * (Array.isArray(v) ? v.length : 1)))).join('\n');
  return '';
}
