import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { FakeUpstream } from './fakes/upstream.ts';
import { useDataPathStack } from './support/data-path.ts';
import { eventually, seedKey, sha256, spendLogRow } from './support/keys.ts';
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
