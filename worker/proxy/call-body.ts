import type { z } from 'zod';
import type { TollgateConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { responsesGatewayView } from '../openai/request-schemas.ts';
import { bodyLimit, readJsonBody } from '../openai/read-body.ts';
import { DEFAULT_MAX_FORM_BYTES } from '../openai/read-form.ts';
import { ENDPOINT_PATHS } from '../providers/openai-compatible/adapter.ts';
import type { Endpoint } from '../providers/types.ts';
import type { ModelCallOptions } from './call-context.ts';
import { validated } from './call-helpers.ts';

/**
 * A model call's body, validated: JSON read within `max_request_size_mb`, a form read by the route,
 * or a body another route already translated; the model a path names over the body's; a Responses
 * call as the gateway sees it; the route's default model where the body names none.
 */
export async function readCallBody(
  request: Request, endpoint: Endpoint, schema: z.ZodType<Record<string, unknown>>, options: ModelCallOptions, config: TollgateConfig,
): Promise<Record<string, unknown>> {
  const limit = bodyLimit(config);
  const { modelFromPath } = options;
  const given = options.body ?? (options.readBody ? await options.readBody(request, limit.maxBytes ?? DEFAULT_MAX_FORM_BYTES) : undefined);
  const read = given
    ? validated(schema, modelFromPath ? { ...given, model: modelFromPath } : given)
    : await readJsonBody(request, schema, {
      ...limit,
      ...(modelFromPath ? { overrides: { model: modelFromPath } } : {}),
    });
  for (const field of options.dropFields ?? []) delete read[field];
  const body = endpoint === 'responses' ? responsesGatewayView(read) : read;
  if (body.model === undefined && options.defaultModel) {
    const fallback = options.defaultModel(config);
    if (!fallback) throw new GatewayError(`model is required: no model group of config.yaml serves /${ENDPOINT_PATHS[endpoint]} by default (e.g. one of openai/omni-moderation-latest)`, { status: 400, type: 'bad_request_error', param: 'model' });
    body.model = fallback;
  }
  return body;
}
