import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { responseObject, responseStreamEvents, responsesUsage } from './fakes/openai-responses.ts';
import { seedKey } from './support/keys.ts';
import { decoded, useResponsesStoredStack } from './support/responses-stored-stack.ts';

/**
 * The Responses API's ids as LiteLLM gives them out (the provider's id with
 * the deployment that stored it, base64-encoded behind `resp_`), so a
 * follow-up (`previous_response_id`) reaches that deployment in a group of
 * several, and GET, DELETE, input_items and cancel reach it by the id alone,
 * all through the official openai client. Who may reach them (owners, keys'
 * models and routes): responses-stored-owners.test.ts.
 */

const r = useResponsesStoredStack();

describe('Responses API ids', () => {
  it('name the deployment that answered, plain and streamed', async () => {
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'first', responsesUsage(5, 1), { response: 'resp_upstream_plain', message: 'msg_1' }) });
    const plain = await r.client.responses.create({ model: 'pair', input: 'hi' });
    const at = r.fake.requests[0]!.path.startsWith('/a/') ? 'deployment-a' : 'deployment-b';
    // The master key's responses are its own (owner:master), signed by the gateway: see the owners' test for keys'.
    expect(decoded(plain.id)).toMatch(new RegExp(`^litellm:custom_llm_provider:openai;model_id:${at};response_id:resp_upstream_plain;owner:master;sig:[\\w-]{32}$`));

    r.fake.enqueue({ kind: 'sse', events: responseStreamEvents('gpt-4o', ['Hel', 'lo'], responsesUsage(5, 2)) });
    const stream = await r.client.responses.create({ model: 'pair', input: 'hi', stream: true });
    const ids = new Set<string>();
    for await (const event of stream) if ('response' in event) ids.add(event.response.id);
    expect(ids.size).toBe(1);
    expect(decoded([...ids][0]!)).toMatch(/^litellm:custom_llm_provider:openai;model_id:deployment-[ab];response_id:resp_/);
  });

  it('send a follow-up to the deployment that stored the response, with the provider\'s own id', async () => {
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'first', responsesUsage(5, 1), { response: 'resp_upstream_1', message: 'msg_1' }) });
    const first = await r.client.responses.create({ model: 'pair', input: 'Remember 42' });
    const home = r.fake.requests[0]!.path;
    for (let i = 0; i < 6; i++) r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', `next ${i}`, responsesUsage(9, 1)) });
    for (let i = 0; i < 6; i++) {
      expect((await r.client.responses.create({ model: 'pair', input: 'What number?', previous_response_id: first.id })).output_text).toBe(`next ${i}`);
    }
    const followUps = r.fake.requests.slice(1);
    expect(followUps.map((r) => r.path)).toEqual(Array(6).fill(home));
    expect(followUps.every((r) => (r.body as { previous_response_id?: string }).previous_response_id === 'resp_upstream_1')).toBe(true);

    // A response of another group's deployment cannot be continued through this one.
    const foreign = await r.client.responses.create({ model: 'other', input: 'x', previous_response_id: first.id }).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(OpenAI.BadRequestError);
    expect((foreign as InstanceType<typeof OpenAI.APIError>).message).toContain('previous_response_id');
    expect(r.fake.requests).toHaveLength(7);
  });

  it('reach the stored response by id alone: retrieve, input items, delete, cancel', async () => {
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'stored', responsesUsage(5, 1), { response: 'resp_upstream_2', message: 'msg_2' }) });
    const created = await r.client.responses.create({ model: 'pair', input: 'Keep this' });
    const home = r.fake.requests[0]!.path.replace(/\/responses$/, '');
    const key = r.fake.requests[0]!.headers.authorization;

    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'stored', responsesUsage(5, 1), { response: 'resp_upstream_2', message: 'msg_2' }) });
    const retrieved = await r.client.responses.retrieve(created.id);
    expect(retrieved.id).toBe(created.id);
    expect(retrieved.output_text).toBe('stored');

    r.fake.enqueue({ kind: 'json', body: { object: 'list', data: [{ id: 'msg_in_1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Keep this' }] }], first_id: 'msg_in_1', last_id: 'msg_in_1', has_more: false } });
    const items = await r.client.responses.inputItems.list(created.id, { limit: 5 });
    expect(items.data.map((i) => i.id)).toEqual(['msg_in_1']);

    r.fake.enqueue({ kind: 'json', body: { id: 'resp_upstream_2', object: 'response.deleted', deleted: true } });
    await r.client.responses.delete(created.id);

    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'stored', null, { response: 'resp_upstream_2', message: 'msg_2' }) });
    const cancelled = await r.client.responses.cancel(created.id);
    expect(cancelled.id).toBe(created.id);

    expect(r.fake.requests.slice(1).map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ['GET', `${home}/responses/resp_upstream_2`, key],
      ['GET', `${home}/responses/resp_upstream_2/input_items`, key],
      ['DELETE', `${home}/responses/resp_upstream_2`, key],
      ['POST', `${home}/responses/resp_upstream_2/cancel`, key],
    ]);
    expect(r.fake.requests[2]!.query).toMatchObject({ limit: '5' });
  });

  it('reach a response made through a wildcard group at its deployment, for a key that may call the model it was made with', async () => {
    const key = await seedKey(r.stack.db.url, { models: ['wild/*'] });
    const keyed = new OpenAI({ baseURL: `${r.stack.url}/v1`, apiKey: key, maxRetries: 0 });
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4.1', 'wild', responsesUsage(5, 1), { response: 'resp_upstream_wild', message: 'msg_w' }) });
    const created = await keyed.responses.create({ model: 'wild/gpt-4.1', input: 'Keep this' });
    expect(r.fake.requests[0]).toMatchObject({ path: '/w/v1/responses', body: expect.objectContaining({ model: 'gpt-4.1' }) });
    expect(decoded(created.id)).toContain(';model_id:deployment-wild:gpt-4.1;');

    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4.1', 'wild', responsesUsage(5, 1), { response: 'resp_upstream_wild', message: 'msg_w' }) });
    const retrieved = await keyed.responses.retrieve(created.id);
    expect(retrieved.output_text).toBe('wild');
    r.fake.enqueue({ kind: 'json', body: { id: 'resp_upstream_wild', object: 'response.deleted', deleted: true } });
    await keyed.responses.delete(created.id);
    expect(r.fake.requests.slice(1).map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ['GET', '/w/v1/responses/resp_upstream_wild', 'Bearer sk-upstream-w-0005'],
      ['DELETE', '/w/v1/responses/resp_upstream_wild', 'Bearer sk-upstream-w-0005'],
    ]);
  });

  it('reach Azure\'s stored responses under /openai/responses with its api-version', async () => {
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'azure', responsesUsage(5, 1), { response: 'resp_azure_1', message: 'msg_3' }) });
    const created = await r.client.responses.create({ model: 'azure-4o', input: 'hi' });
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'azure', responsesUsage(5, 1), { response: 'resp_azure_1', message: 'msg_3' }) });
    expect((await r.client.responses.retrieve(created.id)).output_text).toBe('azure');
    const get = r.fake.requests[1]!;
    expect([get.method, get.path, get.query['api-version'], get.headers['api-key']]).toEqual(['GET', '/openai/responses/resp_azure_1', '2025-04-01-preview', 'azure-upstream-0003']);
  });
});
