// config.yaml's guardrails named in /v1/messages' `metadata.guardrails`, and Presidio's `output_parse_pii`
// (the request masked with numbered tokens, the answer unmasked with them), end to end: the official
// Anthropic and openai clients through workerd, a fake OpenAI on loopback (echoing the prompt), and the
// fake guardrail services.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { FakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { useGuardrailsStack } from './support/guardrails-stack.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let llm: FakeUpstream;
let guard: FakeUpstream;
let stack: TestStack;
const lakera = { down: false };

useGuardrailsStack({ lakera, config: ({ llm, guard, presidio }) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${llm.url}/v1", api_key: sk-llm-upstream-0001}
general_settings:
  store_prompts_in_spend_logs: true
litellm_settings:
  cache: true
  cache_params: {type: local}
guardrails:
  - guardrail_name: lakera-pre
    litellm_params: {guardrail: lakera_v2, mode: pre_call, api_base: "${guard.url}/lakera", api_key: lk-secret-0002}
  - guardrail_name: pii-mask
    litellm_params: {guardrail: presidio, mode: pre_call, ${presidio}, pii_entities_config: {PERSON: MASK, CREDIT_CARD: BLOCK}}
  - guardrail_name: pii-parse
    litellm_params: {guardrail: presidio, mode: pre_call, output_parse_pii: true, ${presidio}, pii_entities_config: {PERSON: MASK}}
` }, (s) => ({ llm, guard, stack } = s));

const anthropic = () => new Anthropic({ baseURL: stack.url, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
const openai = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
const ask = (content: string, guardrails: string[]) =>
  anthropic().messages.create({ model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content }], metadata: { user_id: 'u-1', guardrails } as never }).withResponse();
/** The text the fake provider was sent, as its chat messages. */
const sent = (i = 0) => JSON.stringify((llm.requests[i]?.body as { messages: unknown }).messages);

describe('/v1/messages metadata.guardrails', () => {
  it('runs the guardrails the request\'s metadata names, as on chat: masked before the provider, named in the header', async () => {
    const { data, response } = await ask('My name is John Smith, hello', ['pii-mask']);
    expect(sent()).toContain('My name is <PERSON>, hello');
    expect(sent()).not.toContain('John Smith');
    expect((llm.requests[0]?.body as Record<string, unknown>).metadata).toBeUndefined();
    expect(data.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('<PERSON>') });
    expect(response.headers.get('x-litellm-applied-guardrails')).toBe('pii-mask');
  });

  it('refuses in Anthropic\'s error shape what a metadata-named guardrail blocks, calling nothing, and fails closed when its service is down', async () => {
    const blocked = await ask('Card 4111 1111 1111 1111', ['pii-mask']).catch((e: unknown) => e) as InstanceType<typeof Anthropic.APIError>;
    expect(blocked).toBeInstanceOf(Anthropic.BadRequestError);
    expect(blocked.error).toMatchObject({ type: 'error', error: { message: expect.stringContaining('Blocked entity detected: CREDIT_CARD by Guardrail: pii-mask') } });
    lakera.down = true;
    const down = await ask('hello', ['lakera-pre']).catch((e: unknown) => e) as InstanceType<typeof Anthropic.APIError>;
    expect(down.status).toBe(502);
    expect(down.message).toMatch(/Guardrail lakera-pre \(lakera_v2\) failed to respond/);
    expect(down.message).not.toContain('lk-secret');
    // Without naming it, lakera-pre (not default_on) does not run.
    const { response } = await ask('hello', []);
    expect(response.headers.get('x-litellm-applied-guardrails')).toBeNull();
    expect(llm.requests).toHaveLength(1);
  });
});

describe('presidio output_parse_pii', () => {
  it('sends the provider numbered tokens and gives the client its answer with them put back, on chat and /v1/messages', async () => {
    const { data, response } = await openai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Greet John Smith and John Smith' }], guardrails: ['pii-parse'] } as never).withResponse();
    expect(sent()).toMatch(/Greet (<PERSON_1_[0-9a-f]{8}>) and \1/);
    expect(sent()).not.toContain('John Smith');
    expect(data.choices[0]?.message.content).toContain('John Smith and John Smith');
    expect(data.choices[0]?.message.content).not.toContain('<PERSON_1');
    expect(response.headers.get('x-litellm-applied-guardrails')).toBe('pii-parse');
    // The logs keep what the provider saw and said: the tokens, not the name.
    const row = await eventually(() => spendLogRow(stack.db.url, response.headers.get('x-litellm-call-id') ?? ''));
    expect(JSON.stringify([row.messages, row.response])).toMatch(/<PERSON_1_[0-9a-f]{8}>/);
    expect(JSON.stringify([row.messages, row.response])).not.toContain('John Smith');

    const answer = await ask('Hi, I am John Smith', ['pii-parse']);
    expect(sent(1)).toMatch(/<PERSON_1_[0-9a-f]{8}>/);
    expect(answer.data.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('John Smith') });
  });

  it('unmasks a streamed answer once it is whole; a call it finds nothing to tokenize in is cached as any', async () => {
    const stream = await openai().chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Say hi to John Smith' }], guardrails: ['pii-parse'] } as never) as unknown as AsyncIterable<{ choices: { delta: { content?: string | null } }[] }>;
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toContain('John Smith');
    expect(text).not.toContain('<PERSON');
    expect(sent()).toMatch(/<PERSON_1_[0-9a-f]{8}>/);
    // Without tokens, the same request twice is answered once (the cache is on). (A tokenized call cannot share
    // a cached answer: its tokens carry a per-call suffix, proved in guardrails-presidio-review.test.ts.)
    const plain = () => openai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hi to nobody' }], guardrails: ['pii-parse'] } as never);
    await plain();
    await plain();
    expect(llm.requests).toHaveLength(2);
  });
});
