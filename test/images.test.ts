import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * `POST /v1/images/generations` with the official openai client: sent to
 * OpenAI's or Azure OpenAI's image endpoint of the model group, answered as
 * the provider answered, and priced per image (`output_cost_per_image`) plus
 * tokens where the model reports them (gpt-image-1).
 */

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

const PNG = Buffer.from('fake png bytes').toString('base64');

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: dall-e-3
    litellm_params: {model: openai/dall-e-3, api_base: "${fake.url}/v1", api_key: sk-upstream-img-0001}
    model_info: {mode: image_generation, output_cost_per_image: 0.04}
  - model_name: gpt-image-1
    litellm_params: {model: openai/gpt-image-1, api_base: "${fake.url}/v1", api_key: sk-upstream-img-0002}
    model_info: {mode: image_generation}
  - model_name: gpt-image-1-negotiated
    litellm_params: {model: openai/gpt-image-1, api_base: "${fake.url}/v1", api_key: sk-upstream-img-0005, input_cost_per_token: 0.000004, output_cost_per_token: 0.00003}
  - model_name: azure-dalle
    litellm_params: {model: azure/my-dalle, api_base: "${fake.url}", api_key: azure-img-0003, api_version: "2024-10-21", output_cost_per_image: 0.08}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${fake.url}", api_key: sk-ant-0004}
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

describe('/v1/images/generations', () => {
  it('generates through OpenAI and prices each image', async () => {
    fake.enqueue({ kind: 'json', body: { created: 1_700_000_000, data: [{ url: 'https://images.example/1.png', revised_prompt: 'a red fox' }, { url: 'https://images.example/2.png' }] } });
    const { data, response } = await client.images.generate({ model: 'dall-e-3', prompt: 'a fox', n: 2, size: '1024x1024', quality: 'hd' }).withResponse();
    expect(data.data?.map((d) => d.url)).toEqual(['https://images.example/1.png', 'https://images.example/2.png']);
    const [sent] = fake.requests;
    expect([sent!.path, sent!.headers.authorization]).toEqual(['/v1/images/generations', 'Bearer sk-upstream-img-0001']);
    expect(sent!.body).toEqual({ model: 'dall-e-3', prompt: 'a fox', n: 2, size: '1024x1024', quality: 'hd' });
    expect(Number(response.headers.get('x-litellm-response-cost'))).toBeCloseTo(0.08, 10);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aimage_generation', model_group: 'dall-e-3', status: 'success' });
    expect(row.spend as number).toBeCloseTo(0.08, 10);
  });

  it('prices a model that reports tokens by its tokens, image tokens at the price table\'s image-token prices', async () => {
    fake.enqueue({ kind: 'json', body: { created: 1_700_000_000, data: [{ b64_json: PNG }], usage: { input_tokens: 50, output_tokens: 4160, total_tokens: 4210, input_tokens_details: { text_tokens: 50, image_tokens: 0 } } } });
    const { data, response } = await client.images.generate({ model: 'gpt-image-1', prompt: 'a fox' }).withResponse();
    expect(data.data?.[0]?.b64_json).toBe(PNG);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ prompt_tokens: 50, completion_tokens: 4160 });
    // gpt-image-1 from the price table: text in 5e-6, image out 4e-5 (it has no text-out price).
    expect(row.spend as number).toBeCloseTo(50 * 0.000005 + 4160 * 0.00004, 10);

    // A deployment priced in its config pays its own prices for image tokens too.
    fake.enqueue({ kind: 'json', body: { created: 1_700_000_000, data: [{ b64_json: PNG }], usage: { input_tokens: 300, output_tokens: 4160, total_tokens: 4460, input_tokens_details: { text_tokens: 50, image_tokens: 250 } } } });
    const negotiated = await client.images.generate({ model: 'gpt-image-1-negotiated', prompt: 'a fox' }).withResponse();
    expect(Number(negotiated.response.headers.get('x-litellm-response-cost'))).toBeCloseTo(300 * 0.000004 + 4160 * 0.00003, 10);
  });

  it('reaches Azure OpenAI\'s deployment path, also by the Azure-style route', async () => {
    fake.enqueue({ kind: 'json', body: { created: 1_700_000_000, data: [{ url: 'https://images.example/az.png' }] } });
    const res = await fetch(`${stack.url}/openai/deployments/azure-dalle/images/generations?api-version=2024-10-21`, {
      method: 'POST', headers: { 'api-key': TEST_MASTER_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'a fox' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.08');
    const [sent] = fake.requests;
    expect([sent!.path, sent!.query['api-version'], sent!.headers['api-key']]).toEqual(['/openai/deployments/my-dalle/images/generations', '2024-10-21', 'azure-img-0003']);
  });

  it('is among the LLM API routes a key may be limited to', async () => {
    fake.enqueue({ kind: 'json', body: { created: 1_700_000_000, data: [{ url: 'https://images.example/k.png' }] } });
    const key = await seedKey(stack.db.url);
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET allowed_routes = $2 WHERE token = $1', [sha256(key), ['llm_api_routes']]);
    const limited = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    expect((await limited.images.generate({ model: 'dall-e-3', prompt: 'a fox' })).data?.[0]?.url).toBe('https://images.example/k.png');
  });

  it('refuses a provider without images, a stream and a missing prompt, with no upstream call', async () => {
    const claude = await client.images.generate({ model: 'claude', prompt: 'a fox' }).catch((e: unknown) => e);
    expect(claude).toBeInstanceOf(OpenAI.BadRequestError);
    expect((claude as InstanceType<typeof OpenAI.APIError>).message).toContain('does not serve /images/generations');
    const streamed = await client.images.generate({ model: 'gpt-image-1', prompt: 'a fox', stream: true } as never).catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(OpenAI.BadRequestError);
    const noPrompt = await client.images.generate({ model: 'dall-e-3' } as never).catch((e: unknown) => e);
    expect(noPrompt).toBeInstanceOf(OpenAI.BadRequestError);
    expect(fake.requests).toHaveLength(0);
  });

  it('has GET /health probe an image model with one image', async () => {
    fake.enqueue({ kind: 'json', body: { created: 1_700_000_000, data: [{ url: 'https://images.example/probe.png' }] } });
    const res = await fetch(`${stack.url}/health?model=dall-e-3`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(await res.json()).toMatchObject({ healthy_count: 1, unhealthy_count: 0 });
    expect(fake.requests.map((r) => [r.path, r.body])).toEqual([['/v1/images/generations', { model: 'dall-e-3', prompt: 'test from litellm', n: 1 }]]);
  });
});

describe('/v1/images/edits', () => {
  it('sends the image, the mask and the prompt on as a form, and prices its text and image tokens', async () => {
    fake.enqueue({ kind: 'json', body: { created: 1_700_000_000, data: [{ b64_json: PNG }], usage: { input_tokens: 300, output_tokens: 1000, total_tokens: 1300, input_tokens_details: { text_tokens: 50, image_tokens: 250 } } } });
    const { data, response } = await client.images.edit({
      model: 'gpt-image-1', prompt: 'add a hat', image: await toFile(Buffer.from('source png'), 'fox.png', { type: 'image/png' }),
      mask: await toFile(Buffer.from('mask png'), 'mask.png', { type: 'image/png' }), size: '1024x1024',
    }).withResponse();
    expect(data.data?.[0]?.b64_json).toBe(PNG);
    const [sent] = fake.requests;
    expect(sent!.path).toBe('/v1/images/edits');
    expect(sent!.headers['content-type']).toMatch(/^multipart\/form-data/);
    for (const part of ['filename="fox.png"', 'source png', 'filename="mask.png"', 'mask png', 'add a hat', 'gpt-image-1']) expect(sent!.rawBody).toContain(part);
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'aimage_edit', prompt_tokens: 300, completion_tokens: 1000 });
    // The source image's tokens at gpt-image-1's image-input price (1e-5), the prompt's at its text price.
    expect(row.spend as number).toBeCloseTo(50 * 0.000005 + 250 * 0.00001 + 1000 * 0.00004, 10);
  });

  it('prices by the image where the deployment does, and refuses an edit without an image', async () => {
    fake.enqueue({ kind: 'json', body: { created: 1_700_000_000, data: [{ url: 'https://images.example/e1.png' }, { url: 'https://images.example/e2.png' }] } });
    const form = new FormData();
    form.append('model', 'dall-e-3');
    form.append('prompt', 'make it blue');
    form.append('n', '2');
    form.append('image[]', new File([Buffer.from('one')], 'one.png', { type: 'image/png' }));
    form.append('image[]', new File([Buffer.from('two')], 'two.png', { type: 'image/png' }));
    const res = await fetch(`${stack.url}/v1/images/edits`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` }, body: form });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(0.08, 10);
    expect(fake.requests[0]!.rawBody.match(/name="image\[\]"; filename="(one|two)\.png"/g)).toHaveLength(2);

    const noImage = new FormData();
    noImage.append('model', 'dall-e-3');
    noImage.append('prompt', 'make it blue');
    const refused = await fetch(`${stack.url}/v1/images/edits`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` }, body: noImage });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('image is required');
    expect(fake.requests).toHaveLength(1);
  });
});
