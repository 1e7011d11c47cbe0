import { createHmac } from 'node:crypto';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { responseObject, responsesUsage } from './fakes/openai-responses.ts';
import { seedKey, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { decoded, useResponsesStoredStack } from './support/responses-stored-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * Who may reach a stored response by its Responses API id (see responses-stored.test.ts for the ids
 * and the deployment they lead to): not an id the gateway did not give out, not a key that may no
 * longer call its group, and only the team, user or key that created it (or the master key).
 */

const r = useResponsesStoredStack();

describe('Responses API ids', () => {
  it('answer 404 for an id the gateway did not give out, and refuse a key that may not call its group', async () => {
    const unknown = await r.client.responses.retrieve('resp_not_ours').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    // An id naming a path segment of its own (`..`) is not one the gateway gave out: it never reaches a URL.
    const climbing = `resp_${Buffer.from('litellm:custom_llm_provider:openai;model_id:deployment-a;response_id:..').toString('base64url')}`;
    expect(await r.client.responses.delete(climbing).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    // A stored response's stream is a background response's: not served.
    const streamed = await fetch(`${r.stack.url}/v1/responses/${climbing}?stream=true`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    expect(streamed.status).toBe(400);

    // The owner's own key, once its key or its user may no longer call the group: refused as a call would be.
    await query(r.stack.db.url, 'INSERT INTO "LiteLLM_UserTable" (user_id) VALUES ($1)', ['u-stored']);
    const [first, narrowed] = await Promise.all([seedKey(r.stack.db.url, { userId: 'u-stored' }), seedKey(r.stack.db.url, { userId: 'u-stored', models: ['other'] })]);
    const as = (key: string) => new OpenAI({ baseURL: `${r.stack.url}/v1`, apiKey: key, maxRetries: 0 });
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'private', responsesUsage(5, 1), { response: 'resp_upstream_3', message: 'msg_4' }) });
    const created = await as(first).responses.create({ model: 'pair', input: 'hi' });
    expect(await as(narrowed).responses.retrieve(created.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    const update = await fetch(`${r.stack.url}/user/update`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'u-stored', models: ['other'] }),
    });
    expect(update.status).toBe(200);
    expect(await as(first).responses.retrieve(created.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(r.fake.requests).toHaveLength(1);
  });

  it('belong to the team, user or key that created them: no other key reads, deletes or continues them', async () => {
    await query(r.stack.db.url, 'INSERT INTO "LiteLLM_UserTable" (user_id) VALUES ($1), ($2)', ['u-owner', 'u-stranger']);
    const [mine, mineToo, stranger] = await Promise.all([seedKey(r.stack.db.url, { userId: 'u-owner' }), seedKey(r.stack.db.url, { userId: 'u-owner' }), seedKey(r.stack.db.url, { userId: 'u-stranger' })]);
    const as = (key: string) => new OpenAI({ baseURL: `${r.stack.url}/v1`, apiKey: key, maxRetries: 0 });
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'secret plans', responsesUsage(5, 2), { response: 'resp_upstream_owned', message: 'msg_6' }) });
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
    expect(r.fake.requests).toHaveLength(1);

    // The same user's other key, and the master key, may.
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'secret plans', responsesUsage(5, 2), { response: 'resp_upstream_owned', message: 'msg_6' }) });
    expect((await as(mineToo).responses.retrieve(created.id)).output_text).toBe('secret plans');
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'go on', responsesUsage(9, 2)) });
    expect((await r.client.responses.create({ model: 'pair', input: 'continue', previous_response_id: created.id })).output_text).toBe('go on');
  });

  it('are reachable with a key limited to the LLM API routes', async () => {
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'mine', responsesUsage(5, 1), { response: 'resp_upstream_4', message: 'msg_5' }) });
    const key = await seedKey(r.stack.db.url);
    await query(r.stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET allowed_routes = $2 WHERE token = $1', [sha256(key), ['llm_api_routes']]);
    const llm = new OpenAI({ baseURL: `${r.stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const created = await llm.responses.create({ model: 'pair', input: 'hi' });
    r.fake.enqueue({ kind: 'json', body: responseObject('gpt-4o', 'mine', responsesUsage(5, 1), { response: 'resp_upstream_4', message: 'msg_5' }) });
    expect((await llm.responses.retrieve(created.id)).output_text).toBe('mine');
  });
});
