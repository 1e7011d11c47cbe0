import { badRequest } from '../../errors.ts';
import { OcrUpload } from '../../openai/ocr-request.ts';
import type { CallOutcome, ProviderAnswer, ProviderCall } from '../types.ts';
import { OPENAI_PARAMS } from './params.ts';

// Mistral's OCR API (`POST {api_base}/ocr`), which LiteLLM's /ocr follows: what is sent, and what the answer bills.

/** Fields whose document is an upload: ocrBody writes it in place of PLACEHOLDER, as a base64 `data:` URI. */
const uploads = new WeakMap<Record<string, unknown>, { type: string; bytes: Uint8Array }>();
const PLACEHOLDER = '\u0000tollgate-ocr-document\u0000';

type OcrDocument = { type?: unknown; document_url?: unknown; image_url?: unknown };

/** Where the document is: `document_url`, `image_url`, or `image_url.url`. */
function documentTarget(doc: OcrDocument): unknown {
  return doc.type === 'image_url' ? (typeof doc.image_url === 'string' || doc.image_url instanceof OcrUpload ? doc.image_url : (doc.image_url as { url?: unknown } | undefined)?.url) : doc.document_url;
}

/**
 * An uploaded document's bytes (readOcrBody keeps the File), read only once the call is admitted and routed:
 * a call refused before (an unknown key, a budget) never reads or encodes it.
 */
export async function ocrUploadBytes(body: Record<string, unknown>): Promise<Uint8Array | undefined> {
  const target = body.document && typeof body.document === 'object' ? documentTarget(body.document as OcrDocument) : undefined;
  return target instanceof OcrUpload ? new Uint8Array(await target.file.arrayBuffer()) : undefined;
}

/**
 * The fields an OCR call sends: Mistral's own, the rest dropped silently as LiteLLM drops them (its
 * map_ocr_params keeps only the provider's). An upload (`uploaded`, its bytes) is sent as a base64 `data:`
 * URI, written by ocrBody straight into the request's bytes. Azure AI's OCR cannot fetch
 * a URL: it takes the document inline, and a URL is refused here rather than fetched by the gateway on the client's say.
 */
export function ocrFields(body: Record<string, unknown>, inlineOnly: boolean, uploaded?: Uint8Array): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const name of OPENAI_PARAMS.ocr) if (body[name] !== undefined) fields[name] = body[name];
  const doc = body.document as OcrDocument;
  const target = documentTarget(doc);
  if (target instanceof OcrUpload) {
    if (!uploaded) throw badRequest('An uploaded OCR document is sent only with the call itself', 'document');
    fields.document = doc.type === 'image_url' ? { type: 'image_url', image_url: PLACEHOLDER } : { type: 'document_url', document_url: PLACEHOLDER };
    uploads.set(fields, { type: target.type, bytes: uploaded });
  } else if (inlineOnly && (typeof target !== 'string' || !target.startsWith('data:'))) {
    throw badRequest('Azure AI OCR takes the document inline only: send it as a base64 data: URI, or upload it as multipart/form-data', 'document');
  }
  return fields;
}

/**
 * An OCR request's JSON body. An upload is never one JS string (a 20 MB file is a 27 MB URI, and JSON.stringify
 * and UTF-8 would copy it twice more): its base64 is written as bytes, between the JSON around it, in a Blob.
 */
export function ocrBody(fields: Record<string, unknown>): string | Blob {
  const upload = uploads.get(fields);
  const json = JSON.stringify(fields);
  const marker = JSON.stringify(PLACEHOLDER);
  const at = json.indexOf(marker);
  if (!upload || at < 0) return json;
  // Its bytes are let go once encoded (the client's File stays in the body, for a fallback's attempt).
  uploads.delete(fields);
  return new Blob([`${json.slice(0, at)}"data:${upload.type};base64,`, base64Bytes(upload.bytes), `"${json.slice(at + marker.length)}`]);
}

const ascii = new TextEncoder();
/** Bytes per slice encoded: a multiple of 3 (no padding mid-way), small enough to spread as arguments. */
const SLICE = 3 * 0x2000;

/** The base64 of bytes, as ASCII bytes: encoded a slice at a time, with no string of the whole document. */
export function base64Bytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4 * Math.ceil(bytes.length / 3));
  let at = 0;
  for (let i = 0; i < bytes.length; i += SLICE) {
    at += ascii.encodeInto(btoa(String.fromCharCode(...bytes.subarray(i, i + SLICE))), out.subarray(at)).written;
  }
  return out;
}

const decoder = new TextDecoder();

/**
 * An OCR answer as LiteLLM returns it (Mistral's, with `object: "ocr"`), and its pages processed, which
 * price it (`ocr_cost_per_page`). An answer without `usage_info` counts the pages it returned.
 */
export function ocrAnswer(bytes: ArrayBuffer, call: ProviderCall): Pick<ProviderAnswer, 'body' | 'outcome'> {
  let parsed: { pages?: unknown; usage_info?: { pages_processed?: unknown } | null; object?: unknown } | undefined;
  try {
    parsed = JSON.parse(decoder.decode(bytes)) as typeof parsed;
  } catch {
    // a 200 that is not JSON: passed on as it came, billed as the pages asked for
  }
  const reported = parsed?.usage_info?.pages_processed;
  const pages = typeof reported === 'number' && reported >= 0 ? reported
    : Array.isArray(parsed?.pages) ? parsed.pages.length
      : Array.isArray(call.body.pages) ? call.body.pages.length : 1;
  const outcome: CallOutcome = {
    usage: { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0, cacheCreationTokens: 0, reported: typeof reported === 'number', pages },
    finishedAt: Date.now(),
    ...(call.keepText && Array.isArray(parsed?.pages) ? { responseText: pageText(parsed.pages) } : {}),
  };
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || parsed.object !== undefined) return { body: bytes, outcome: Promise.resolve(outcome) };
  return { body: withOcrObject(bytes, Object.keys(parsed).length === 0), outcome: Promise.resolve(outcome) };
}

const OBJECT_FIELD = new TextEncoder().encode('"object":"ocr"');

/**
 * The answer's bytes with `"object":"ocr"` spliced in after its opening `{`: the rest kept as it came,
 * not parsed and written again (an answer with its pages' images is megabytes).
 */
function withOcrObject(bytes: ArrayBuffer, empty: boolean): ArrayBuffer {
  const source = new Uint8Array(bytes);
  let brace = 0;
  while (brace < source.length && source[brace] !== 0x7b) brace++;
  const rest = empty ? source.subarray(source.lastIndexOf(0x7d)) : source.subarray(brace + 1);
  const out = new Uint8Array(brace + 1 + OBJECT_FIELD.length + (empty ? 0 : 1) + rest.length);
  out.set(source.subarray(0, brace + 1));
  out.set(OBJECT_FIELD, brace + 1);
  let at = brace + 1 + OBJECT_FIELD.length;
  if (!empty) out[at++] = 0x2c;
  out.set(rest, at);
  return out.buffer;
}

/** The text read, page by page (for spend logs that store answers, and Langfuse). */
function pageText(pages: unknown[]): string {
  return pages.map((p) => (typeof (p as { markdown?: unknown })?.markdown === 'string' ? (p as { markdown: string }).markdown : '')).join('\n\n');
}
