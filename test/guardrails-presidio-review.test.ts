// Presidio guardrails against the analyzer's real offsets and limits, end to end: the official openai client
// through workerd, a fake OpenAI/Cohere on loopback (echoing chat prompts), and the fake Presidio, which counts
// offsets in code points and reports overlapping findings as the real one does. Also rerank's guarding and the
// moderations/OCR refusal for a key that guardrails hold.
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { OUT_OF_RANGE } from './fakes/guardrail-services.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { seedKey } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { useGuardrailsStack } from './support/guardrails-stack.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

let llm: FakeUpstream;
let guard: FakeUpstream;
let stack: TestStack;

useGuardrailsStack({ config: ({ llm, presidio }) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${llm.url}/v1", api_key: sk-llm-upstream-0001}
  - model_name: embed
    litellm_params: {model: openai/text-embedding-3-small, api_base: "${llm.url}/v1", api_key: sk-llm-upstream-0001}
  - model_name: transcribe
    litellm_params: {model: openai/whisper-1, api_base: "${llm.url}/v1", api_key: sk-llm-upstream-0001}
  - model_name: cohere-rerank
    litellm_params: {model: cohere/rerank-v3.5, api_base: "${llm.url}/v2", api_key: co-upstream-0002}
  - model_name: moderation
    litellm_params: {model: openai/omni-moderation-latest, api_base: "${llm.url}/v1", api_key: sk-llm-upstream-0001}
guardrails:
  - guardrail_name: pii-mask
    litellm_params: {guardrail: presidio, mode: pre_call, ${presidio}, pii_entities_config: {PERSON: MASK}}
  - guardrail_name: pii-parse
    litellm_params: {guardrail: presidio, mode: pre_call, output_parse_pii: true, ${presidio}, pii_entities_config: {PERSON: MASK}}
  - guardrail_name: pii-out
    litellm_params: {guardrail: presidio, mode: post_call, ${presidio}, pii_entities_config: {PERSON: MASK}}
` }, (s) => ({ llm, guard, stack } = s));

const openai = (key = TEST_MASTER_KEY) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
const chat = (content: string, guardrails: string[]) => openai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }], guardrails } as never);
/** What the provider was sent, as text. */
const sent = (i = 0) => JSON.stringify(llm.requests[i]?.body);
const analyzerCalls = () => guard.requests.filter((r) => r.path === '/analyzer/analyze').length;
const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

describe('presidio offsets', () => {
  it('masks the name after an emoji (code-point offsets), on both the anonymizer and the output_parse_pii path', async () => {
    await chat('👋🏽 hi 😀 I am John Smith, ok', ['pii-mask']);
    expect(sent()).toContain('👋🏽 hi 😀 I am <PERSON>, ok');
    expect(sent()).not.toContain('Smith');
    const answer = await chat('😀😀 I am John Smith, ok', ['pii-parse']);
    expect(sent(1)).toMatch(/😀😀 I am <PERSON_1_[0-9a-f]{8}>, ok/);
    expect(sent(1)).not.toContain('Smith');
    expect(answer.choices[0]?.message.content).toContain('I am John Smith, ok');
  });

  it('masks overlapping findings as one span, leaving no part of the longer entity', async () => {
    await chat('😀 Meet John Smith Jones today', ['pii-mask']);
    expect(sent()).toContain('Meet <PERSON> today');
    expect(sent()).not.toMatch(/Jones|Smith/);
    await chat('😀 Meet John Smith Jones today', ['pii-parse']);
    expect(sent(1)).toMatch(/Meet <PERSON_1_[0-9a-f]{8}> today/);
    expect(sent(1)).not.toMatch(/Jones|Smith/);
  });

  it('fails the call closed (502) when the analyzer reports a finding outside the text, calling no provider', async () => {
    const err = await refusal(chat(`John Smith ${OUT_OF_RANGE}`, ['pii-mask']));
    expect(err.status).toBe(502);
    expect(err.error).toMatchObject({ type: 'guardrail_failed_to_respond', message: expect.stringContaining('outside the text') });
    expect(llm.requests).toHaveLength(0);
  });

  it('gives each call its own output_parse_pii tokens, which never unmask another call\'s', async () => {
    await chat('I am John Smith', ['pii-parse']);
    await chat('I am John Smith', ['pii-parse']);
    const tokens = [sent(0), sent(1)].map((s) => /<PERSON_1_[0-9a-f]{8}>/.exec(s)?.[0]);
    expect(tokens[0]).toBeDefined();
    expect(tokens[0]).not.toBe(tokens[1]);
    // A token of an earlier call, in this call's text, is not swapped for this call's name.
    const answer = await chat(`Earlier: ${tokens[0]!} now: John Smith`, ['pii-parse']);
    expect(answer.choices[0]?.message.content).toContain(`Earlier: ${tokens[0]!} now: John Smith`);
  });
});

describe('presidio outbound calls', () => {
  it('analyzes many texts in one analyzer call, and refuses past the bound before any is made', async () => {
    // Emoji before and in the texts: the joined text's code-point offsets map back to each text.
    const input = Array.from({ length: 1500 }, (_, i) => (i === 700 ? '👋🏽 I am John Smith 😀' : `😀 text ${i}`));
    await openai().embeddings.create({ model: 'embed', input, guardrails: ['pii-mask'] } as never).catch(() => undefined);
    expect(analyzerCalls()).toBe(1);
    expect(guard.requests.filter((r) => r.path === '/anonymizer/anonymize')).toHaveLength(1);
    const got = (llm.requests[0]?.body as { input: string[] }).input;
    expect([got.length, got[700], got[699], got[701]]).toEqual([1500, '👋🏽 I am <PERSON> 😀', '😀 text 699', '😀 text 701']);

    guard.reset();
    llm.reset();
    const big = Array.from({ length: 9 }, () => 'a'.repeat(100_000));
    const err = await refusal(openai().embeddings.create({ model: 'embed', input: big, guardrails: ['pii-mask'] } as never));
    expect(err.status).toBe(400);
    expect(err.message).toContain('Too much text for guardrail pii-mask to check');
    expect([analyzerCalls(), llm.requests.length]).toEqual([0, 0]);
  });

  it('masks a transcription\'s words from its masked segments, with one analyzer call', async () => {
    llm.enqueue({ kind: 'json', body: {
      task: 'transcribe', language: 'english', duration: 3, text: 'Hello there. I am John Smith.',
      segments: [{ id: 0, start: 0, end: 1.2, text: 'Hello there.' }, { id: 1, start: 1.2, end: 3, text: 'I am John Smith.' }],
      words: [['Hello', 0], ['there', 0.6], ['I', 1.3], ['am', 1.5], ['John', 1.9], ['Smith', 2.4]].map(([word, start]) => ({ word, start, end: (start as number) + 0.4 })),
    } });
    const data = await openai().audio.transcriptions.create({
      model: 'transcribe', file: await toFile(Buffer.from([1, 2, 3]), 'a.mp3', { type: 'audio/mpeg' }), response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'], guardrails: ['pii-out'],
    } as never) as unknown as { text: string; segments: { text: string }[]; words: { word: string }[] };
    expect(data.text).toBe('Hello there. I am <PERSON>.');
    expect(data.segments[1]?.text).toBe('I am <PERSON>.');
    expect(data.words.map((w) => w.word)).toEqual(['Hello', 'there', 'I', 'am', '<PERSON>.', '']);
    expect(analyzerCalls()).toBe(1);
  });
});

describe('rerank and the routes no guardrail reads', () => {
  it('masks a rerank\'s query and documents before Cohere gets them', async () => {
    llm.enqueue({ kind: 'json', body: { id: 'rr-1', results: [{ index: 0, relevance_score: 0.9 }] } });
    const res = await fetch(`${stack.url}/v2/rerank`, {
      method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cohere-rerank', query: 'Who is John Smith?', documents: ['John Smith lives here', { text: 'Smith Jones too' }, 'nothing'], guardrails: ['pii-mask'] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-litellm-applied-guardrails')).toBe('pii-mask');
    expect(llm.requests[0]?.body).toMatchObject({ query: 'Who is <PERSON>?', documents: ['<PERSON> lives here', { text: '<PERSON> too' }, 'nothing'] });
    expect(sent()).not.toContain('Smith');
  });

  it('refuses moderations to a key that guardrails hold (403), calling nothing; others still pass', async () => {
    const key = await seedKey(stack.db.url);
    await query(stack.db.url, `UPDATE "LiteLLM_VerificationToken" SET metadata = '{"guardrails":["pii-mask"]}' WHERE token = encode(sha256($1::bytea), 'hex')`, [key]);
    const err = await refusal(openai(key).moderations.create({ model: 'moderation', input: 'I am John Smith' }));
    expect(err.status).toBe(403);
    expect(err.error).toMatchObject({ type: 'guardrail_violation', message: expect.stringContaining('the moderations API') });
    expect(llm.requests).toHaveLength(0);
    llm.enqueue({ kind: 'json', body: { id: 'modr-1', model: 'omni-moderation-latest', results: [{ flagged: false, categories: {}, category_scores: {} }] } });
    await openai().moderations.create({ model: 'moderation', input: 'hello' });
    expect(llm.requests).toHaveLength(1);
  });
});
