import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/keys.ts';
import { adminClient } from './support/admin.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * A customer's (end user's) `allowed_model_region`, as LiteLLM's region-based
 * routing has it: a call naming the customer (`user`, or the
 * x-litellm-end-user-id header) is served only by deployments whose
 * `region_name` is that region, and its answer says the region in
 * `x-litellm-model-region`. Each deployment answers with its own region, so
 * which one served a call is read from the answer itself.
 */

const CONFIG = `
model_list:
  - model_name: chat
    litellm_params: {model: mock/chat-eu, mock_response: "served in eu", region_name: eu}
    model_info: {id: chat-eu}
  - model_name: chat
    litellm_params: {model: mock/chat-us, mock_response: "served in us", region_name: us}
    model_info: {id: chat-us}
  - model_name: chat
    litellm_params: {model: mock/chat-anywhere, mock_response: "served anywhere"}
    model_info: {id: chat-anywhere}
  - model_name: us-only
    litellm_params: {model: mock/us-only, mock_response: "served in us"}
    model_info: {id: us-only}
  - model_name: us-only-with-fallback
    litellm_params: {model: mock/us-only-2, mock_response: "served in us", region_name: us}
router_settings:
  fallbacks: [{us-only-with-fallback: [chat]}]
  # us-only answers from chat's cached answers, but never a customer held to a region it has no deployment in.
  caching_groups: [[chat, us-only]]
litellm_settings:
  cache: true
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

let stack: TestStack;
const { ok: admin } = adminClient(() => stack);
let key: string;

beforeAll(async () => {
  stack = await startTestStack({ configYaml: CONFIG });
  key = (await admin('/key/generate', {})).key as string;
});
afterAll(async () => stack?.stop());

interface Served { text: string | null | undefined; region: string | null; modelId: string | null; fallbacks: string | null; cacheKey: string | null }

let prompts = 0;

/** One chat call; each with a prompt of its own (the cache is on) unless one is given. */
async function chat(apiKey: string, options: { user?: string; model?: string; headers?: Record<string, string>; prompt?: string } = {}): Promise<Served> {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: options.headers });
  const { data, response } = await client.chat.completions
    .create({ model: options.model ?? 'chat', messages: [{ role: 'user', content: options.prompt ?? `hi ${++prompts}` }], ...(options.user ? { user: options.user } : {}) })
    .withResponse();
  const h = response.headers;
  return {
    text: data.choices[0]?.message.content, region: h.get('x-litellm-model-region'), modelId: h.get('x-litellm-model-id'),
    fallbacks: h.get('x-litellm-attempted-fallbacks'), cacheKey: h.get('x-litellm-cache-key'),
  };
}

async function servedBy(n: number, call: () => Promise<Served>): Promise<Set<string>> {
  const texts = new Set<string>();
  for (let i = 0; i < n; i++) texts.add(String((await call()).text));
  return texts;
}

describe('a customer\'s allowed_model_region', () => {
  it('keeps every call naming the customer on deployments of its region, with x-litellm-model-region, for virtual and master keys', async () => {
    await admin('/end_user/new', { user_id: 'acme-eu', allowed_model_region: 'eu' });
    for (const apiKey of [key, TEST_MASTER_KEY]) {
      const first = await chat(apiKey, { user: 'acme-eu' });
      expect(first).toMatchObject({ text: 'served in eu', region: 'eu', modelId: 'chat-eu' });
      expect(await servedBy(15, () => chat(apiKey, { user: 'acme-eu' }))).toEqual(new Set(['served in eu']));
      // The end user named by header instead of `user`.
      expect(await chat(apiKey, { headers: { 'x-litellm-end-user-id': 'acme-eu' } })).toMatchObject({ text: 'served in eu', region: 'eu' });
    }
  });

  it('leaves calls without a customer, or with a customer without a region, to the whole group, with no region header', async () => {
    await admin('/customer/new', { user_id: 'acme-any' });
    for (const user of [undefined, 'acme-any', 'never-registered']) {
      const seen = await servedBy(30, () => chat(key, user ? { user } : {}));
      expect(seen, String(user)).toEqual(new Set(['served in eu', 'served in us', 'served anywhere']));
    }
    expect((await chat(key, { user: 'acme-any' })).region).toBeNull();
  });

  it('refuses a group with no deployment in the region with a 400 (no call is made), unless a fallback group has one', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'us-only', messages: [{ role: 'user', content: 'hi' }], user: 'acme-eu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const { error } = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error).toMatchObject({ type: 'bad_request_error', param: 'model' });
    expect((error as { message: string }).message).toContain('allowed_model_region=eu');
    // The group's own deployment is not in the region; its fallback group has one.
    expect(await chat(key, { model: 'us-only-with-fallback', user: 'acme-eu' })).toMatchObject({ text: 'served in eu', region: 'eu', fallbacks: '1' });
    // Without the customer the group serves as before.
    expect((await chat(key, { model: 'us-only' })).text).toBe('served in us');
  });

  it('never serves a region-bound call an answer cached from outside the region; its own answers are cached by region', async () => {
    // An answer made outside the EU, cached for calls without a region.
    let prompt = '';
    for (let i = 0; i < 50 && !prompt; i++) {
      const candidate = `cached question ${i}`;
      if ((await chat(key, { prompt: candidate })).text !== 'served in eu') prompt = candidate;
    }
    expect(prompt).not.toBe('');
    expect((await chat(key, { prompt })).cacheKey).not.toBeNull();
    // The EU customer's same question is a miss, answered in the EU, then a hit of its own.
    expect(await chat(key, { prompt, user: 'acme-eu' })).toMatchObject({ text: 'served in eu', cacheKey: null });
    expect(await chat(key, { prompt, user: 'acme-eu' })).toMatchObject({ text: 'served in eu', region: 'eu', modelId: 'chat-eu', cacheKey: expect.any(String) });
  });

  it('never answers a region-bound call from a caching group\'s answers when the group asked has no deployment in the region', async () => {
    const prompt = 'shared between chat and us-only';
    expect(await chat(key, { prompt, user: 'acme-eu' })).toMatchObject({ text: 'served in eu', cacheKey: null });
    expect(await chat(key, { prompt, user: 'acme-eu' })).toMatchObject({ text: 'served in eu', cacheKey: expect.any(String) });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const refused = await client.chat.completions.create({ model: 'us-only', messages: [{ role: 'user', content: prompt }], user: 'acme-eu' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('allowed_model_region=eu');
    // Without a region, the groups of the caching group answer each other's questions (here chat's, cached for no region).
    const open = 'shared question without a region';
    expect((await chat(key, { prompt: open })).cacheKey).toBeNull();
    const shared = await chat(key, { prompt: open, model: 'us-only' });
    expect(shared.cacheKey).not.toBeNull();
    expect(shared.modelId).toBe('us-only');
  });

  it('follows /customer/update: a changed region applies to the next calls', async () => {
    await admin('/customer/new', { user_id: 'acme-moving', allowed_model_region: 'eu' });
    expect((await chat(key, { user: 'acme-moving' })).text).toBe('served in eu');
    await admin('/customer/update', { user_id: 'acme-moving', allowed_model_region: 'us' });
    await eventually(async () => {
      const served = await chat(key, { user: 'acme-moving' });
      return served.text === 'served in us' && served.region === 'us' ? served : undefined;
    }, 10_000);
    expect(await servedBy(10, () => chat(key, { user: 'acme-moving' }))).toEqual(new Set(['served in us']));
  });
});
