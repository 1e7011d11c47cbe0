import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { openaiChatChunks, openaiChatCompletion } from './fakes/openai-format.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { useDataPathStack } from './support/data-path.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// Where a key comes from: every header LiteLLM reads it from, the configured one, none at all.

let fake: FakeUpstream;
let stack: TestStack;

useDataPathStack((s) => ({ fake, stack } = s));

describe('virtual keys', () => {
  it('are asked for before the body is read: no key and a malformed body is a 401, a key and a malformed body a 400', async () => {
    const post = (headers: Record<string, string>) => fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"model": "gpt-4o", "messages": ' });
    const anonymous = await post({});
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { type: 'auth_error', message: expect.stringContaining('No api key passed in') } });
    expect((await post({ authorization: `Bearer ${TEST_MASTER_KEY}` })).status).toBe(400);
  });

  it('also authenticate through every header LiteLLM reads a key from, and the configured litellm_key_header_name', async () => {
    const key = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    for (const header of ['x-api-key', 'api-key', 'x-litellm-api-key', 'x-goog-api-key', 'Ocp-Apim-Subscription-Key', 'X-Tollgate-Key']) {
      const res = await fetch(`${stack.url}/v1/models`, { headers: { [header]: key } });
      expect(res.status, header).toBe(200);
      expect(((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id), header).toEqual(['gpt-4o']);
    }
    const unknown = await fetch(`${stack.url}/v1/models`, { headers: { 'x-goog-api-key': 'sk-not-a-key-0000' } });
    expect(unknown.status).toBe(401);
  });

  it('take the key from x-litellm-api-key or the configured header over an Authorization meant for someone else, and pass neither on', async () => {
    const key = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    for (const header of ['x-litellm-api-key', 'X-Tollgate-Key']) {
      fake.reset();
      const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'sk-provider-key-not-for-tollgate', defaultHeaders: { [header]: `Bearer ${key}` }, maxRetries: 0 });
      const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(data.choices[0]?.message.content).toBeTruthy();
      const sent = fake.requests[0]?.headers ?? {};
      expect(sent.authorization).toBe('Bearer sk-upstream-openai-secret-0001');
      expect(JSON.stringify(sent)).not.toContain(key);
      const requestId = response.headers.get('x-litellm-call-id')!;
      const row = await eventually(() => spendLogRow(stack.db.url, requestId));
      expect(row?.api_key).toBe(sha256(key));
    }
  });
});

describe('the provider\'s x-ratelimit-* headers', () => {
  const OPENAI_LIMITS = {
    'x-ratelimit-limit-requests': '10000', 'x-ratelimit-remaining-requests': '9999', 'x-ratelimit-reset-requests': '6ms',
    'x-ratelimit-limit-tokens': '30000000', 'x-ratelimit-remaining-tokens': '29999980', 'x-ratelimit-reset-tokens': '0s',
  };
  const answer = { model: 'gpt-4o', content: 'hi', promptTokens: 3, completionTokens: 1 };

  it('are passed on, plain and streamed, where no limit of a key (or its team, user, end user) applies, as LiteLLM does', async () => {
    const key = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    for (const apiKey of [key, TEST_MASTER_KEY]) {
      const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
      fake.enqueue({ kind: 'json', body: openaiChatCompletion(answer), headers: { ...OPENAI_LIMITS, 'openai-processing-ms': '120' } });
      const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      for (const [name, value] of Object.entries(OPENAI_LIMITS)) expect(response.headers.get(name), name).toBe(value);
      // Only the rate limits: the provider's other headers stay with the provider.
      expect(response.headers.get('openai-processing-ms')).toBeNull();

      fake.enqueue({ kind: 'sse', events: [...openaiChatChunks({ ...answer, pieces: ['hi'], includeUsage: true }), '[DONE]'], headers: OPENAI_LIMITS });
      const streamed = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
      for await (const _ of streamed.data) { /* drained */ }
      expect(streamed.response.headers.get('x-ratelimit-remaining-tokens')).toBe('29999980');
    }
  });

  it('give way to a key\'s own limits', async () => {
    const key = await seedKey(stack.db.url, { models: ['gpt-4o'] });
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET rpm_limit = 50 WHERE token = $1', [sha256(key)]);
    fake.enqueue({ kind: 'json', body: openaiChatCompletion(answer), headers: OPENAI_LIMITS });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('50');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('49');
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBeNull();
    expect(response.headers.get('x-ratelimit-reset-requests')).toBeNull();
  });
});
