import { badRequest, GatewayError } from '../errors.ts';
import { readBoundedBytes, tooLarge } from './read-body.ts';

/**
 * A multipart/form-data body (`/v1/audio/transcriptions`) as the fields the gateway reads: each file
 * as its File; `name[]` fields as a list under `name` and `name[key]` fields as an object (the way the
 * official SDKs write lists and objects); numbers where the field is numeric; `metadata` sent as JSON
 * text as its object; the rest as strings. Bounded like a JSON body (`max_request_size_mb`; a chunked
 * upload is counted as it is read); a 400 for any other kind of body.
 */
const NUMERIC = new Set(['temperature', 'n', 'output_compression']);
/** OpenAI takes audio files up to 25 MB: the bound when max_request_size_mb sets none. */
export const DEFAULT_MAX_FORM_BYTES = 26 * 1024 * 1024;

export async function readFormBody(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const form = await readFormData(request, maxBytes, 'the audio file and its fields');
  const body: Record<string, unknown> = {};
  for (const [name, value] of form) {
    const nested = /^([^[\]]+)\[([^[\]]*)\]$/.exec(name);
    if (nested && nested[2] === '') {
      const key = nested[1]!;
      body[key] = [...(Array.isArray(body[key]) ? body[key] as unknown[] : []), value];
    } else if (nested) {
      const key = nested[1]!;
      const object = body[key] && typeof body[key] === 'object' && !Array.isArray(body[key]) && !(body[key] instanceof File) ? body[key] as Record<string, unknown> : {};
      object[nested[2]!] = value;
      body[key] = object;
    } else if (typeof value === 'string' && NUMERIC.has(name) && value.trim() !== '' && Number.isFinite(Number(value))) {
      body[name] = Number(value);
    } else if (typeof value === 'string' && name === 'metadata') {
      try {
        body[name] = JSON.parse(value) as unknown;
      } catch {
        body[name] = value;
      }
    } else {
      body[name] = value;
    }
  }
  return body;
}

/** A multipart/form-data body as FormData, within `maxBytes`; a 400 for any other kind of body (`holding` says what it should hold). */
export async function readFormData(request: Request, maxBytes: number, holding: string): Promise<FormData> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data/i.test(type)) throw badRequest(`Request body must be multipart/form-data (${holding})`);
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  try {
    // A declared length within the bound is enforced by the runtime; a chunked upload is read with a count.
    return Number.isFinite(declared) ? await request.formData() : await new Response(await readBoundedBytes(request, maxBytes), { headers: { 'content-type': type } }).formData();
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw badRequest('Invalid multipart/form-data body');
  }
}
