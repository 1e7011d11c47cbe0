import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake of Mistral's OCR API on loopback, speaking its wire format: `POST /v1/ocr` (Mistral) and
 * `POST /providers/mistral/azure/ocr` (Azure AI Foundry's Mistral Document AI), Bearer auth, a JSON body
 * `{model, document: {type: "document_url", document_url} | {type: "image_url", image_url}, pages?,
 * include_image_base64?, ...}`, answered `{pages: [{index, markdown, images, dimensions}], model,
 * document_annotation, usage_info: {pages_processed, doc_size_bytes}}`.
 *
 * How many pages a document has: a URL names it (`.../3-pages.pdf`), an image has one, and a `data:` PDF
 * has as many as its bytes hold `/Type /Page` objects. Azure AI's path takes `data:` URIs only, as Azure does.
 * Refusals come in Mistral's error shape; `failNext` queues one (a 429 with `retry-after`, a 503, ...).
 */
export interface OcrRequest {
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export interface FakeMistralOcr {
  url: string;
  requests: OcrRequest[];
  /** The next request is answered with this status, body and headers instead. */
  failNext(failure: { status: number; body: unknown; headers?: Record<string, string> }): void;
  reset(): void;
  close(): Promise<void>;
}

const MODELS = new Set(['mistral-ocr-latest', 'mistral-ocr-2505', 'mistral-document-ai-2505']);
/** Mistral's error object. */
const mistralError = (message: string, type: string, code: string | null = null) => ({ object: 'error', message, type, param: null, code });

/** Starts the fake; `keys` are the API keys it takes. */
export async function startFakeMistralOcr(options: { keys: string[] }): Promise<FakeMistralOcr> {
  const keys = new Set(options.keys.map((k) => `Bearer ${k}`));
  let failures: { status: number; body: unknown; headers?: Record<string, string> }[] = [];
  const requests: OcrRequest[] = [];

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = [value].flat().join(', ');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return send(res, 400, mistralError('Invalid JSON body', 'invalid_request_error'));
    }
    requests.push({ path, headers, body });
    const azure = path === '/providers/mistral/azure/ocr';
    if (req.method !== 'POST' || (path !== '/v1/ocr' && !azure)) return send(res, 404, { detail: 'Not Found' });
    if (!keys.has(headers.authorization ?? '')) return send(res, 401, { message: 'Unauthorized', request_id: 'req-401' });
    const failure = failures.shift();
    if (failure) return send(res, failure.status, failure.body, failure.headers);
    if (typeof body.model !== 'string' || !MODELS.has(body.model)) return send(res, 400, mistralError(`Invalid model: ${String(body.model)}`, 'invalid_model', '1500'));
    const doc = body.document as { type?: string; document_url?: string; image_url?: string | { url?: string } } | undefined;
    const target = doc?.type === 'document_url' ? doc.document_url : doc?.type === 'image_url' ? (typeof doc.image_url === 'string' ? doc.image_url : doc.image_url?.url) : undefined;
    if (typeof target !== 'string') return send(res, 422, { object: 'error', message: { detail: [{ type: 'missing', loc: ['body', 'document'], msg: 'Field required' }] }, type: 'invalid_request_message_error', param: null, code: null });
    if (azure && !target.startsWith('data:')) return send(res, 400, mistralError('Only base64 data URIs are supported', 'invalid_request_error'));
    const { pageCount, size } = measure(target, doc?.type === 'image_url');
    const wanted = Array.isArray(body.pages) ? (body.pages as number[]).filter((p) => p < pageCount) : [...Array(pageCount).keys()];
    const withImages = body.include_image_base64 === true;
    send(res, 200, {
      pages: wanted.map((index) => ({
        index,
        markdown: `# Page ${index + 1}\n\nText read from page ${index + 1}.`,
        images: [{ id: `img-${index}.jpeg`, top_left_x: 10, top_left_y: 20, bottom_right_x: 110, bottom_right_y: 220, image_base64: withImages ? 'data:image/jpeg;base64,/9j/4AAQ' : null }],
        dimensions: { dpi: 200, height: 2200, width: 1700 },
      })),
      model: azure ? body.model : 'mistral-ocr-2505-completion',
      document_annotation: null,
      usage_info: { pages_processed: wanted.length, doc_size_bytes: size },
    });
  }

  const server = createServer((req, res) => void serve(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (failure) => void failures.push(failure),
    reset: () => {
      requests.length = 0;
      failures = [];
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A document's pages and size: a `data:` URI's bytes, else what its URL says (`/N-pages`). */
function measure(target: string, image: boolean): { pageCount: number; size: number } {
  const inline = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(target);
  if (inline) {
    const bytes = inline[2] ? Buffer.from(inline[3] ?? '', 'base64') : Buffer.from(decodeURIComponent(inline[3] ?? ''));
    const pdfPages = bytes.toString('latin1').match(/\/Type \/Page\b/g)?.length ?? 0;
    return { pageCount: image ? 1 : Math.max(1, pdfPages), size: bytes.length };
  }
  const named = /\/(\d+)-pages/.exec(target);
  return { pageCount: image ? 1 : Number(named?.[1] ?? 1), size: 48_213 };
}
