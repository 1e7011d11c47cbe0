import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

const CONFIG = `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "Configured answer"}
  - model_name: env-limited
    litellm_params: {model: mock/env-limited, rpm: os.environ/ENV_LIMITED_RPM}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

describe('the gateway on the local runtime', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ configYaml: CONFIG, env: { ENV_LIMITED_RPM: '120' } });
  });
  afterAll(async () => stack?.stop());

  it('reports readiness with the database connected', async () => {
    const res = await fetch(`${stack.url}/health/readiness`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'connected', db: 'connected', cache: null, litellm_version: expect.any(String) });
  });

  it('answers liveliness without a key', async () => {
    const res = await fetch(`${stack.url}/health/liveliness`);
    expect(await res.json()).toBe("I'm alive!");
  });

  it('serves the mock provider through the official openai client, plain and streamed', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const plain = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hi' }] });
    expect(plain.choices[0]?.message.content).toBe('Configured answer');
    const own = await client.chat.completions.create({
      model: 'mock-gpt', messages: [{ role: 'user', content: 'Hi' }],
      // @ts-expect-error LiteLLM's extension, sent through the SDK as an extra body field
      mock_response: 'Per-request answer',
    });
    expect(own.choices[0]?.message.content).toBe('Per-request answer');
    const stream = await client.chat.completions.create({
      model: 'mock-gpt', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Configured answer');
    expect(chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('refuses bad input and unknown keys in the OpenAI envelope', async () => {
    const post = (body: string, key = TEST_MASTER_KEY) => fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body,
    });
    const bad = await post('{"model": "mock-gpt", "messages": ');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { message: 'Invalid JSON in request body', type: 'bad_request_error', param: null, code: '400' } });
    const missing = await post('{"model": "mock-gpt"}');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { type: 'bad_request_error', param: 'messages', code: '400' } });
    const unknownModel = await post('{"model": "nope", "messages": [{"role": "user", "content": "x"}]}');
    expect(unknownModel.status).toBe(400);
    const wrongKey = await post('{"model": "mock-gpt", "messages": [{"role": "user", "content": "x"}]}', 'sk-not-a-real-key-123456');
    expect(wrongKey.status).toBe(401);
    const body = await wrongKey.json() as { error: { message: string; type: string } };
    expect(body.error.type).toBe('token_not_found_in_db');
    expect(body.error.message).toContain('sk-...3456');
    expect(body.error.message).not.toContain('sk-not-a-real-key-123456');
  });

  it('forwards admin paths to the admin Worker, which requires a key', async () => {
    const res = await fetch(`${stack.url}/key/info`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { type: 'auth_error', code: '401' } });
  });
});

describe('config validation when a Worker starts', () => {
  it('turns an environment value that breaks the config into a 500 naming the path, not a stack trace', async () => {
    // The build saw no value (as a Cloudflare build does not see secrets); the Worker's env has a bad one.
    const stack = await startTestStack({ configYaml: CONFIG, runtimeOnlyEnv: { ENV_LIMITED_RPM: 'lots' } });
    try {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
        body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(res.status).toBe(500);
      const body = await res.json() as { error: { message: string } };
      expect(body.error.message).toContain('model_list[1].litellm_params.rpm: expected a whole number');
      expect(body.error.message).not.toMatch(/\bat \w+ \(/);
    } finally {
      await stack.stop();
    }
  });
});
