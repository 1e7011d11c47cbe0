import type { z } from 'zod';
import { badRequest, GatewayError } from '../errors.ts';

/** LiteLLM's default `max_request_size_mb` is unlimited; a gateway at the edge needs a bound. */
export const DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024;

/**
 * Reads and validates a JSON body. Every failure is a 400 in the OpenAI
 * envelope naming the field, before anything else is spent on the request.
 */
export async function readJsonBody<S extends z.ZodType>(request: Request, schema: S, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<z.output<S>> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const text = await request.text();
  if (text.length > maxBytes) throw tooLarge(maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw badRequest('Invalid JSON in request body');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw badRequest('Request body must be a JSON object');
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const param = first?.path.length ? first.path.map(String).join('.') : null;
    const message = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');
    throw badRequest(message, param);
  }
  return parsed.data;
}

function tooLarge(maxBytes: number) {
  return new GatewayError(`Request body too large (limit ${Math.round(maxBytes / 1024 / 1024)} MB)`, {
    status: 413, type: 'bad_request_error',
  });
}
