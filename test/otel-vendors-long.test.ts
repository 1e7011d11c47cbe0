import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { attributesOf, type FakeCollector } from './fakes/otel-collector.ts';
import { seedKey } from './support/keys.ts';
import { LANGFUSE_OTEL_PATH, spanAt, useOtelVendorsStack } from './support/otel-vendors-stack.ts';
import type { TestStack } from './support/stack.ts';

// A long conversation through langfuse_otel and arize_phoenix: each message cut on its own, 60 of them would not fit
// in a queue message and the span would lose prompt and answer alike; the input messages share one budget instead,
// newest first, and the answer survives.

let langfuse: FakeCollector;
let phoenix: FakeCollector;
let stack: TestStack;

useOtelVendorsStack({
  collectors: { langfuse: { path: LANGFUSE_OTEL_PATH }, phoenix: {} },
  settings: `litellm_settings:
  callbacks: ["langfuse_otel", "arize_phoenix"]
`,
  env: (c) => ({
    LANGFUSE_PUBLIC_KEY: 'pk-lf-long', LANGFUSE_SECRET_KEY: 'sk-lf-long', LANGFUSE_OTEL_HOST: c.langfuse.url,
    PHOENIX_COLLECTOR_ENDPOINT: c.phoenix.url,
  }),
}, (s) => ({ stack, collectors: { langfuse, phoenix } } = s));

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
