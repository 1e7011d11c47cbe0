import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeLangfuse, startFakeLangfuse } from './fakes/langfuse.ts';
import { type FakeMistralOcr, startFakeMistralOcr } from './fakes/mistral-ocr.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * `POST /ocr` and `/v1/ocr`, LiteLLM's OCR API (Mistral's format), end to end through workerd: sent to
 * Mistral's OCR API (or Azure AI's Mistral Document AI), answered as LiteLLM answers, priced per page
 * processed (`ocr_cost_per_page`), logged as `aocr`, held to the key's models and budget, falling back
 * when the provider refuses, and traced in Langfuse.
 */

const MISTRAL_KEY = 'mistral-upstream-key-0001';
const AZURE_KEY = 'azure-ai-upstream-key-0002';
let ocrServer: FakeMistralOcr;
let backup: FakeMistralOcr;
let langfuse: FakeLangfuse;
let stack: TestStack;

beforeAll(async () => {
  [ocrServer, backup, langfuse] = await Promise.all([
    startFakeMistralOcr({ keys: [MISTRAL_KEY, AZURE_KEY] }),
    startFakeMistralOcr({ keys: ['mistral-backup-key-0003'] }),
    startFakeLangfuse({ publicKey: 'pk-lf-ocr', secretKey: 'sk-lf-ocr-secret' }),
  ]);
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mistral-ocr
    litellm_params: {model: mistral/mistral-ocr-latest, api_base: "${ocrServer.url}/v1", api_key: os.environ/MISTRAL_API_KEY}
    model_info: {mode: ocr}
  - model_name: ocr-priced
    litellm_params: {model: mistral/mistral-ocr-latest, api_base: "${ocrServer.url}/v1", api_key: os.environ/MISTRAL_API_KEY}
    model_info: {mode: ocr, ocr_cost_per_page: 0.01}
  - model_name: azure-doc-ai
    litellm_params: {model: azure_ai/mistral-document-ai-2505, api_base: "${ocrServer.url}", api_key: ${AZURE_KEY}}
    model_info: {mode: ocr}
  - model_name: ocr-flaky
    litellm_params: {model: mistral/mistral-ocr-latest, api_base: "${ocrServer.url}/v1", api_key: os.environ/MISTRAL_API_KEY}
  - model_name: ocr-backup
    litellm_params: {model: mistral/mistral-ocr-2505, api_base: "${backup.url}/v1", api_key: mistral-backup-key-0003}
  - model_name: chat-only
    litellm_params: {model: openai/gpt-4o, api_base: "${ocrServer.url}/v1", api_key: sk-not-used}
router_settings:
  num_retries: 0
  fallbacks:
    - ocr-flaky: [ocr-backup]
litellm_settings:
  success_callback: ["langfuse"]
`,
    env: { MISTRAL_API_KEY: MISTRAL_KEY, LANGFUSE_PUBLIC_KEY: langfuse.publicKey, LANGFUSE_SECRET_KEY: langfuse.secretKey, LANGFUSE_HOST: langfuse.url },
  });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([ocrServer?.close(), backup?.close(), langfuse?.close()]);
});
beforeEach(() => {
  ocrServer.reset();
  backup.reset();
});

const ocr = (path: string, body: unknown, key = TEST_MASTER_KEY) => fetch(`${stack.url}${path}`, {
  method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
});
const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string; type: string; param: string | null; code: string } }).error;
const doc = (url: string) => ({ type: 'document_url', document_url: url });
/** A PDF of `n` pages, as far as the fake counts them. */
const pdf = (n: number) => Buffer.from(`%PDF-1.4\n${Array.from({ length: n }, (_, i) => `${i + 3} 0 obj << /Type /Page >> endobj`).join('\n')}\n%%EOF`);

describe('/ocr', () => {
  it('sends Mistral the document, answers in LiteLLM\'s shape, and bills the pages processed', async () => {
    const res = await ocr('/v1/ocr', {
      model: 'mistral-ocr', document: doc('https://docs.example.com/3-pages.pdf'), include_image_base64: true,
      metadata: { run: 'q3' }, tags: ['finance'], user: 'end-user-9', not_a_mistral_field: 1,
    });
    expect(res.status).toBe(200);
    const answer = await res.json() as { pages: { index: number; markdown: string; images: unknown[]; dimensions: unknown }[]; model: string; usage_info: unknown; object: string };
    expect(answer).toMatchObject({ object: 'ocr', model: 'mistral-ocr-2505-completion', usage_info: { pages_processed: 3, doc_size_bytes: 48_213 }, document_annotation: null });
    expect(answer.pages.map((p) => p.index)).toEqual([0, 1, 2]);
    expect(answer.pages[0]).toMatchObject({ markdown: '# Page 1\n\nText read from page 1.', images: [{ id: 'img-0.jpeg', image_base64: 'data:image/jpeg;base64,/9j/4AAQ' }], dimensions: { dpi: 200, height: 2200, width: 1700 } });
    // What Mistral got: its own fields, under the deployment's model and key; the gateway's fields stay behind.
    const [sent] = ocrServer.requests;
    expect([sent!.path, sent!.headers.authorization]).toEqual(['/v1/ocr', `Bearer ${MISTRAL_KEY}`]);
    expect(sent!.body).toEqual({ model: 'mistral-ocr-latest', document: doc('https://docs.example.com/3-pages.pdf'), include_image_base64: true });
    // mistral/mistral-ocr-latest in the bundled price table: $0.004 a page.
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(3 * 0.004, 12);
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aocr', model: 'mistral-ocr-latest', model_group: 'mistral-ocr', custom_llm_provider: 'mistral', status: 'success', end_user: 'end-user-9' });
    expect(row.spend as number).toBeCloseTo(3 * 0.004, 12);
    expect(row.request_tags).toEqual(['finance']);
    expect(JSON.stringify(row)).not.toContain(MISTRAL_KEY);
  });

  it('serves /ocr too, reads only the pages asked for, and prices them at the config\'s ocr_cost_per_page', async () => {
    const res = await ocr('/ocr', { model: 'ocr-priced', document: doc('https://docs.example.com/10-pages.pdf'), pages: [0, 4] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { pages: { index: number }[] }).pages.map((p) => p.index)).toEqual([0, 4]);
    expect(ocrServer.requests[0]!.body.pages).toEqual([0, 4]);
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(2 * 0.01, 12);
  });

  it('takes an image, and a file uploaded as multipart/form-data, sent on inline as a data: URI', async () => {
    const image = await ocr('/v1/ocr', { model: 'mistral-ocr', document: { type: 'image_url', image_url: 'https://docs.example.com/receipt.png' } });
    expect(image.status).toBe(200);
    expect(((await image.json()) as { usage_info: unknown }).usage_info).toMatchObject({ pages_processed: 1 });

    const form = new FormData();
    form.set('model', 'mistral-ocr');
    form.set('pages', '[0,1]');
    form.set('file', new File([pdf(4)], 'report.pdf'));
    const upload = await fetch(`${stack.url}/v1/ocr`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` }, body: form });
    expect(upload.status).toBe(200);
    expect(((await upload.json()) as { usage_info: unknown }).usage_info).toEqual({ pages_processed: 2, doc_size_bytes: pdf(4).length });
    const sent = ocrServer.requests[1]!.body;
    expect(sent).toEqual({ model: 'mistral-ocr-latest', pages: [0, 1], document: doc(`data:application/pdf;base64,${pdf(4).toString('base64')}`) });
    expect(Number(upload.headers.get('x-litellm-response-cost'))).toBeCloseTo(2 * 0.004, 12);
  });

  it('sends Azure AI\'s Mistral Document AI an inline document, and refuses a URL it could not fetch', async () => {
    const inline = `data:application/pdf;base64,${pdf(2).toString('base64')}`;
    const res = await ocr('/v1/ocr', { model: 'azure-doc-ai', document: doc(inline) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { usage_info: unknown }).usage_info).toMatchObject({ pages_processed: 2 });
    const [sent] = ocrServer.requests;
    expect([sent!.path, sent!.headers.authorization, sent!.body.model]).toEqual(['/providers/mistral/azure/ocr', `Bearer ${AZURE_KEY}`, 'mistral-document-ai-2505']);
    // azure_ai/mistral-document-ai-2505: $0.003 a page.
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(2 * 0.003, 12);

    const byUrl = await ocr('/v1/ocr', { model: 'azure-doc-ai', document: doc('https://docs.example.com/1-pages.pdf') });
    expect(byUrl.status).toBe(400);
    expect((await errorOf(byUrl)).message).toContain('data: URI');
    expect(ocrServer.requests).toHaveLength(1);
  });

  it('falls back to the next group when Mistral answers 429, and passes on a 5xx where none is left', async () => {
    ocrServer.failNext({ status: 429, body: { object: 'error', message: 'Requests rate limit exceeded', type: 'rate_limited', param: null, code: '1300' }, headers: { 'retry-after': '1' } });
    const res = await ocr('/v1/ocr', { model: 'ocr-flaky', document: doc('https://docs.example.com/2-pages.pdf') });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
    expect(((await res.json()) as { usage_info: unknown }).usage_info).toMatchObject({ pages_processed: 2 });
    expect([ocrServer.requests.length, backup.requests.length]).toEqual([1, 1]);
    expect(backup.requests[0]!.body.model).toBe('mistral-ocr-2505');
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aocr', model_group: 'ocr-backup', status: 'success' });

    ocrServer.failNext({ status: 503, body: { object: 'error', message: 'Service unavailable', type: 'service_unavailable', param: null, code: null } });
    const down = await ocr('/v1/ocr', { model: 'mistral-ocr', document: doc('https://docs.example.com/1-pages.pdf') });
    expect(down.status).toBe(503);
    const error = await errorOf(down);
    expect(error.code).toBe('503');
    expect(error.message).toContain('Service unavailable');
    expect(error.message).not.toContain(MISTRAL_KEY);
  });

  it('refuses bad input and a model that serves no OCR with a 400, calling no provider', async () => {
    const cases: [unknown, string][] = [
      [{ model: 'mistral-ocr' }, 'document'],
      [{ model: 'mistral-ocr', document: { type: 'file', file: '/etc/passwd' } }, 'document must be'],
      [{ model: 'mistral-ocr', document: doc('') }, 'document_url must not be empty'],
      [{ model: 'mistral-ocr', document: doc('https://x/1-pages.pdf'), pages: [-1] }, 'pages are numbered from 0'],
      [{ document: doc('https://x/1-pages.pdf') }, 'model is required'],
      [{ model: 'chat-only', document: doc('https://x/1-pages.pdf') }, 'does not serve /ocr'],
    ];
    for (const [body, message] of cases) {
      const res = await ocr('/v1/ocr', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(res);
      expect(error.message).toContain(message);
      expect(error).toMatchObject({ type: 'bad_request_error', code: '400' });
    }
    const noFile = new FormData();
    noFile.set('model', 'mistral-ocr');
    const upload = await fetch(`${stack.url}/ocr`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` }, body: noFile });
    expect(upload.status).toBe(400);
    expect((await errorOf(upload)).message).toContain("'file' field");
    expect(ocrServer.requests).toHaveLength(0);
  });

  it('holds a virtual key to its models and its budget, as every call', async () => {
    const noKey = await fetch(`${stack.url}/v1/ocr`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mistral-ocr', document: doc('https://x/1-pages.pdf') }) });
    expect(noKey.status).toBe(401);
    const other = await seedKey(stack.db.url, { models: ['ocr-priced'] });
    const denied = await ocr('/v1/ocr', { model: 'mistral-ocr', document: doc('https://x/1-pages.pdf') }, other);
    expect(denied.status).toBe(401);
    expect((await errorOf(denied)).type).toBe('key_model_access_denied');

    const spent = await seedKey(stack.db.url, { models: ['mistral-ocr'], spend: 0.05 });
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET max_budget = 0.05 WHERE token = $1', [sha256(spent)]);
    const broke = await ocr('/v1/ocr', { model: 'mistral-ocr', document: doc('https://x/1-pages.pdf') }, spent);
    expect(broke.status).toBe(429);
    expect((await errorOf(broke)).type).toBe('budget_exceeded');

    const key = await seedKey(stack.db.url, { models: ['mistral-ocr'] });
    const ok = await ocr('/v1/ocr', { model: 'mistral-ocr', document: doc('https://x/2-pages.pdf') }, key);
    expect(ok.status).toBe(200);
    // The key's spend counts this call's pages.
    expect(Number(ok.headers.get('x-litellm-key-spend'))).toBeCloseTo(2 * 0.004, 12);
    const row = await eventually(() => spendLogRow(stack.db.url, ok.headers.get('x-litellm-call-id') ?? ''));
    expect(row.api_key).toBe(sha256(key));
    expect(ocrServer.requests).toHaveLength(1);
  });

  it('health-probes an OCR model with one inline one-pixel page, on its own provider\'s OCR API', async () => {
    for (const group of ['mistral-ocr', 'azure-doc-ai']) {
      const res = await fetch(`${stack.url}/health?model=${group}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
      const body = await res.json() as { healthy_endpoints: { model_group: string }[]; unhealthy_count: number };
      expect([body.healthy_endpoints.map((e) => e.model_group), body.unhealthy_count]).toEqual([[group], 0]);
    }
    expect(ocrServer.requests.map((r) => [r.path, (r.body.document as { type: string }).type])).toEqual([['/v1/ocr', 'image_url'], ['/providers/mistral/azure/ocr', 'image_url']]);
    expect((ocrServer.requests[0]!.body.document as { image_url: string }).image_url).toMatch(/^data:image\/png;base64,/);
  });

  it('traces the call in Langfuse: the pages read as its output, its cost, and not the document', async () => {
    const inline = `data:application/pdf;base64,${pdf(1).toString('base64')}`;
    const res = await ocr('/v1/ocr', { model: 'mistral-ocr', document: doc(inline), include_image_base64: false });
    expect(res.status).toBe(200);
    const callId = res.headers.get('x-litellm-call-id') ?? '';
    const generation = await langfuse.waitFor((f) => f.generations().find((g) => g.id === callId));
    expect(generation).toMatchObject({ name: 'litellm-aocr', model: 'mistral-ocr-latest', output: '# Page 1\n\nText read from page 1.', modelParameters: { include_image_base64: false } });
    expect(generation.usage?.totalCost).toBeCloseTo(0.004, 12);
    expect(JSON.stringify(generation)).not.toContain(pdf(1).toString('base64'));
  });
});
