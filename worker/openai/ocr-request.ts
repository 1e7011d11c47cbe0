import { z } from 'zod';
import { badRequest } from '../errors.ts';
import { readJsonBody } from './read-body.ts';
import { readFormData } from './read-form.ts';

/**
 * A document uploaded as multipart/form-data, kept as the client's File until a provider request is built
 * (ocrFields): a call refused at admission (an unknown key, a budget) never reads or encodes it. It logs as
 * its name, type and size, never its bytes.
 */
export class OcrUpload {
  readonly file: File;
  readonly type: string;

  constructor(file: File, type: string) {
    this.file = file;
    this.type = type;
  }

  toJSON(): string {
    return `[uploaded ${this.type} ${JSON.stringify(this.file.name)}, ${this.file.size} bytes]`;
  }
}

/**
 * `/ocr` and `/v1/ocr`: LiteLLM's OCR API, which follows Mistral's. The document is a URL (or a `data:`
 * URI) of a PDF or an image; `pages` (0-based) picks the pages to read; the rest of Mistral's fields pass on.
 * A `file` document (a local path in LiteLLM's SDK) is refused, as LiteLLM's proxy refuses it: a file is
 * uploaded as multipart/form-data instead (readOcrBody).
 */
const url = (field: string) => z.union([
  z.string({ error: `document.${field} must be a string (a URL or a data: URI)` }).min(1, `document.${field} must not be empty`),
  z.instanceof(OcrUpload),
], { error: `document.${field} must be a string (a URL or a data: URI)` });
const ocrDocument = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('document_url'), document_url: url('document_url') }),
  // Mistral takes an image URL as a string or as {url}.
  z.looseObject({ type: z.literal('image_url'), image_url: z.union([url('image_url'), z.looseObject({ url: url('image_url.url') })], { error: 'document.image_url must be a URL, a data: URI or {url}' }) }),
], { error: 'document must be {type: "document_url", document_url} or {type: "image_url", image_url} (upload a file as multipart/form-data)' });

export const ocrRequestSchema = z.looseObject({
  model: z.string({ error: 'model is required' }).min(1, 'model must not be empty'),
  document: ocrDocument,
  pages: z.array(z.number({ error: 'pages must be a list of page numbers' }).int().nonnegative('pages are numbered from 0'), { error: 'pages must be a list of page numbers' }).optional(),
  include_image_base64: z.boolean({ error: 'include_image_base64 must be true or false' }).nullable().optional(),
  user: z.string({ error: 'user must be a string' }).optional(),
  metadata: z.record(z.string(), z.unknown(), { error: 'metadata must be an object' }).nullable().optional(),
  tags: z.array(z.string(), { error: 'tags must be a list of strings' }).optional(),
  stream: z.union([z.literal(false), z.literal('false')], { error: 'stream: true is not supported on /ocr' }).optional(),
});

/** An upload's bound when `max_request_size_mb` sets none: its base64 JSON copy must fit a Worker's 128 MB. */
export const OCR_DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

/**
 * An OCR request's body: JSON, or (as LiteLLM's proxy takes it) multipart/form-data with the document
 * as its `file` part (an OcrUpload, sent on as a base64 `data:` URI, `image_url` for an image, else
 * `document_url`); other form fields are read as JSON where they parse (`pages=[0,1]`), else as text.
 */
export async function readOcrBody(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  if (!/^multipart\/form-data/i.test(request.headers.get('content-type') ?? '')) {
    return await readJsonBody(request, z.looseObject({}), { maxBytes });
  }
  const form = await readFormData(request, maxBytes, 'the document as its `file` part, and the model');
  const body: Record<string, unknown> = {};
  for (const [name, value] of form) {
    if (name === 'file' || name === 'document' || typeof value !== 'string') continue;
    try {
      body[name] = JSON.parse(value) as unknown;
    } catch {
      body[name] = value;
    }
  }
  if (typeof body.model === 'number') body.model = String(body.model);
  const file = form.get('file');
  if (!(file instanceof File)) throw badRequest("Multipart OCR request must include a 'file' field with the document to process", 'file');
  if (file.size === 0) throw badRequest('Uploaded file is empty', 'file');
  const given = (file.type.split(';')[0] ?? '').trim();
  // A type that could break the JSON it is spliced into (ocrBody) is read from the name instead.
  const type = given && given !== 'application/octet-stream' && /^[\w.+-]+\/[\w.+-]+$/.test(given) ? given : typeByName(file.name);
  const upload = new OcrUpload(file, type);
  body.document = type.startsWith('image/') ? { type: 'image_url', image_url: upload } : { type: 'document_url', document_url: upload };
  return body;
}

const BY_EXTENSION: Record<string, string> = {
  pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', tif: 'image/tiff', tiff: 'image/tiff',
  avif: 'image/avif', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

/** An upload's type from its file name, where the client sent none (curl -F sends application/octet-stream). */
function typeByName(name: string): string {
  return BY_EXTENSION[/\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? ''] ?? 'application/octet-stream';
}
