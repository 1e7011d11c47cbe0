/**
 * LiteLLM's `POST /prompts/test` (its prompt playground): a dotprompt sent with the request, turned into the chat
 * body the call makes. The front matter is read and the template rendered as config.yaml's and stored dotprompts
 * are (front-matter.ts, dotprompt.ts); the front matter must name the model, its other settings (all but `input`
 * and `output`; a managed prompt's `prompt_*` fields are a 400) go with the call, and the answer is always streamed
 * (the route's `messages` and `stream` win). With `conversation_history` the rendered system messages stay and the
 * history replaces the rest, as the playground carries a chat on.
 */
import { z } from 'zod';
import { badRequest, GatewayError } from '../errors.ts';
import { compileDotprompt } from './dotprompt.ts';
import { type FrontMatter, splitFrontMatter } from './front-matter.ts';
import type { CompiledPrompt } from './types.ts';

/** The id errors name the template by, LiteLLM's own for this route. */
const TEMPLATE_ID = 'test_prompt';

/** The longest dotprompt taken, in characters: a prompt being tried, not a document (a 400 past it). */
export const MAX_DOTPROMPT_CHARS = 256 * 1024;

/**
 * A managed prompt's own fields: the dotprompt is the prompt here, so front matter naming one (another prompt, or
 * variables beside the request's) is refused rather than sent on as a chat's.
 */
const PROMPT_FIELDS = ['prompt_id', 'prompt_variables', 'prompt_version', 'prompt_label'];

const object = z.record(z.string(), z.unknown(), { error: 'must be an object' });

/** LiteLLM's TestPromptRequest. The 400 names the field before each message (read-body.ts), so they do not. */
export const testPromptSchema = z.object({
  dotprompt_content: z.string({ error: 'must be a string' }).max(MAX_DOTPROMPT_CHARS, { error: `must be at most ${MAX_DOTPROMPT_CHARS} characters` }),
  prompt_variables: object.nullable().optional(),
  conversation_history: z.array(object, { error: 'must be a list of messages' }).nullable().optional(),
});

type TestPromptRequest = z.output<typeof testPromptSchema>;

/** The chat body `request` makes: 400s (before anything is called) for a dotprompt that cannot make one. */
export function testPromptBody(request: TestPromptRequest): Record<string, unknown> {
  const { metadata, template } = readDotprompt(request.dotprompt_content);
  const model = metadata.model;
  if (typeof model !== 'string' || !model) throw badRequest('Model is required in dotprompt metadata', 'dotprompt_content');
  const field = PROMPT_FIELDS.find((f) => Object.hasOwn(metadata, f));
  if (field) throw badRequest(`${field} cannot be set in the front matter of dotprompt_content: the dotprompt is the prompt`, 'dotprompt_content');
  const { messages, params } = rendered(metadata, template, request.prompt_variables ?? {});
  if (!messages.length) throw badRequest('No messages found in rendered prompt', 'dotprompt_content');
  const history = request.conversation_history;
  const chat = history?.length ? [...messages.filter((m) => m.role === 'system'), ...history] : messages;
  return { ...params, model, messages: chat, stream: true };
}

function readDotprompt(content: string): { metadata: FrontMatter; template: string } {
  try {
    return splitFrontMatter(content);
  } catch (err) {
    throw badRequest(`Invalid YAML frontmatter: ${(err as Error).message}`, 'dotprompt_content');
  }
}

/** The template's messages and the front matter's settings; a template error names the field it came in. */
function rendered(metadata: FrontMatter, template: string, variables: Record<string, unknown>): CompiledPrompt {
  try {
    return compileDotprompt(TEMPLATE_ID, { metadata, template }, variables);
  } catch (err) {
    if (err instanceof GatewayError && err.param === 'prompt_id') throw badRequest(err.message, 'dotprompt_content');
    throw err;
  }
}
