import { z } from 'zod';
import type { TollgateConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { responsesGatewayView } from '../openai/request-schemas.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { DEFAULT_MAX_FORM_BYTES } from '../openai/read-form.ts';
import { ENDPOINT_PATHS } from '../providers/openai-compatible/adapter.ts';
import type { Endpoint } from '../providers/types.ts';
import type { ModelCallOptions } from './call-context.ts';
import type { StoredPromptLookup } from '../prompts/apply.ts';
import { validated } from './call-helpers.ts';
import { namesPrompt, promptedBody, refuseUnappliedPrompt } from './prompt-body.ts';

/** Any JSON object, as read-body.ts has already checked it is one: no copy, no walk of its fields. */
const JSON_OBJECT = z.custom<Record<string, unknown>>(() => true);

/**
 * A model call's body, validated: JSON read within `max_request_size_mb`, a form read by the route,
 * or a body another route already translated; the model a path names over the body's; a Responses
 * call as the gateway sees it; the route's default model where the body names none. A chat body
 * naming a managed prompt is checked once the prompt's messages and model are in; `authenticated` (the
 * key known and usable) runs before a prompt API is asked and before any refusal of such a body, so a
 * refused key makes no prompt API call and learns nothing of a prompt. `storedPrompts` finds the prompts stored
 * through `/prompts` (prompts/stored.ts), asked only for a prompt_id config.yaml does not have.
 */
export async function readCallBody(
  request: Request, endpoint: Endpoint, schema: z.ZodType<Record<string, unknown>>, options: ModelCallOptions, config: TollgateConfig,
  authenticated: () => Promise<void>, storedPrompts?: StoredPromptLookup,
): Promise<Record<string, unknown>> {
  const limit = bodyLimit(config);
  const { modelFromPath } = options;
  const given = options.body ?? (options.readBody ? await options.readBody(request, limit.maxBytes ?? DEFAULT_MAX_FORM_BYTES) : undefined);
  const readOptions = { ...limit, ...(modelFromPath ? { overrides: { model: modelFromPath } } : {}) };
  const route = `/${ENDPOINT_PATHS[endpoint]}`;
  let read: Record<string, unknown>;
  if (given) {
    // A body another route built (/v1/messages, /v1/rag/query) was decided on before any prompt: those routes refuse one.
    read = validated(schema, modelFromPath ? { ...given, model: modelFromPath } : given);
    if (namesPrompt(read)) await refuseUnappliedPrompt(read, route, authenticated);
  } else if (endpoint === 'chat') {
    // Checked once its prompt (config.yaml's, else a stored one) is in: it may leave out the caller's messages.
    // A chat naming no prompt is checked as it is, by the schema's fast check as when read with it.
    const raw = await readJsonBody(request, JSON_OBJECT, readOptions);
    read = await promptedBody(raw, config.prompts, authenticated, (body) => validated(schema, body), storedPrompts);
  } else {
    read = await readJsonBody(request, schema, readOptions);
    if (namesPrompt(read)) await refuseUnappliedPrompt(read, route, authenticated);
  }
  for (const field of options.dropFields ?? []) delete read[field];
  const body = endpoint === 'responses' ? responsesGatewayView(read) : read;
  if (body.model === undefined && options.defaultModel) {
    const fallback = options.defaultModel(config);
    if (!fallback) throw new GatewayError(`model is required: no model group of config.yaml serves /${ENDPOINT_PATHS[endpoint]} by default (e.g. one of openai/omni-moderation-latest)`, { status: 400, type: 'bad_request_error', param: 'model' });
    body.model = fallback;
  }
  return body;
}
