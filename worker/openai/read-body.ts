import type { z } from 'zod';
import { badRequest, GatewayError } from '../errors.ts';
import { drainSource } from './multipart-filter.ts';
import { parseRequest } from './request-schemas.ts';

/** LiteLLM's default `max_request_size_mb` is unlimited; a gateway at the edge needs a bound (config can change it). */
export const DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024;

/**
 * Reads and validates a JSON body. Every failure is a 400 in the OpenAI
 * envelope naming the field, before anything else is spent on the request.
 */
export async function readJsonBody<S extends z.ZodType>(
  request: Request,
  schema: S,
  options: { maxBytes?: number; overrides?: Record<string, unknown> } = {},
): Promise<z.output<S>> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  // A declared length within the limit lets the runtime read the body natively; otherwise count as we read.
  const text = Number.isFinite(declared) ? await request.text() : new TextDecoder().decode(await readBoundedBytes(request, maxBytes));
  if (text.length > maxBytes) throw tooLarge(maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw badRequest('Invalid JSON in request body');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw badRequest('Request body must be a JSON object');
  if (options.overrides) Object.assign(json, options.overrides);
  const parsed = parseRequest(schema, json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const param = first?.path.length ? first.path.map(String).join('.') : null;
    const message = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');
    throw badRequest(message, param);
  }
  return parsed.data;
}

/** readJsonBody's limit from `general_settings.max_request_size_mb` (its own default without one). */
export function bodyLimit(config: { general_settings: { max_request_size_mb?: number } }): { maxBytes?: number } {
  const sizeMb = config.general_settings.max_request_size_mb;
  return sizeMb ? { maxBytes: sizeMb * 1024 * 1024 } : {};
}

/** The 413 of a body past `max_request_size_mb`. */
export function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(`Request body too large (limit ${+(maxBytes / 1024 / 1024).toFixed(2)} MB, general_settings.max_request_size_mb)`, {
    status: 413, type: 'bad_request_error',
  });
}

/** Reads the body's bytes (a request's, or an upstream's answer), stopping as soon as they pass `maxBytes` (a chunked upload has no length to check first). */
export async function readBoundedBytes(request: { body: ReadableStream<Uint8Array> | null }, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * A request's body as JSON, bounded by `max_request_size_mb` (over it: the 413 readBoundedBytes throws);
 * undefined when the body is not JSON, for the route to word its refusal (a JSON-RPC parse error, a 400).
 */
export async function readJsonObject(request: Request, config: { general_settings: { max_request_size_mb?: number } }): Promise<{ json: unknown } | undefined> {
  const bytes = await readBoundedBytes(request, bodyLimit(config).maxBytes ?? DEFAULT_MAX_BODY_BYTES);
  try {
    return { json: JSON.parse(new TextDecoder().decode(bytes)) };
  } catch {
    return undefined;
  }
}

/** The most of a refused upload read to its end before answering (a skill's held form's bound; uploads past it may see a reset). */
export const MAX_DRAINED_BYTES = 25 * 1024 * 1024;

/**
 * After a refusal of an authenticated caller's upload (a group without Anthropic, a key over its limits, an
 * unknown container), the rest of a body of declared length within the bound is read and dropped before
 * answering: a client still writing it would otherwise see its connection reset instead of the answer. `pending`
 * is the body as it would have been sent on: when multipart-filter made it, what is left of its source is read,
 * whether the send never took it or failed with it (a provider unreachable, or answering before the upload
 * ended). Nothing is read for a caller that is not known (the route does not call this), after a 413, nor past
 * the bound (the lower of max_request_size_mb and MAX_DRAINED_BYTES).
 */
export async function drainRefused(
  request: Request, config: { general_settings: { max_request_size_mb?: number } }, err: unknown, pending?: ReadableStream<Uint8Array> | FormData,
): Promise<void> {
  if (err instanceof GatewayError && err.status === 413) return;
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (!(declared <= Math.min(bodyLimit(config).maxBytes ?? MAX_DRAINED_BYTES, MAX_DRAINED_BYTES))) return;
  if (pending instanceof ReadableStream && await drainSource(pending).catch(() => true)) return;
  const body = request.body;
  if (!body || body.locked) return;
  await body.pipeTo(new WritableStream()).catch(() => undefined);
}
