import { badRequest, GatewayError } from '../errors.ts';

/**
 * A multipart/form-data body (`/v1/audio/transcriptions`) as the fields the gateway reads: each
 * file as its File, `name[]` fields as a list under `name`, numbers where the field is numeric,
 * the rest as strings. Bounded by `max_request_size_mb` like a JSON body; a 400 for any other body.
 */
const NUMERIC = new Set(['temperature']);

export async function readFormBody(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data/i.test(type)) throw badRequest('Request body must be multipart/form-data (the audio file and its fields)');
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (!(declared <= maxBytes)) {
    throw new GatewayError(`Request body too large or of unknown length (limit ${+(maxBytes / 1024 / 1024).toFixed(2)} MB, general_settings.max_request_size_mb)`, {
      status: 413, type: 'bad_request_error',
    });
  }
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    throw badRequest('Invalid multipart/form-data body');
  }
  const body: Record<string, unknown> = {};
  for (const [name, value] of form) {
    if (name.endsWith('[]')) {
      const key = name.slice(0, -2);
      body[key] = [...(Array.isArray(body[key]) ? body[key] as unknown[] : []), value];
    } else if (typeof value === 'string' && NUMERIC.has(name) && value.trim() !== '' && Number.isFinite(Number(value))) {
      body[name] = Number(value);
    } else {
      body[name] = value;
    }
  }
  return body;
}
