import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLangfuse, startFakeLangfuse } from './fakes/langfuse.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { seedKey, seedTeam, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// gpt-4o's prices in the bundled table: $2.50 / 1M input, $10 / 1M output tokens.
const GPT4O_IN = 2.5e-6;
const GPT4O_OUT = 1e-5;
const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

let upstream: FakeUpstream;
let langfuse: FakeLangfuse;
/** A second project, reached only with the credentials in one key's metadata. */
let teamLangfuse: FakeLangfuse;
let stack: TestStack;
let client: OpenAI;

const config = (upstreamUrl: string) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstreamUrl}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
  - model_name: unreachable
    litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/FAKE_OPENAI_KEY}
litellm_settings:
  success_callback: ["langfuse"]
  failure_callback: ["langfuse"]
  langfuse_default_tags: ["user_api_key_alias", "user_api_key_team_alias", "cache_hit"]
general_settings:
  # Until the gateway keeps answers for callbacks on its own (see the report), this keeps the answer text.
  store_prompts_in_spend_logs: true
`;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  langfuse = await startFakeLangfuse({ publicKey: 'pk-lf-default', secretKey: 'sk-lf-default-secret' });
  teamLangfuse = await startFakeLangfuse({ publicKey: 'pk-lf-team', secretKey: 'sk-lf-team-secret' });
  stack = await startTestStack({
    configYaml: config(upstream.url),
    env: {
      FAKE_OPENAI_KEY: 'sk-upstream-openai-0001',
      LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
      LANGFUSE_SECRET_KEY: langfuse.secretKey,
      LANGFUSE_HOST: langfuse.url,
    },
    // Seconds Langfuse gets per ingestion request (10 by default), and a secret a key's metadata names.
    runtimeOnlyEnv: { LANGFUSE_TIMEOUT: '2', TEAM_LANGFUSE_SECRET: teamLangfuse.secretKey },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await upstream?.close();
  await langfuse?.close();
  await teamLangfuse?.close();
});
afterEach(() => {
  // Every batch must have been well formed and every event valid against Langfuse's schema.
  expect(langfuse.invalid).toEqual([]);
  expect(teamLangfuse.invalid).toEqual([]);
  expect(langfuse.requests.filter((r) => r.status !== 0 && r.status !== 207 && r.status !== 500)).toEqual([]);
});

const generation = (fake: FakeLangfuse, id: string) => fake.waitFor((f) => f.generations().find((g) => g.id === id));
const trace = (fake: FakeLangfuse, id: string) => fake.waitFor((f) => f.traces().find((t) => t.id === id));

async function keyWithTeam(options: { alias: string; team: string; teamAlias: string; metadata?: unknown }): Promise<string> {
  await seedTeam(stack.db.url, { id: options.team, alias: options.teamAlias });
  const key = await seedKey(stack.db.url, { alias: options.alias, teamId: options.team, userId: 'user-7' });
  if (options.metadata) {
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET metadata = $1 WHERE token = $2', [JSON.stringify(options.metadata), sha256(key)]);
  }
  return key;
}

describe('a successful call', () => {
  it('becomes one trace and one generation with LiteLLM\'s fields', async () => {
    const key = await keyWithTeam({ alias: 'lf-key', team: 'team-lf', teamAlias: 'LF Team' });
    const keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await keyClient.chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello there gateway' }], temperature: 0.2, user: 'end-user-1',
      metadata: { session_id: 'sess-1', feature: 'checkout' },
    }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const cost = 6 * GPT4O_IN + 4 * GPT4O_OUT;

    expect(await trace(langfuse, callId)).toEqual({
      id: callId,
      timestamp: ISO,
      name: 'litellm-acompletion',
      userId: 'end-user-1',
      sessionId: 'sess-1',
      input: { messages: [{ role: 'user', content: 'Hello there gateway' }] },
      output: { role: 'assistant', content: 'echo: Hello there gateway' },
      tags: ['user_api_key_alias:lf-key', 'user_api_key_team_alias:LF Team', 'cache_hit:False'],
    });
    const gen = await generation(langfuse, callId);
    expect(gen).toEqual({
      id: callId,
      traceId: callId,
      name: 'litellm:lf-key',
      startTime: ISO,
      endTime: ISO,
      completionStartTime: ISO,
      model: 'gpt-4o',
      modelParameters: { temperature: 0.2, user: 'end-user-1' },
      input: { messages: [{ role: 'user', content: 'Hello there gateway' }] },
      output: { role: 'assistant', content: 'echo: Hello there gateway' },
      usage: { input: 6, output: 4, total: 10, unit: 'TOKENS', totalCost: expect.closeTo(cost, 12) },
      usageDetails: { input: 6, output: 4, total: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      level: 'DEFAULT',
      metadata: {
        user_api_key: sha256(key),
        user_api_key_hash: sha256(key),
        user_api_key_alias: 'lf-key',
        user_api_key_user_id: 'user-7',
        user_api_key_team_id: 'team-lf',
        user_api_key_team_alias: 'LF Team',
        user_api_key_org_id: null,
        user_api_key_end_user_id: 'end-user-1',
        model_group: 'gpt-4o',
        api_base: `${upstream.url}/v1/chat/completions`,
        litellm_response_cost: expect.closeTo(cost, 12),
        cache_hit: false,
        hidden_params: {
          model_id: response.headers.get('x-litellm-model-id'),
          api_base: `${upstream.url}/v1/chat/completions`,
          response_cost: expect.closeTo(cost, 12),
          custom_llm_provider: 'openai',
          litellm_model_name: 'gpt-4o',
          cache_key: null,
          litellm_overhead_time_ms: expect.any(Number),
        },
        requester_metadata: { session_id: 'sess-1', feature: 'checkout' },
      },
    });
    // Latency: the generation spans the call; a plain answer's first token is its end (as in LiteLLM).
    const start = Date.parse(gen.startTime ?? '');
    const end = Date.parse(gen.endTime ?? '');
    expect(end).toBeGreaterThanOrEqual(start);
    expect(gen.completionStartTime).toBe(gen.endTime);
    // One ingestion request per flush, with the default project's credentials.
    expect(langfuse.requests.every((r) => r.authorized)).toBe(true);
    expect(teamLangfuse.events.find((e) => e.body.id === callId)).toBeUndefined();
  });

  it('streamed: usage from the stream and the time of the first token', async () => {
    upstream.enqueue({ kind: 'echo', delayMs: 30, intervalMs: 40 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'one two three' }] }).withResponse();
    const callId = stream.response.headers.get('x-litellm-call-id') ?? '';
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: one two three');

    const gen = await generation(langfuse, callId);
    expect(gen).toMatchObject({
      name: 'litellm-acompletion',
      modelParameters: { stream: true },
      output: { role: 'assistant', content: 'echo: one two three' },
      usage: { input: 6, output: 4, total: 10, unit: 'TOKENS', totalCost: expect.closeTo(6 * GPT4O_IN + 4 * GPT4O_OUT, 12) },
      level: 'DEFAULT',
    });
    const start = Date.parse(gen.startTime ?? '');
    const first = Date.parse(gen.completionStartTime ?? '');
    const end = Date.parse(gen.endTime ?? '');
    expect(first).toBeGreaterThan(start);
    // Three more chunks 40 ms apart follow the first.
    expect(end - first).toBeGreaterThanOrEqual(80);
    expect((await trace(langfuse, callId)).output).toEqual({ role: 'assistant', content: 'echo: one two three' });
  });
});

describe('a failed call', () => {
  it('is a generation at level ERROR with the error as its status message', async () => {
    const err = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'anyone there?' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    const callId = (err as InstanceType<typeof OpenAI.InternalServerError>).headers.get('x-litellm-call-id') ?? '';
    const gen = await generation(langfuse, callId);
    expect(gen.level).toBe('ERROR');
    expect(gen.statusMessage).toMatch(/^litellm\.APIConnectionError: OpenAIException - /);
    expect(gen.output).toBe(gen.statusMessage);
    expect(gen.input).toEqual({ messages: [{ role: 'user', content: 'anyone there?' }] });
    expect(gen.usage).toBeUndefined();
    expect(gen.completionStartTime).toBeUndefined();
    const t = await trace(langfuse, callId);
    expect(t).toMatchObject({ name: 'litellm-acompletion', input: { messages: [{ role: 'user', content: 'anyone there?' }] } });
    expect(t.output).toBeUndefined();
  });
});

describe('redaction', () => {
  it('mask_input and mask_output replace the prompt and the answer', async () => {
    const callId = await chatCallId({ metadata: { mask_input: true } });
    const gen = await generation(langfuse, callId);
    expect(gen.input).toBe('redacted-by-litellm');
    expect(gen.output).toEqual({ role: 'assistant', content: 'echo: secret words here' });
    expect((await trace(langfuse, callId)).input).toBe('redacted-by-litellm');

    const masked = await chatCallId({ metadata: { mask_output: true } });
    const gen2 = await generation(langfuse, masked);
    expect(gen2.input).toEqual({ messages: [{ role: 'user', content: 'secret words here' }] });
    expect(gen2.output).toBe('redacted-by-litellm');
    expect((await trace(langfuse, masked)).output).toBe('redacted-by-litellm');
  });

  it('message logging turned off (here by the request header) logs LiteLLM\'s redacted messages', async () => {
    const callId = await chatCallId({}, { 'x-litellm-enable-message-redaction': 'true' });
    const gen = await generation(langfuse, callId);
    expect(gen.input).toEqual({ messages: [{ role: 'user', content: 'redacted-by-litellm' }] });
    expect(gen.output).toEqual({ role: 'assistant', content: 'redacted-by-litellm' });
    expect(JSON.stringify(langfuse.events.filter((e) => e.body.id === callId))).not.toContain('secret words');
  });
});

describe('request metadata', () => {
  it('names the trace and generation, and sets session, user, tags and version', async () => {
    const callId = await chatCallId({
      tags: ['checkout', 'beta'],
      metadata: {
        trace_id: 'trace-abc', trace_name: 'checkout-flow', generation_name: 'summarise', generation_id: 'gen-abc',
        session_id: 'sess-9', trace_user_id: 'alice', trace_metadata: { app: 'shop' }, version: 'v3', tags: ['meta-tag'],
      },
    });
    const gen = await generation(langfuse, 'gen-abc');
    expect(gen).toMatchObject({ id: 'gen-abc', traceId: 'trace-abc', name: 'summarise', version: 'v3' });
    expect((gen.metadata as { requester_metadata: unknown }).requester_metadata).toMatchObject({ trace_id: 'trace-abc', generation_name: 'summarise' });
    const t = await trace(langfuse, 'trace-abc');
    expect(t).toMatchObject({ name: 'checkout-flow', sessionId: 'sess-9', userId: 'alice', metadata: { app: 'shop' }, version: 'v3' });
    expect(t.tags).toEqual(['checkout', 'beta', 'meta-tag', 'cache_hit:False']);
    expect(langfuse.generations().find((g) => g.id === callId)).toBeUndefined();
  });

  it('existing_trace_id adds a generation to a trace without touching it, or updates only update_trace_keys', async () => {
    const first = await chatCallId({ metadata: { existing_trace_id: 'trace-existing-1' } });
    const gen = await generation(langfuse, first);
    expect(gen.traceId).toBe('trace-existing-1');
    expect(langfuse.traces().find((t) => t.id === first || t.id === 'trace-existing-1')).toBeUndefined();

    const second = await chatCallId({ metadata: { existing_trace_id: 'trace-existing-1', update_trace_keys: ['output', 'trace_user_id'], trace_user_id: 'bob' } });
    expect((await generation(langfuse, second)).traceId).toBe('trace-existing-1');
    const update = await trace(langfuse, 'trace-existing-1');
    expect(update).toEqual({ id: 'trace-existing-1', output: { role: 'assistant', content: 'echo: secret words here' }, userId: 'bob' });
  });

  it('reads langfuse_* headers as metadata, over the body\'s', async () => {
    const callId = await chatCallId({ metadata: { trace_name: 'from-body' } }, { langfuse_trace_name: 'from-header', langfuse_generation_name: 'hdr-gen' });
    expect((await trace(langfuse, callId)).name).toBe('from-header');
    expect((await generation(langfuse, callId)).name).toBe('hdr-gen');
  });
});

describe('credentials in key metadata', () => {
  it('send that key\'s calls to its own Langfuse project, and only there', async () => {
    const key = await keyWithTeam({
      alias: 'team-b-key', team: 'team-b', teamAlias: 'Team B',
      metadata: {
        logging: [{
          callback_name: 'langfuse', callback_type: 'success_and_failure',
          callback_vars: { langfuse_public_key: 'pk-lf-team', langfuse_secret_key: 'os.environ/TEAM_LANGFUSE_SECRET', langfuse_host: teamLangfuse.url },
        }],
      },
    });
    const keyClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await keyClient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'for team b' }] }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const gen = await generation(teamLangfuse, callId);
    expect(gen).toMatchObject({ name: 'litellm:team-b-key', output: { role: 'assistant', content: 'echo: for team b' } });
    expect(teamLangfuse.requests.every((r) => r.authorized)).toBe(true);
    // The queue message named the key, not the secret; the default project never saw the call.
    await new Promise((r) => setTimeout(r, 500));
    expect(langfuse.events.find((e) => e.body.id === callId)).toBeUndefined();
  });
});

describe('Langfuse down', () => {
  it('never affects requests; the events land once it is back', async () => {
    langfuse.setMode({ kind: 'fail', status: 500 });
    const seen = langfuse.requests.length;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      ids.push(await chatCallId({ metadata: { run: `down-${i}` } }));
      expect(Date.now() - started).toBeLessThan(2000);
    }
    // The consumer tried and was refused...
    await langfuse.waitFor((f) => (f.requests.slice(seen).some((r) => r.status === 500) ? true : undefined));
    expect(langfuse.generations().filter((g) => ids.includes(g.id))).toEqual([]);
    // ...and sends them again once Langfuse answers.
    langfuse.setMode({ kind: 'ok' });
    for (const id of ids) await generation(langfuse, id);
  });

  it('when Langfuse hangs, requests go on; the consumer gives up after LANGFUSE_TIMEOUT and tries again', async () => {
    langfuse.setMode({ kind: 'hang' });
    const seen = langfuse.requests.length;
    const callId = await chatCallId({ metadata: { run: 'hang' } });
    // Requests are served while the consumer waits on Langfuse.
    expect(await chatCallId({ metadata: { run: 'during-hang' } })).toMatch(/^[0-9a-f-]{36}$/);
    // Timed out after 2 s (LANGFUSE_TIMEOUT), retried 2 s later: a second request while it still hangs.
    await langfuse.waitFor((f) => (f.requests.length >= seen + 2 ? true : undefined));
    langfuse.setMode({ kind: 'ok' });
    await generation(langfuse, callId);
  });
});

describe('Langfuse\'s per-event answers (207)', () => {
  it('an event Langfuse rejects as invalid is logged, not retried; the rest of the batch lands', async () => {
    langfuse.failEvent((e) => e.type === 'trace-create' && e.body.name === 'reject-me', 400);
    const callId = await chatCallId({ metadata: { trace_name: 'reject-me' } });
    await generation(langfuse, callId);
    // A retry would come 2 s after the batch, plus up to 1 s of batching.
    await new Promise((r) => setTimeout(r, 4000));
    const sent = langfuse.requests.filter((r) => JSON.stringify(r.body).includes(callId));
    expect(sent).toHaveLength(1);
    expect(langfuse.traces().find((t) => t.id === callId)).toBeUndefined();
  });

  it('an event Langfuse fails with a 5xx is sent again', async () => {
    langfuse.failEvent((e) => e.type === 'generation-create' && e.body.name === 'fail-once', 500);
    const callId = await chatCallId({ metadata: { generation_name: 'fail-once' } });
    await generation(langfuse, callId);
    expect(langfuse.requests.filter((r) => JSON.stringify(r.body).includes(callId)).length).toBeGreaterThanOrEqual(2);
    // Sent again whole: Langfuse upserts the trace by its id.
    expect(langfuse.traces().filter((t) => t.id === callId).length).toBeGreaterThanOrEqual(1);
  });
});

/** A chat call through the gateway with the openai client ("secret words here"), returning its call id. */
async function chatCallId(extra: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'secret words here' }], ...extra };
  const { response } = await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming, { headers }).withResponse();
  return response.headers.get('x-litellm-call-id') ?? '';
}
