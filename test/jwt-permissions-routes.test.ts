import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeBatches, startFakeBatches } from './fakes/openai-batches.ts';
import { type FakeVideos, startFakeVideos } from './fakes/openai-videos.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { jwt, JWT_AUTH_ON, stack, useJwtStack } from './support/jwt-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * A JWT's scope_mappings held on every way into the gateway, not only the chat routes: the model check on routes
 * that authorize their model on their own (videos, provider pass-through), and the route check where the token
 * comes outside the usual headers (`?key=` on Google's routes and on /gemini pass-through). Fakes of OpenAI's
 * Videos API and of OpenAI / Gemini on loopback; every refusal is checked to reach no provider.
 */

let videos: FakeVideos;
let upstream: FakeUpstream;
let stores: FakeBatches;
beforeAll(async () => {
  videos = await startFakeVideos();
  upstream = await startFakeUpstream();
  stores = await startFakeBatches();
});
afterAll(async () => {
  await videos?.close();
  await upstream?.close();
  await stores?.close();
});
beforeEach(() => {
  videos.reset();
  upstream.reset();
  stores.reset();
});

useJwtStack(() => `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok"}
  - model_name: sora
    litellm_params: {model: openai/sora-2, api_base: "${videos.url}/acct-a/v1", api_key: sk-acct-a-0001}
    model_info: {id: dep-sora, mode: video_generation, output_cost_per_second: 0.1}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: sk-openai-upstream-0002, use_in_pass_through: true}
  - model_name: gemini-flash
    litellm_params: {model: gemini/gemini-2.0-flash, api_base: "${upstream.url}", api_key: gm-upstream-0004}
  - model_name: rag-store
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${stores.url}/acct-a/v1", api_key: sk-acct-a-0001}
    model_info: {id: dep-rag, input_cost_per_token: 0, output_cost_per_token: 0, input_cost_per_query: 0.001}
${JWT_AUTH_ON}  litellm_jwtauth:
    team_id_jwt_field: client_id
    team_id_upsert: true
    team_allowed_routes: [llm_api_routes, info_routes]
    enforce_scope_based_access: true
    scope_mappings:
      - {scope: models.mock, models: [mock-gpt], routes: ["/*"]}
      - {scope: models.media, models: [sora, gpt-4o], routes: ["/*"]}
      - {scope: chat.only, models: [mock-gpt, gemini-flash], routes: [/v1/chat/completions]}
      - {scope: google, models: [gemini-flash], routes: ["/v1beta/*", "/gemini/*"]}
      - {scope: rag, models: [rag-store], routes: ["/*"]}
`);

const DENIED = (model: string) => `The requested model '${model}' is not available for this API key, or the model name is invalid. Check the models available to you and try again.`;
const GEMINI_ANSWER = { candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3 }, modelVersion: 'gemini-2.0-flash' };
const GEMINI_BODY = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hello' }] }] });

interface Refusal { status: number; error: { message: string; type: string; param: string | null; code: string } }
const refusal = async (res: Response): Promise<Refusal> => ({ status: res.status, error: ((await res.json()) as Refusal).error });
const apiError = (err: unknown) => err as InstanceType<typeof OpenAI.APIError>;

describe('the model a scope grants, held where a route authorizes its model itself', () => {
  it('POST /v1/videos: a token whose scopes do not grant the group is refused before the provider, one that does makes its video', async () => {
    const narrow = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: jwt({ client_id: 'perm-videos', scope: 'models.mock' }), maxRetries: 0 });
    const err = apiError(await narrow.videos.create({ model: 'sora', prompt: 'a cat' }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(403);
    expect(err.error).toMatchObject({ message: DENIED('sora'), type: 'auth_error', param: 'model', code: '403' });
    // LiteLLM's generic message: what else the token may call stays out of the answer.
    expect(JSON.stringify(err.error)).not.toContain('mock-gpt');
    expect(videos.requests).toHaveLength(0);

    const granted = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: jwt({ client_id: 'perm-videos', scope: 'models.media' }), maxRetries: 0 });
    const video = await granted.videos.create({ model: 'sora', prompt: 'a cat' });
    expect(video.id).toBeTruthy();
    expect(videos.requests.length).toBeGreaterThan(0);
  });

  it('provider pass-through (/openai_passthrough): the body\'s model group is held to the scopes too', async () => {
    const narrow = new OpenAI({ baseURL: `${stack.url}/openai_passthrough/v1`, apiKey: jwt({ client_id: 'perm-pass', scope: 'models.mock' }), maxRetries: 0 });
    const err = apiError(await narrow.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(403);
    expect(err.error).toMatchObject({ message: DENIED('gpt-4o'), param: 'model' });
    expect(upstream.requests).toHaveLength(0);

    const granted = new OpenAI({ baseURL: `${stack.url}/openai_passthrough/v1`, apiKey: jwt({ client_id: 'perm-pass', scope: 'models.media' }), maxRetries: 0 });
    await granted.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(upstream.requests[0]?.headers.authorization).toBe('Bearer sk-openai-upstream-0002');
  });

  it('provider pass-through naming no model (GET /openai_passthrough/v1/files): held by the scopes\' routes only, as in LiteLLM', async () => {
    const files = { object: 'list', data: [], has_more: false };
    upstream.enqueue({ kind: 'json', body: files });
    const narrow = await fetch(`${stack.url}/openai_passthrough/v1/files`, { headers: { authorization: `Bearer ${jwt({ client_id: 'perm-files', scope: 'models.mock' })}` } });
    expect(narrow.status).toBe(200);
    expect(await narrow.json()).toEqual(files);
    expect(upstream.requests[0]).toMatchObject({ method: 'GET', path: '/v1/files' });
    expect(upstream.requests[0]?.headers.authorization).toBe('Bearer sk-openai-upstream-0002');
    // A scope whose routes do not list the path still refuses it, before the provider.
    upstream.reset();
    const chatOnly = await fetch(`${stack.url}/openai_passthrough/v1/files`, { headers: { authorization: `Bearer ${jwt({ client_id: 'perm-files', scope: 'chat.only' })}` } });
    expect(chatOnly.status).toBe(403);
    expect((await refusal(chatOnly)).error.message).toContain('Scopes not allowed to call route=/openai_passthrough/v1/files');
    expect(upstream.requests).toHaveLength(0);
  });

  it('POST /v1/batches by an admin token its scopes hold: a raw input file naming another model is refused (the master key\'s is not)', async () => {
    // A file put in the account outside the gateway, its lines naming a model the token's scopes do not grant.
    const line = (model: string) => `${JSON.stringify({ custom_id: 'r1', method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: 'hi' }] } })}\n`;
    const direct = new OpenAI({ baseURL: `${stores.url}/acct-a/v1`, apiKey: 'sk-acct-a-0001', maxRetries: 0 });
    const other = await direct.files.create({ file: await toFile(Buffer.from(line('gpt-4o')), 'other.jsonl'), purpose: 'batch' });
    const own = await direct.files.create({ file: await toFile(Buffer.from(line('gpt-4o-mini')), 'own.jsonl'), purpose: 'batch' });
    const batch = (apiKey: string, fileId: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: { 'x-litellm-model': 'rag-store' } })
      .batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const adminToken = jwt({ scope: 'litellm_proxy_admin rag' });
    const err = apiError(await batch(adminToken, other.id).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({ param: 'input_file_id', code: '400', message: expect.stringContaining('names model "gpt-4o"') });
    expect(stores.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/batches'))).toHaveLength(0);
    // The group's own model: the batch runs. The master key (no scopes) may run any file, as before.
    expect((await batch(adminToken, own.id)).status).toBe('validating');
    expect((await batch(TEST_MASTER_KEY, other.id)).status).toBe('validating');
  });
});

describe('/v1/rag/query', () => {
  it('refuses a chat model the scopes do not grant before the store is searched (or the search billed)', async () => {
    const token = jwt({ client_id: 'perm-rag', scope: 'rag' });
    const post = (path: string, body: unknown) => fetch(`${stack.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ingested = await post('/v1/rag/ingest', { file: { filename: 'faq.txt', content: Buffer.from('Returns are accepted within 30 days.').toString('base64') }, ingest_options: { vector_store: { model: 'rag-store' } } });
    expect(ingested.status).toBe(200);
    const store = ((await ingested.json()) as { vector_store_id: string }).vector_store_id;
    const before = stores.requests.length;
    const refused = await refusal(await post('/v1/rag/query', { model: 'mock-gpt', messages: [{ role: 'user', content: 'returns?' }], retrieval_config: { vector_store_id: store } }));
    expect(refused.status).toBe(403);
    expect(refused.error).toMatchObject({ message: DENIED('mock-gpt'), param: 'model' });
    expect(stores.requests.length).toBe(before);
  });
});

describe('the routes a scope lists, held whichever way the token comes', () => {
  const google = (path: string, token: string) => fetch(`${stack.url}${path}?key=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: GEMINI_BODY });

  it('?key= on Google\'s generateContent route: a token whose scopes list only /v1/chat/completions is refused, one listing /v1beta/* is served', async () => {
    const chatOnly = jwt({ client_id: 'perm-google', scope: 'chat.only' });
    const refused = await refusal(await google('/v1beta/models/gemini-flash:generateContent', chatOnly));
    expect(refused.status).toBe(403);
    expect(refused.error.message).toMatch(/^Scopes not allowed to call route=\/v1beta\/models\/gemini-flash:generateContent\./);
    expect(refused.error.message).not.toContain(chatOnly);
    expect(upstream.requests).toHaveLength(0);

    upstream.enqueue({ kind: 'json', body: GEMINI_ANSWER });
    const served = await google('/v1beta/models/gemini-flash:generateContent', jwt({ client_id: 'perm-google', scope: 'google' }));
    expect(served.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    expect(JSON.stringify(upstream.requests[0])).not.toContain('perm-google');
  });

  it('?key= on /gemini pass-through: the same refusal before Google is called', async () => {
    const refused = await refusal(await google('/gemini/v1beta/models/gemini-flash:generateContent', jwt({ client_id: 'perm-google', scope: 'chat.only' })));
    expect(refused.status).toBe(403);
    expect(refused.error.message).toMatch(/^Scopes not allowed to call route=\/gemini\/v1beta\/models\/gemini-flash:generateContent\./);
    expect(upstream.requests).toHaveLength(0);

    upstream.enqueue({ kind: 'json', body: GEMINI_ANSWER });
    expect((await google('/gemini/v1beta/models/gemini-flash:generateContent', jwt({ client_id: 'perm-google', scope: 'google' }))).status).toBe(200);
  });
});
