import type { z } from 'zod';
import { GatewayError } from '../../worker/errors.ts';
import type { AdminContext } from './context.ts';

/**
 * A request body checked against its zod schema. A body that is not JSON is
 * a 400; fields of the wrong type or shape are LiteLLM's (FastAPI's) 422,
 * naming every bad field. Nothing is written before this passes.
 */
export async function parseBody<S extends z.ZodType>(c: AdminContext, schema: S): Promise<z.output<S>> {
  let json: unknown;
  try {
    const text = await c.req.text();
    json = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new GatewayError('Invalid JSON in request body', { status: 400, type: 'bad_request_error' });
  }
  return check(schema, json, 'body');
}

/** Query parameters checked the same way (422 naming each bad field). */
export function parseQuery<S extends z.ZodType>(c: AdminContext, schema: S): z.output<S> {
  return check(schema, c.req.query(), 'query');
}

function check<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : where}: ${i.message}`);
  const first = parsed.error.issues[0];
  throw new GatewayError(`Invalid request ${where}: ${problems.join('; ')}`, {
    status: 422, type: 'validation_error', param: first?.path.length ? first.path.map(String).join('.') : null,
  });
}

/** A 400 for a well-formed request that cannot be applied (LiteLLM's HTTPException(400)). */
export function badRequest(message: string, param: string | null = null): GatewayError {
  return new GatewayError(message, { status: 400, type: 'bad_request_error', param });
}

export function notFound(message: string): GatewayError {
  return new GatewayError(message, { status: 404, type: 'not_found_error' });
}
