import { describe, expect, it } from 'vitest';
import type { ProviderCall } from '../types.ts';
import { OcrUpload } from '../../openai/ocr-request.ts';
import { standInDeployment } from '../../models/deployments.ts';
import { OCR_DEFAULT_HELD_PAGES, reservationEstimate } from '../../proxy/reservation.ts';
import { endpointRefusal } from '../registry.ts';
import { base64Bytes, ocrAnswer, ocrBody, ocrFields } from './ocr.ts';

const call = (body: Record<string, unknown>, keepText = false) => ({ endpoint: 'ocr', body, keepText }) as unknown as ProviderCall;
const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)).buffer as ArrayBuffer;
const text = (body: unknown) => new TextDecoder().decode(body as ArrayBuffer);
const doc = { type: 'document_url', document_url: 'https://docs.example.com/a.pdf' };

describe('ocrAnswer', () => {
  it('bills the pages Mistral says it processed and adds LiteLLM\'s object', async () => {
    const { body, outcome } = ocrAnswer(bytes({ pages: [{ index: 0, markdown: 'one' }, { index: 1, markdown: 'two' }], model: 'm', usage_info: { pages_processed: 5, doc_size_bytes: 9 } }), call({ document: doc }, true));
    expect(JSON.parse(text(body))).toMatchObject({ object: 'ocr', usage_info: { pages_processed: 5 } });
    expect(await outcome).toMatchObject({ usage: { pages: 5, reported: true, promptTokens: 0 }, responseText: 'one\n\ntwo' });
  });

  it('counts the pages returned without usage_info, and the pages asked for on a body that is not JSON', async () => {
    expect((await ocrAnswer(bytes({ pages: [{ index: 0 }, { index: 3 }], model: 'm' }), call({ document: doc })).outcome).usage).toMatchObject({ pages: 2, reported: false });
    const garbled = ocrAnswer(bytes('<html>ok</html>'), call({ document: doc, pages: [0, 1, 2] }));
    expect((await garbled.outcome).usage.pages).toBe(3);
    expect(new TextDecoder().decode(garbled.body as ArrayBuffer)).toBe('<html>ok</html>');
  });

  it('splices object: "ocr" into the answer\'s bytes, leaving the rest as it came', () => {
    const answer = ' {"pages": [ {"index":0,"markdown":"é"} ],  "model":"m"}';
    expect(text(ocrAnswer(bytes(answer), call({ document: doc })).body)).toBe(' {"object":"ocr","pages": [ {"index":0,"markdown":"é"} ],  "model":"m"}');
    expect(text(ocrAnswer(bytes('{ }'), call({ document: doc })).body)).toBe('{"object":"ocr"}');
    // One that names its object already is passed on untouched.
    const own = bytes('{"object":"mine","pages":[]}');
    expect(ocrAnswer(own, call({ document: doc })).body).toBe(own);
  });
});

describe('OCR budget holds', () => {
  it('holds the pages asked for, else OCR_DEFAULT_HELD_PAGES (a PDF may bill hundreds)', () => {
    const d = standInDeployment('mistral', 'mistral-ocr-latest');
    expect(OCR_DEFAULT_HELD_PAGES).toBe(50);
    expect(reservationEstimate(d, 0, { document: doc }, 'ocr').estCost).toBeCloseTo(50 * 0.004, 12);
    expect(reservationEstimate(d, 0, { document: doc, pages: [0, 1] }, 'ocr').estCost).toBeCloseTo(2 * 0.004, 12);
  });

  it('refuses Azure Document Intelligence, which azure_ai/ would send Mistral\'s body', () => {
    for (const model of ['doc-intelligence/prebuilt-read', 'my-documentintelligence']) {
      expect(endpointRefusal(standInDeployment('azure_ai', model), 'ocr', false)).toMatchObject({ status: 400, message: expect.stringContaining('Azure Document Intelligence') as unknown });
    }
    expect(endpointRefusal(standInDeployment('azure_ai', 'mistral-document-ai-2505'), 'ocr', false)).toBeUndefined();
  });
});

describe('ocrFields', () => {
  it('sends Mistral\'s fields only', () => {
    expect(ocrFields({ model: 'g', document: doc, pages: [1], metadata: { a: 1 }, user: 'u', temperature: 1 }, false)).toEqual({ document: doc, pages: [1] });
  });

  it('refuses a URL where only an inline document is taken, and takes a data: URI', () => {
    expect(() => ocrFields({ document: doc }, true)).toThrow(/data: URI/);
    expect(() => ocrFields({ document: { type: 'image_url', image_url: { url: 'https://x/y.png' } } }, true)).toThrow(/data: URI/);
    expect(ocrFields({ document: { type: 'image_url', image_url: 'data:image/png;base64,AAAA' } }, true)).toHaveProperty('document');
  });
});

describe('an uploaded document', () => {
  it('is encoded only into the request body, as a base64 data: URI the same as Buffer\'s', async () => {
    for (const n of [0, 1, 2, 3, 24_575, 24_576, 24_577, 49_153, 100_000]) {
      const data = new Uint8Array(n).map((_, i) => (i * 131 + 7) % 256);
      expect(new TextDecoder().decode(base64Bytes(data)), String(n)).toBe(Buffer.from(data).toString('base64'));
    }
    const data = new Uint8Array(70_001).map((_, i) => (i * 31) % 256);
    const upload = new OcrUpload(new File([data], 'a.pdf'), 'application/pdf');
    const body = { model: 'g', document: { type: 'document_url', document_url: upload }, pages: [0] };
    // Logged, it is a name and a size, never the bytes.
    expect(JSON.stringify(body)).toContain('[uploaded application/pdf \\"a.pdf\\", 70001 bytes]');
    expect(() => ocrFields(body, true)).toThrow(/uploaded/);
    const fields = ocrFields(body, true, data);
    fields.model = 'mistral-ocr-latest';
    const sent = ocrBody(fields);
    expect(sent).toBeInstanceOf(Blob);
    expect(JSON.parse(await (sent as Blob).text())).toEqual({ model: 'mistral-ocr-latest', pages: [0], document: { type: 'document_url', document_url: `data:application/pdf;base64,${Buffer.from(data).toString('base64')}` } });
    // A JSON document goes as its JSON.
    expect(ocrBody({ model: 'm', document: doc })).toBe(JSON.stringify({ model: 'm', document: doc }));
  });
});
