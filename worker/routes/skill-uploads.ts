import type { Caller } from '../auth/authenticate.ts';
import { badRequest } from '../errors.ts';
import type { ModelCatalog } from '../models/deployments.ts';
import { filterParts, multipartBoundary } from '../openai/multipart-filter.ts';
import { bodyLimit, tooLarge } from '../openai/read-body.ts';
import { readFormData } from '../openai/read-form.ts';
import type { GatewayState } from '../state.ts';
import { type Ctx, namedGroup, type ObjectHome } from './provider-objects.ts';

/** A skill's upload read whole to find its `model` form field is held in memory: never past this (Anthropic takes 8 MB a skill). */
const MAX_HELD_BYTES = 25 * 1024 * 1024;
/** The form fields that route the upload here (LiteLLM's): never sent on. */
const GATEWAY_FIELDS = new Set(['model', 'custom_llm_provider', 'target_model_names']);

/** A skill's (or version's) files as they go to Anthropic, and how to name a failure of the body rather than of the provider. */
export interface SkillUpload {
  body: ReadableStream<Uint8Array> | FormData;
  contentType?: string;
  /** The error to throw when the provider call failed because the client's body did (too large, not multipart); undefined otherwise. */
  bodyFailure(): Error | undefined;
}

/**
 * The multipart body of `POST /v1/skills` (or a version's) for the account `homeOf` picks. With the model group
 * named outside the body (`?model=`, `x-litellm-model`, or none needed: a version goes where its skill is), the
 * files stream through as sent, counted against `max_request_size_mb`, the gateway's own fields cut out;
 * otherwise the form is read (bounded) to find its `model` field. The caller is already authenticated: a
 * refused key's body is never read.
 */
export async function skillUpload(c: Ctx, state: GatewayState, caller: Caller, catalog: ModelCatalog, homeOf: (group: string | undefined) => ObjectHome, streamed: boolean): Promise<{ home: ObjectHome; upload: SkillUpload }> {
  const { maxBytes } = bodyLimit(state.config);
  const type = c.req.header('content-type') ?? '';
  const named = namedGroup(c);
  if (streamed || named) {
    const boundary = multipartBoundary(type);
    if (!boundary || !c.req.raw.body) throw badRequest('Request body must be multipart/form-data (the skill\'s files and its display_title)');
    if (maxBytes !== undefined && Number(c.req.header('content-length') ?? NaN) > maxBytes) throw tooLarge(maxBytes);
    const home = homeOf(named);
    let invalid: Error | undefined;
    const body = filterParts(c.req.raw.body, boundary, {
      keeps: (name) => !GATEWAY_FIELDS.has(name),
      failed: (err) => (invalid = err),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    });
    const bodyFailure = () => {
      if (invalid instanceof RangeError && maxBytes !== undefined) return tooLarge(maxBytes);
      return invalid ? badRequest(`Invalid multipart/form-data body: ${invalid.message}`) : undefined;
    };
    return { home, upload: { body, contentType: type, bodyFailure } };
  }
  const form = await readFormData(c.req.raw, Math.min(maxBytes ?? MAX_HELD_BYTES, MAX_HELD_BYTES), 'the skill\'s files and its display_title');
  const field = form.get('model');
  const home = homeOf(typeof field === 'string' && field !== '' ? field : undefined);
  const body = new FormData();
  for (const [name, value] of form) {
    if (GATEWAY_FIELDS.has(name)) continue;
    if (value instanceof File) body.append(name, value, value.name);
    else body.append(name, value);
  }
  return { home, upload: { body, bodyFailure: () => undefined } };
}
