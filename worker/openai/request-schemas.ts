import { z } from 'zod';
import { PROVIDER_METADATA } from '../providers/types.ts';

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

/**
 * `/v1/moderations`: text (a string or strings) or multimodal parts. `model` may be left out, as in
 * LiteLLM: the route names the config's moderation model group (moderationGroup in routes/model-calls.ts).
 */
export const moderationRequestSchema = z.looseObject({
  ...common,
  model: model.optional(),
  input: z.union([z.string(), z.array(z.string()), z.array(z.looseObject({ type: z.string() }))], { error: 'input must be a string, a list of strings or a list of parts' }),
});

/** `/v1/images/generations`: the prompt, and how many images (each priced; a stream of partial images is not served). */
export const imageGenerationRequestSchema = z.looseObject({
  ...common,
  prompt: z.string({ error: 'prompt must be a string' }).min(1, 'prompt must not be empty'),
  n: z.number({ error: 'n must be a number' }).int().min(1).max(10).nullable().optional(),
  stream: z.union([z.literal(false), z.null()], { error: 'stream: true (partial images) is not supported through the gateway' }).optional(),
});

/** `/v1/audio/speech`: the text to speak (priced per character) and the voice. */
export const speechRequestSchema = z.looseObject({
  ...common,
  input: z.string({ error: 'input must be a string' }).min(1, 'input must not be empty').max(4096, 'input must be at most 4096 characters'),
  voice: z.union([z.string(), z.looseObject({ id: z.string() })], { error: 'voice is required (a voice name)' }),
  stream: z.union([z.literal(false), z.null()], { error: 'stream: true is not supported through the gateway: the audio comes whole' }).optional(),
});

/** `/v1/audio/transcriptions` (multipart/form-data, read by read-form.ts): the audio file and the fields around it. */
export const transcriptionRequestSchema = z.looseObject({
  ...common,
  file: z.custom<File>((v) => v instanceof File, { error: 'file is required: the audio, as a file part of multipart/form-data' }),
  language: z.string({ error: 'language must be a string' }).optional(),
  prompt: z.string({ error: 'prompt must be a string' }).optional(),
  response_format: z.enum(['json', 'text', 'srt', 'verbose_json', 'vtt'], { error: 'response_format must be json, text, srt, verbose_json or vtt' }).optional(),
  temperature: z.number({ error: 'temperature must be a number' }).min(0).max(1).optional(),
  stream: z.union([z.literal(false), z.literal('false')], { error: 'stream: true is not supported through the gateway' }).optional(),
});

/** `/v1/images/edits` (multipart/form-data): the image or images (`image[]`), an optional mask, the prompt, how many images. */
const imageFile = z.custom<File>((v) => v instanceof File, { error: 'image must be a file part' });
export const imageEditRequestSchema = z.looseObject({
  ...common,
  image: z.union([imageFile, z.array(imageFile).min(1)], { error: 'image is required: the image (or images, as image[]) to edit, as file parts of multipart/form-data' }),
  mask: imageFile.optional(),
  prompt: z.string({ error: 'prompt must be a string' }).min(1, 'prompt must not be empty'),
  n: z.number({ error: 'n must be a number' }).int().min(1).max(10).optional(),
  stream: z.union([z.literal(false), z.literal('false')], { error: 'stream: true (partial images) is not supported through the gateway' }).optional(),
});

/** `/rerank` (Cohere's format, as LiteLLM serves it): a query and the documents to rank (text, or objects). */
export const rerankRequestSchema = z.looseObject({
  ...common,
  query: z.string({ error: 'query must be a string' }).min(1, 'query must not be empty'),
  documents: z.array(z.union([z.string(), z.record(z.string(), z.unknown())]), { error: 'documents must be a list of texts or objects' }).min(1, 'documents must not be empty'),
  top_n: z.number({ error: 'top_n must be a number' }).int().positive().optional(),
});

/** `/v1/responses`: the gateway reads the model, the input (for estimates and logs) and whether it streams. */
export const responsesRequestSchema = z.looseObject({
  ...common,
  // Optional, as in OpenAI's API: a stored prompt (`prompt`) or a conversation can stand in for it.
  input: z.union([z.string(), z.array(z.looseObject({}), { error: 'input items must be objects' })], { error: 'input must be a string or a list of input items' }).optional(),
  // The answer comes later: the gateway bills it once it is over (jobs/later-work.ts).
  background: z.boolean({ error: 'background must be true or false' }).nullable().optional(),
  instructions: z.string({ error: 'instructions must be a string' }).nullable().optional(),
  stream: z.boolean({ error: 'stream must be true or false' }).nullable().optional(),
  max_output_tokens: z.number({ error: 'max_output_tokens must be a number' }).int().positive().nullable().optional(),
}).refine((body) => !(body.background === true && body.stream === true), {
  message: 'background: true with stream: true is not supported through the gateway: create the response, then read it with GET /v1/responses/{id}',
  path: ['stream'],
});

/**
 * A Responses API body as the gateway reads it: `litellm_metadata` is its `metadata` (tags, spend-log
 * metadata, Langfuse fields), and the request's own `metadata`, the provider's, rides under
 * PROVIDER_METADATA for the adapter to send on.
 */
export function responsesGatewayView(body: Record<string, unknown>): Record<string, unknown> {
  const { metadata, litellm_metadata: gateway, ...rest } = body;
  const view: Record<string | symbol, unknown> = { ...rest };
  if (gateway !== undefined) view.metadata = gateway;
  if (metadata !== undefined) view[PROVIDER_METADATA] = metadata;
  return view as Record<string, unknown>;
}

export type ChatRequest = z.output<typeof chatRequestSchema>;

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);
const nullable = (v: unknown, check: (v: unknown) => boolean) => v === undefined || v === null || check(v);
const isString = (v: unknown) => typeof v === 'string';
const isPositiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;

/**
 * chatRequestSchema's checks by hand, for the hot path: true only for a body
 * the schema accepts as it is (a loose object's output is the input's own
 * values). Anything else, valid or not, goes through zod, which also words
 * the error. Tested to agree with the schema (request-schemas.test.ts).
 */
function chatBodyOk(body: unknown): boolean {
  if (!isObject(body)) return false;
  const { model, messages } = body;
  if (typeof model !== 'string' || model.length === 0) return false;
  if (!optional(body.user, isString) || !optional(body.mock_response, isString)) return false;
  if (!nullable(body.metadata, isObject)) return false;
  if (!optional(body.tags, (t) => Array.isArray(t) && t.every(isString))) return false;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const m of messages) {
    if (!isObject(m) || typeof m.role !== 'string' || !ROLES.has(m.role)) return false;
    const content = m.content;
    if (!nullable(content, (c) => typeof c === 'string' || (Array.isArray(c) && c.every((p) => isObject(p) && typeof p.type === 'string')))) return false;
  }
  if (!nullable(body.stream, (v) => typeof v === 'boolean')) return false;
  if (!nullable(body.stream_options, (o) => isObject(o) && optional(o.include_usage, (v) => typeof v === 'boolean'))) return false;
  if (!nullable(body.max_tokens, isPositiveInt) || !nullable(body.max_completion_tokens, isPositiveInt)) return false;
  if (!nullable(body.temperature, (t) => typeof t === 'number' && Number.isFinite(t) && t >= 0 && t <= 2)) return false;
  return nullable(body.n, (n) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 128);
}

const FAST_CHECKS = new Map<z.ZodType, (body: unknown) => boolean>([[chatRequestSchema, chatBodyOk]]);

/**
 * Validates a request body: a body that passes the schema's hand-written
 * check is returned as it is (no copy; zod's copy of a large chat is
 * measurable per request); otherwise zod decides and words the errors.
 */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.ZodSafeParseResult<z.output<S>> {
  if (FAST_CHECKS.get(schema)?.(body)) return { success: true, data: body as z.output<S> };
  return schema.safeParse(body);
}

/** The text a request sends, for a prompt-size estimate (token reservation, streams cut short). */
export function promptText(body: Record<string, unknown>): string {
  if (Array.isArray(body.messages)) {
    return body.messages.map((m: { content?: unknown }) => {
      if (typeof m.content === 'string') return m.content;
      if (Array.isArray(m.content)) return m.content.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join(' ');
      return '';
    }).join('\n');
  }
  const value = typeof body.prompt === 'string' || Array.isArray(body.prompt) ? body.prompt : body.input;
  // A Responses API input: a string, or items whose content is a string or parts with text.
  if (Array.isArray(value) && value.some((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
    const instructions = typeof body.instructions === 'string' ? `${body.instructions}\n` : '';
    return instructions + promptText({ messages: value.filter((v) => typeof v === 'object' && v !== null) });
  }
  if (typeof value === 'string') return typeof body.instructions === 'string' ? `${body.instructions}\n${value}` : value;
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : ' '.repeat(4 * (Array.isArray(v) ? v.length : 1)))).join('\n');
  return '';
}
