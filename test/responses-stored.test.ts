import { createHmac } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { responseObject, responseStreamEvents, responsesUsage } from './fakes/openai-responses.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * The Responses API's ids as LiteLLM gives them out (the provider's id with
 * the deployment that stored it, base64-encoded behind `resp_`), so a
 * follow-up (`previous_response_id`) reaches that deployment in a group of
 * several, and GET, DELETE, input_items and cancel reach it by the id alone,
 * all through the official openai client.
 */

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: pair
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/a/v1", api_key: sk-upstream-a-0001}
    model_info: {id: deployment-a}
  - model_name: pair
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/b/v1", api_key: sk-upstream-b-0002}
    model_info: {id: deployment-b}
  - model_name: azure-4o
    litellm_params: {model: azure/my-4o, api_base: "${fake.url}", api_key: azure-upstream-0003, api_version: "2025-04-01-preview"}
    model_info: {id: deployment-azure}
  - model_name: other
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/c/v1", api_key: sk-upstream-c-0004}
    model_info: {id: deployment-c}
  - model_name: "wild/*"
    litellm_params: {model: "openai/*", api_base: "${fake.url}/w/v1", api_key: sk-upstream-w-0005}
    model_info: {id: deployment-wild}
router_settings:
  num_retries: 0
`,
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const decoded = (id: string) => Buffer.from(id.slice('resp_'.length), 'base64url').toString('utf8');

describe('Responses API ids', () => {
  it('name the deployment that answered, plain and streamed', async () => {
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'first', responsesUsage(5, 1), { response: 'resp_upstream_plain', message: 'msg_1' }) });
    const plain = await client.responses.create({ model: 'pair', input: 'hi' });
    const at = fake.requests[0]!.path.startsWith('/a/') ? 'deployment-a' : 'deployment-b';
    // The master key's responses are its own (owner:master), signed by the gateway: see the owners' test for keys'.
    expect(decoded(plain.id)).toMatch(new RegExp(`^litellm:custom_llm_provider:openai;model_id:${at};response_id:resp_upstream_plain;owner:master;sig:[\\w-]{32}$`));

    fake.enqueue({ kind: 'sse', events: responseStreamEvents('gpt-4o', ['Hel', 'lo'], responsesUsage(5, 2)) });
    const stream = await client.responses.create({ model: 'pair', input: 'hi', stream: true });
    const ids = new Set<string>();
    for await (const event of stream) if ('response' in event) ids.add(event.response.id);
    expect(ids.size).toBe(1);
    expect(decoded([...ids][0]!)).toMatch(/^litellm:custom_llm_provider:openai;model_id:deployment-[ab];response_id:resp_/);
  });

  it('send a follow-up to the deployment that stored the response, with the provider\'s own id', async () => {
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'first', responsesUsage(5, 1), { response: 'resp_upstream_1', message: 'msg_1' }) });
    const first = await client.responses.create({ model: 'pair', input: 'Remember 42' });
    const home = fake.requests[0]!.path;
    for (let i = 0; i < 6; i++) fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', `next ${i}`, responsesUsage(9, 1)) });
    for (let i = 0; i < 6; i++) {
      expect((await client.responses.create({ model: 'pair', input: 'What number?', previous_response_id: first.id })).output_text).toBe(`next ${i}`);
    }
    const followUps = fake.requests.slice(1);
    expect(followUps.map((r) => r.path)).toEqual(Array(6).fill(home));
    expect(followUps.every((r) => (r.body as { previous_response_id?: string }).previous_response_id === 'resp_upstream_1')).toBe(true);

    // A response of another group's deployment cannot be continued through this one.
    const foreign = await client.responses.create({ model: 'other', input: 'x', previous_response_id: first.id }).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(OpenAI.BadRequestError);
    expect((foreign as InstanceType<typeof OpenAI.APIError>).message).toContain('previous_response_id');
    expect(fake.requests).toHaveLength(7);
  });

  it('reach the stored response by id alone: retrieve, input items, delete, cancel', async () => {
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'stored', responsesUsage(5, 1), { response: 'resp_upstream_2', message: 'msg_2' }) });
    const created = await client.responses.create({ model: 'pair', input: 'Keep this' });
    const home = fake.requests[0]!.path.replace(/\/responses$/, '');
    const key = fake.requests[0]!.headers.authorization;

    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'stored', responsesUsage(5, 1), { response: 'resp_upstream_2', message: 'msg_2' }) });
    const retrieved = await client.responses.retrieve(created.id);
    expect(retrieved.id).toBe(created.id);
    expect(retrieved.output_text).toBe('stored');

    fake.enqueue({ kind: 'json', body: { object: 'list', data: [{ id: 'msg_in_1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Keep this' }] }], first_id: 'msg_in_1', last_id: 'msg_in_1', has_more: false } });
    const items = await client.responses.inputItems.list(created.id, { limit: 5 });
    expect(items.data.map((i) => i.id)).toEqual(['msg_in_1']);

    fake.enqueue({ kind: 'json', body: { id: 'resp_upstream_2', object: 'response.deleted', deleted: true } });
    await client.responses.delete(created.id);

    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'stored', null, { response: 'resp_upstream_2', message: 'msg_2' }) });
    const cancelled = await client.responses.cancel(created.id);
    expect(cancelled.id).toBe(created.id);

    expect(fake.requests.slice(1).map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ['GET', `${home}/responses/resp_upstream_2`, key],
      ['GET', `${home}/responses/resp_upstream_2/input_items`, key],
      ['DELETE', `${home}/responses/resp_upstream_2`, key],
      ['POST', `${home}/responses/resp_upstream_2/cancel`, key],
    ]);
    expect(fake.requests[2]!.query).toMatchObject({ limit: '5' });
  });

  it('reach a response made through a wildcard group at its deployment, for a key that may call the model it was made with', async () => {
    const key = await seedKey(stack.db.url, { models: ['wild/*'] });
    const keyed = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4.1', 'wild', responsesUsage(5, 1), { response: 'resp_upstream_wild', message: 'msg_w' }) });
    const created = await keyed.responses.create({ model: 'wild/gpt-4.1', input: 'Keep this' });
    expect(fake.requests[0]).toMatchObject({ path: '/w/v1/responses', body: expect.objectContaining({ model: 'gpt-4.1' }) });
    expect(decoded(created.id)).toContain(';model_id:deployment-wild:gpt-4.1;');

    fake.enqueue({ kind: 'json', body: responseObject('gpt-4.1', 'wild', responsesUsage(5, 1), { response: 'resp_upstream_wild', message: 'msg_w' }) });
    const retrieved = await keyed.responses.retrieve(created.id);
    expect(retrieved.output_text).toBe('wild');
    fake.enqueue({ kind: 'json', body: { id: 'resp_upstream_wild', object: 'response.deleted', deleted: true } });
    await keyed.responses.delete(created.id);
    expect(fake.requests.slice(1).map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ['GET', '/w/v1/responses/resp_upstream_wild', 'Bearer sk-upstream-w-0005'],
      ['DELETE', '/w/v1/responses/resp_upstream_wild', 'Bearer sk-upstream-w-0005'],
    ]);
  });

  it('reach Azure\'s stored responses under /openai/responses with its api-version', async () => {
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'azure', responsesUsage(5, 1), { response: 'resp_azure_1', message: 'msg_3' }) });
    const created = await client.responses.create({ model: 'azure-4o', input: 'hi' });
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'azure', responsesUsage(5, 1), { response: 'resp_azure_1', message: 'msg_3' }) });
    expect((await client.responses.retrieve(created.id)).output_text).toBe('azure');
    const get = fake.requests[1]!;
    expect([get.method, get.path, get.query['api-version'], get.headers['api-key']]).toEqual(['GET', '/openai/responses/resp_azure_1', '2025-04-01-preview', 'azure-upstream-0003']);
  });

  it('answer 404 for an id the gateway did not give out, and refuse a key that may not call its group', async () => {
    const unknown = await client.responses.retrieve('resp_not_ours').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    // An id naming a path segment of its own (`..`) is not one the gateway gave out: it never reaches a URL.
    const climbing = `resp_${Buffer.from('litellm:custom_llm_provider:openai;model_id:deployment-a;response_id:..').toString('base64url')}`;
    expect(await client.responses.delete(climbing).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    // A stored response's stream is a background response's: not served.
    const streamed = await fetch(`${stack.url}/v1/responses/${climbing}?stream=true`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(streamed.status).toBe(400);

    // The owner's own key, once its key or its user may no longer call the group: refused as a call would be.
    await query(stack.db.url, 'INSERT INTO "LiteLLM_UserTable" (user_id) VALUES ($1)', ['u-stored']);
    const [first, narrowed] = await Promise.all([seedKey(stack.db.url, { userId: 'u-stored' }), seedKey(stack.db.url, { userId: 'u-stored', models: ['other'] })]);
    const as = (key: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'private', responsesUsage(5, 1), { response: 'resp_upstream_3', message: 'msg_4' }) });
    const created = await as(first).responses.create({ model: 'pair', input: 'hi' });
    expect(await as(narrowed).responses.retrieve(created.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    const update = await fetch(`${stack.url}/user/update`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'u-stored', models: ['other'] }),
    });
    expect(update.status).toBe(200);
    expect(await as(first).responses.retrieve(created.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(fake.requests).toHaveLength(1);
  });

  it('belong to the team, user or key that created them: no other key reads, deletes or continues them', async () => {
    await query(stack.db.url, 'INSERT INTO "LiteLLM_UserTable" (user_id) VALUES ($1), ($2)', ['u-owner', 'u-stranger']);
    const [mine, mineToo, stranger] = await Promise.all([seedKey(stack.db.url, { userId: 'u-owner' }), seedKey(stack.db.url, { userId: 'u-owner' }), seedKey(stack.db.url, { userId: 'u-stranger' })]);
    const as = (key: string) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'secret plans', responsesUsage(5, 2), { response: 'resp_upstream_owned', message: 'msg_6' }) });
    const created = await as(mine).responses.create({ model: 'pair', input: 'my secret' });
    expect(decoded(created.id)).toMatch(/;owner:user:u-owner;sig:[\w-]{32}$/);

    expect(await as(stranger).responses.retrieve(created.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await as(stranger).responses.delete(created.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await as(stranger).responses.create({ model: 'pair', input: 'repeat it', previous_response_id: created.id }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    // base64 hides nothing: neither the id re-encoded with the stranger as owner, nor the provider's own id read out of it, gets through.
    const forged = `resp_${Buffer.from(decoded(created.id).replace('owner:user:u-owner', 'owner:user:u-stranger')).toString('base64url')}`;
    expect(await as(stranger).responses.retrieve(forged).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await as(stranger).responses.create({ model: 'pair', input: 'repeat it', previous_response_id: forged }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await as(stranger).responses.create({ model: 'pair', input: 'repeat it', previous_response_id: 'resp_upstream_owned' }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    // Nor one signed with the master key's hash, which is public (its token in /metrics and the spend logs).
    const unsigned = decoded(created.id).replace(/;sig:.*$/, '').replace('owner:user:u-owner', 'owner:user:u-stranger');
    const withPublicKey = `resp_${Buffer.from(`${unsigned};sig:${createHmac('sha256', sha256(TEST_MASTER_KEY)).update(unsigned).digest('base64url').slice(0, 32)}`).toString('base64url')}`;
    expect(await as(stranger).responses.retrieve(withPublicKey).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(fake.requests).toHaveLength(1);

    // The same user's other key, and the master key, may.
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'secret plans', responsesUsage(5, 2), { response: 'resp_upstream_owned', message: 'msg_6' }) });
    expect((await as(mineToo).responses.retrieve(created.id)).output_text).toBe('secret plans');
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'go on', responsesUsage(9, 2)) });
    expect((await client.responses.create({ model: 'pair', input: 'continue', previous_response_id: created.id })).output_text).toBe('go on');
  });

  it('are reachable with a key limited to the LLM API routes', async () => {
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'mine', responsesUsage(5, 1), { response: 'resp_upstream_4', message: 'msg_5' }) });
    const key = await seedKey(stack.db.url);
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET allowed_routes = $2 WHERE token = $1', [sha256(key), ['llm_api_routes']]);
    const llm = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const created = await llm.responses.create({ model: 'pair', input: 'hi' });
    fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'mine', responsesUsage(5, 1), { response: 'resp_upstream_4', message: 'msg_5' }) });
    expect((await llm.responses.retrieve(created.id)).output_text).toBe('mine');
  });
});
