import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attributesOf, type FakeCollector, startFakeCollector } from './fakes/otel-collector.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// A long conversation through langfuse_otel and arize_phoenix: each message cut on its own, 60 of them would not fit
// in a queue message and the span would lose prompt and answer alike; the input messages share one budget instead,
// newest first, and the answer survives.

let upstream: FakeUpstream;
let langfuse: FakeCollector;
let phoenix: FakeCollector;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  langfuse = await startFakeCollector({ path: '/api/public/otel/v1/traces' });
  phoenix = await startFakeCollector();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: upstream-key}
litellm_settings:
  callbacks: ["langfuse_otel", "arize_phoenix"]
`,
    env: {
      LANGFUSE_PUBLIC_KEY: 'pk-lf-long', LANGFUSE_SECRET_KEY: 'sk-lf-long', LANGFUSE_OTEL_HOST: langfuse.url,
      PHOENIX_COLLECTOR_ENDPOINT: phoenix.url,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([langfuse, phoenix].map((c) => c?.close()));
  await upstream?.close();
});
afterEach(() => {
  for (const c of [langfuse, phoenix]) expect(c.malformed).toEqual([]);
});

const spanAt = (c: FakeCollector, callId: string) => eventually(async () => c.spans().find((s) => attributesOf(s)['llm.response.id'] === callId));

describe('langfuse_otel and arize_phoenix, a long conversation', () => {
  it('keeps the answer and the newest messages of a long conversation (60 messages of 3,000 characters), the earlier ones counted', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-vendors-long' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const messages = Array.from({ length: 60 }, (_, i) => ({ role: i % 2 ? 'assistant' as const : 'user' as const, content: `turn ${i}: ${'lorem ipsum é '.repeat(214)}` }));
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const answer = data.choices[0]?.message.content;
    expect(answer).toBeTruthy();

    const px = attributesOf(await spanAt(phoenix, callId));
    expect(px).toMatchObject({ 'output.value': answer, 'llm.output_messages.0.message.content': answer, 'input.value': messages[59]!.content });
    expect(px['llm.input_messages.0.message.content']).toMatch(/^\(\d+ earlier messages left out\)$/);
    const contents = Object.keys(px).filter((k) => /^llm\.input_messages\.\d+\.message\.content$/.test(k));
    expect(px[`llm.input_messages.${contents.length - 1}.message.content`]).toBe(messages[59]!.content);

    const lf = attributesOf(await spanAt(langfuse, callId));
    expect(JSON.parse(lf['langfuse.observation.output'] as string)).toEqual({ role: 'assistant', content: answer });
    expect((JSON.parse(lf['langfuse.observation.input'] as string) as { messages: unknown[] }).messages.at(-1)).toEqual(messages[59]);
  });

});
