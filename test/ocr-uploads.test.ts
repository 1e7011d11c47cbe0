import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeMistralOcr, startFakeMistralOcr } from './fakes/mistral-ocr.ts';
import { postUntilAnswered } from './support/oversized-upload.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * `/ocr` uploads (multipart/form-data) and the models it refuses, end to end through workerd: an upload is
 * read and encoded only for an admitted call, goes to the provider whole as one base64 `data:` URI, is held
 * to 20 MB by default; Azure Document Intelligence (another API than Mistral's) is a 400. test/ocr.test.ts has the rest.
 */

const MISTRAL_KEY = 'mistral-upstream-key-0001';
const AZURE_KEY = 'azure-ai-upstream-key-0002';
let ocrServer: FakeMistralOcr;
let stack: TestStack;

beforeAll(async () => {
  ocrServer = await startFakeMistralOcr({ keys: [MISTRAL_KEY, AZURE_KEY] });
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mistral-ocr
    litellm_params: {model: mistral/mistral-ocr-latest, api_base: "${ocrServer.url}/v1", api_key: ${MISTRAL_KEY}}
    model_info: {mode: ocr}
  - model_name: azure-doc-ai
    litellm_params: {model: azure_ai/mistral-document-ai-2505, api_base: "${ocrServer.url}", api_key: ${AZURE_KEY}}
    model_info: {mode: ocr}
  - model_name: azure-doc-intel
    litellm_params: {model: azure_ai/doc-intelligence/prebuilt-read, api_base: "${ocrServer.url}", api_key: ${AZURE_KEY}}
    model_info: {mode: ocr}
router_settings:
  num_retries: 0
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await ocrServer?.close();
});
beforeEach(() => ocrServer.reset());

const ocr = (path: string, body: unknown, key = TEST_MASTER_KEY) => fetch(`${stack.url}${path}`, {
  method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
});
const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string; type: string; param: string | null; code: string } }).error;
const doc = (url: string) => ({ type: 'document_url', document_url: url });
/** A PDF of `n` pages, as far as the fake counts them. */
const pdf = (n: number) => Buffer.from(`%PDF-1.4\n${Array.from({ length: n }, (_, i) => `${i + 3} 0 obj << /Type /Page >> endobj`).join('\n')}\n%%EOF`);

describe('/ocr uploads', () => {
  it('reads an upload only for a key it knows: a made-up key\'s upload is a 401, and nothing reaches the provider', async () => {
    const form = new FormData();
    form.set('model', 'mistral-ocr');
    form.set('file', new File([pdf(2)], 'report.pdf'));
    const res = await fetch(`${stack.url}/v1/ocr`, { method: 'POST', headers: { authorization: 'Bearer sk-made-up-0000000000' }, body: form });
    expect(res.status).toBe(401);
    const error = await errorOf(res);
    expect(error).toMatchObject({ param: 'key', code: '401' });
    expect(JSON.stringify(error)).not.toContain(pdf(2).toString('base64'));
    expect(ocrServer.requests).toHaveLength(0);
  });

  it('sends a several-MB upload on whole, as one base64 data: URI, and an image upload as image_url; refuses one past 20 MB', async () => {
    // Random bytes after the PDF's pages: every base64 slice boundary is crossed with real data.
    const big = Buffer.concat([pdf(3), randomBytes(6 * 1024 * 1024 + 1)]);
    const form = new FormData();
    form.set('model', 'mistral-ocr');
    form.set('file', new File([big], 'scan.pdf', { type: 'application/pdf' }));
    const res = await fetch(`${stack.url}/v1/ocr`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` }, body: form });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { usage_info: unknown }).usage_info).toEqual({ pages_processed: 3, doc_size_bytes: big.length });
    const sent = ocrServer.requests[0]!.body as { model: string; document: { type: string; document_url: string } };
    expect([sent.model, sent.document.type]).toEqual(['mistral-ocr-latest', 'document_url']);
    expect(sent.document.document_url === `data:application/pdf;base64,${big.toString('base64')}`).toBe(true);

    const image = new FormData();
    image.set('model', 'azure-doc-ai');
    image.set('file', new File([Buffer.from('fake png bytes')], 'receipt.png'));
    const byImage = await fetch(`${stack.url}/ocr`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` }, body: image });
    expect(byImage.status).toBe(200);
    expect(ocrServer.requests[1]!.body.document).toEqual({ type: 'image_url', image_url: `data:image/png;base64,${Buffer.from('fake png bytes').toString('base64')}` });

    const huge = new FormData();
    huge.set('model', 'mistral-ocr');
    huge.set('file', new File([new Uint8Array(20 * 1024 * 1024 + 1)], 'huge.pdf'));
    const encoded = new Response(huge);
    const payload = Buffer.from(await encoded.arrayBuffer());
    // Chunked (no length to refuse it by): counted as it is read.
    const tooBig = await postUntilAnswered(`${stack.url}/v1/ocr`, { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': encoded.headers.get('content-type') ?? '' }, payload);
    expect(tooBig.status).toBe(413);
    expect((JSON.parse(tooBig.body) as { error: { message: string } }).error.message).toContain('limit 20 MB');
    expect(ocrServer.requests).toHaveLength(2);
  });

  it('refuses Azure Document Intelligence (a different API than Mistral\'s) with a 400, calling no provider', async () => {
    const res = await ocr('/v1/ocr', { model: 'azure-doc-intel', document: doc(`data:application/pdf;base64,${pdf(1).toString('base64')}`) });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error).toMatchObject({ type: 'bad_request_error', param: 'model' });
    expect(error.message).toContain('Azure Document Intelligence, which is not supported');
    expect(ocrServer.requests).toHaveLength(0);
  });
});
