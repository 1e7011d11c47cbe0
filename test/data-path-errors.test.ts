import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { openaiRateLimitError } from './fakes/openai-format.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { useDataPathStack } from './support/data-path.ts';
import { eventually, sha256, spendLogRow } from './support/keys.ts';
import { postUntilAnswered } from './support/oversized-upload.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// What a client gets when upstream fails or its own request is bad.

let fake: FakeUpstream;
let stack: TestStack;
let client: OpenAI;

useDataPathStack((s) => ({ fake, stack, client } = s));

describe('upstream failures', () => {
  it('keep the upstream status; a 429 keeps its retry-after', async () => {
    fake.enqueue({ kind: 'error', status: 429, body: openaiRateLimitError('gpt-4o', 7), headers: { 'retry-after': '7' } });
    const err = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rate = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rate.headers.get('retry-after')).toBe('7');
    expect(rate.error).toMatchObject({ type: 'rate_limit_error', code: '429' });
    expect(rate.message).toContain('litellm.RateLimitError: OpenAIException - ');
  });

  it('never leak the provider key an upstream error quotes', async () => {
    fake.enqueue({ kind: 'error', status: 401, body: { error: { message: 'Incorrect API key provided: sk-upstream-openai-secret-0001.', type: 'invalid_request_error', code: 'invalid_api_key' } } });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).not.toContain('sk-upstream-openai-secret-0001');
    expect(text).not.toContain('openai-secret');
  });

  it('map a 500 to InternalServerError and an unreachable upstream to a connection error', async () => {
    fake.enqueue({ kind: 'error', status: 500, body: { error: { message: 'The server had an error', type: 'server_error' } } });
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }))
      .rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const down = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(OpenAI.InternalServerError);
    expect((down as InstanceType<typeof OpenAI.InternalServerError>).error).toMatchObject({ type: 'api_connection_error' });
  });

  it('record failures in the spend log too', async () => {
    fake.enqueue({ kind: 'error', status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(503);
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ status: 'failure', spend: 0, error_type: 'internal_server_error', api_key: sha256(TEST_MASTER_KEY) });
  });
});

describe('bad input', () => {
  const post = (body: string, headers: Record<string, string> = {}) => fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json', ...headers }, body,
  });

  it.each([
    ['invalid JSON', '{"model": "gpt-4o", ', 400, null],
    ['a body that is not an object', '[1, 2]', 400, null],
    ['no model', '{"messages": [{"role": "user", "content": "x"}]}', 400, 'model'],
    ['no messages', '{"model": "gpt-4o"}', 400, 'messages'],
    ['messages of the wrong type', '{"model": "gpt-4o", "messages": "hello"}', 400, 'messages'],
    ['a bad role', '{"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]}', 400, 'messages.0.role'],
    ['temperature as a string', '{"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}', 400, 'temperature'],
    ['an unknown model', '{"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}', 400, 'model'],
    ['a parameter OpenAI does not take (drop_params off)', '{"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "top_k": 3}', 400, 'top_k'],
  ])('refuses %s with a 4xx envelope and no upstream call', async (_, body, status, param) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    const json = await res.json() as { error: { type: string; param: string | null; code: string; message: string } };
    expect(json.error).toMatchObject({ code: String(status), param });
    expect(json.error.message.length).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a body over general_settings.max_request_size_mb with 413, without reading all of it', async () => {
    const huge = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(3 * 1024 * 1024) }] });
    const answer = await postUntilAnswered(`${stack.url}/v1/chat/completions`, {
      authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(huge),
    }, Buffer.from(huge), { timeoutMs: 30_000, holdBackMs: 10_000 });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: '413' } });
    expect(fake.requests).toHaveLength(0);
  });
});
