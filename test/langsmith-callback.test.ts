import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLangsmith, startFakeLangsmith } from './fakes/langsmith.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { callbackModels } from './support/callback-config.ts';

// LiteLLM's `langsmith` callback: each call as a LangSmith run, batched to POST /api/v1/runs/batch ({post: [runs]})
// with x-api-key, by the admin Worker's callback consumer, to a fake LangSmith on loopback (LANGSMITH_BASE_URL
// without /api/v1: added as LiteLLM adds it; the fake answers any other path 404).

const LANGSMITH_API_KEY = 'lsv2_pt_langsmith-secret-0001';
const TENANT = '7f3c9a52-1b2d-4e6f-8a9b-0c1d2e3f4a5b';
const UPSTREAM_KEY = 'sk-upstream-openai-langsmith-0001';

let upstream: FakeUpstream;
let langsmith: FakeLangsmith;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  langsmith = await startFakeLangsmith({ apiKey: LANGSMITH_API_KEY, tenantId: TENANT });
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url)}litellm_settings:
  callbacks: ["langsmith"]
`,
    env: {
      FAKE_OPENAI_KEY: UPSTREAM_KEY,
      LANGSMITH_API_KEY, LANGSMITH_BASE_URL: `${langsmith.url}/`, LANGSMITH_PROJECT: 'tollgate-proj', LANGSMITH_TENANT_ID: TENANT,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await langsmith?.close();
  await upstream?.close();
});
afterEach(() => {
  expect(langsmith.malformed).toEqual([]);
});

type Run = Record<string, any>;
const runsOf = (callId: string): Run[] => langsmith.runs().filter((r) => r.inputs?.id === callId);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function chat(content: string, options: { key?: string; metadata?: Record<string, unknown> } = {}) {
  const key = options.key ?? await seedKey(stack.db.url, { userId: 'user-langsmith' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content }], ...(options.metadata ? { metadata: options.metadata } : {}) };
  const { data, response } = await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming).withResponse();
  return { key, data, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the langsmith callback', () => {
  it('loads without a "not supported" warning', () => {
    expect(stack.warnings.filter((w) => /langsmith/.test(w))).toEqual([]);
  });

  it('sends each call as an llm run to /api/v1/runs/batch with x-api-key and x-tenant-id, the key only as its hash', async () => {
    await seedTeam(stack.db.url, { id: 'team-langsmith', alias: 'ls-team' });
    const key = await seedKey(stack.db.url, { userId: 'user-langsmith-1', alias: 'ls-key', teamId: 'team-langsmith' });
    const { data, callId } = await chat('what is a run?', { key });
    const [run] = await eventually(async () => (runsOf(callId).length ? runsOf(callId) : undefined));
    expect(run).toMatchObject({
      name: 'LLMRun', run_type: 'llm', session_name: 'tollgate-proj', tags: [],
      outputs: { object: 'chat.completion', choices: [{ message: { role: 'assistant', content: data.choices[0]?.message.content } }] },
      inputs: { id: callId, status: 'success', model_group: 'gpt-4o', messages: [{ role: 'user', content: 'what is a run?' }], total_tokens: data.usage?.total_tokens },
      extra: { metadata: { user_api_key_hash: sha256(key), user_api_key_alias: 'ls-key', user_api_key_team_id: 'team-langsmith' } },
    });
    expect(run!.error).toBeUndefined();
    // A root run: its own trace, dotted_order = <start time>Z<id>, times in ISO.
    expect(run!.trace_id).toBe(run!.id);
    expect(run!.dotted_order).toMatch(new RegExp(`^\\d{8}T\\d{12}Z${run!.id}$`));
    expect(Date.parse(run!.end_time)).toBeGreaterThanOrEqual(Date.parse(run!.start_time));
    expect(Math.abs(Date.parse(run!.start_time) / 1000 - run!.inputs.startTime)).toBeLessThan(0.002);

    const batch = langsmith.batches.find((b) => b.runs.includes(run!))!;
    expect(batch.headers).toMatchObject({ 'x-api-key': LANGSMITH_API_KEY, 'x-tenant-id': TENANT, 'content-type': 'application/json' });
    for (const secret of [key, UPSTREAM_KEY, LANGSMITH_API_KEY]) expect(batch.raw).not.toContain(secret);
    await sleep(1500);
    expect(runsOf(callId)).toHaveLength(1);
  });

  it('takes the run name, project, id, trace, parent and session from the request metadata; a client\'s LangSmith key goes nowhere', async () => {
    const ids = { run_id: '0b9f6d2e-3c4a-4b5d-8e6f-7a8b9c0d1e2f', trace_id: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', parent_run_id: '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a' };
    const { callId } = await chat('with metadata', {
      metadata: { run_name: 'nightly-eval', project_name: 'eval-project', session_id: 'sess-9', ...ids, langsmith_api_key: 'lsv2_client-own-key-0002', tags: ['x'] },
    });
    const [run] = await eventually(async () => (runsOf(callId).length ? runsOf(callId) : undefined));
    expect(run).toMatchObject({ id: ids.run_id, name: 'nightly-eval', session_name: 'eval-project', trace_id: ids.trace_id, parent_run_id: ids.parent_run_id, session_id: 'sess-9' });
    expect(run!.dotted_order.endsWith(ids.run_id)).toBe(true);
    expect(run!.extra.metadata.requester_metadata).toMatchObject({ run_name: 'nightly-eval' });
    const batch = langsmith.batches.find((b) => b.runs.includes(run!))!;
    expect(batch.raw).not.toContain('lsv2_client-own-key-0002');
    expect(batch.headers['x-api-key']).toBe(LANGSMITH_API_KEY);
  });

  it('sends a failed call as a run with its error and no outputs', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-langsmith-fail' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const failed = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    const run = await eventually(async () => langsmith.runs().find((r) => r.extra?.metadata?.user_api_key_user_id === 'user-langsmith-fail'));
    expect(run).toMatchObject({ run_type: 'llm', outputs: null, inputs: { status: 'failure', model_group: 'unreachable' } });
    expect(typeof run.error).toBe('string');
    expect(run.error.length).toBeGreaterThan(0);
    expect(run.error).toBe(run.inputs.error_str);
    expect(run.error).not.toContain(UPSTREAM_KEY);
  });

  it('retries a batch LangSmith answered 503 and delivers the run once', async () => {
    const refusedBefore = langsmith.refused.length;
    langsmith.failNext(503, 1);
    const { callId } = await chat('during a langsmith outage');
    await eventually(async () => (langsmith.refused.length > refusedBefore ? true : undefined));
    await eventually(async () => (runsOf(callId).length ? true : undefined), 20_000);
    await sleep(1500);
    expect(runsOf(callId)).toHaveLength(1);
    expect(langsmith.refused.slice(refusedBefore)).toEqual([503]);
  });

  it('takes a 409 (LangSmith has the runs already: a batch it took, answered badly) as delivered, not retried', async () => {
    const refusedBefore = langsmith.refused.length;
    langsmith.failNext(503, 1, { taken: true });
    const { callId } = await chat('a batch taken but answered 503');
    await eventually(async () => (langsmith.refused.length >= refusedBefore + 2 ? true : undefined), 20_000);
    // A retry after the 409 would come 30 s later (callbacks/retry.ts): past it, nothing more was sent.
    await sleep(33_000);
    expect(langsmith.refused.slice(refusedBefore)).toEqual([503, 409]);
    expect(runsOf(callId)).toHaveLength(1);
  }, 80_000);

  it('drops (logs) a run LangSmith refuses with 400, and keeps delivering later ones', async () => {
    const refusedBefore = langsmith.refused.length;
    langsmith.failNext(400, 1);
    const { callId } = await chat('a refused run');
    await eventually(async () => (langsmith.refused.length > refusedBefore ? true : undefined));
    // Past the first retry (2 s): nothing was sent again.
    await sleep(4000);
    expect(langsmith.refused.slice(refusedBefore)).toEqual([400]);
    expect(runsOf(callId)).toEqual([]);
    const later = await chat('after the refusal');
    await eventually(async () => (runsOf(later.callId).length ? true : undefined));
    expect(runsOf(callId)).toEqual([]);
  });
});

// callback_settings.langsmith.message_logging: false keeps the prompt, the answer and the client's metadata out of
// the payload; the run still takes its name, project and place in the client's trace from that metadata.
describe('the langsmith callback with callback_settings.langsmith.message_logging: false', () => {
  let quietLangsmith: FakeLangsmith;
  let quiet: TestStack;
  beforeAll(async () => {
    quietLangsmith = await startFakeLangsmith({ apiKey: LANGSMITH_API_KEY });
    quiet = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: os.environ/FAKE_OPENAI_KEY}
litellm_settings:
  callbacks: ["langsmith"]
callback_settings:
  langsmith:
    message_logging: false
`,
      env: { FAKE_OPENAI_KEY: UPSTREAM_KEY, LANGSMITH_API_KEY, LANGSMITH_BASE_URL: `${quietLangsmith.url}/api/v1` },
    });
  });
  afterAll(async () => {
    await quiet?.stop();
    await quietLangsmith?.close();
  });

  it('names the run and places it in the client\'s trace from the request metadata, with no prompt, answer or other metadata', async () => {
    const ids = { run_id: '3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b', trace_id: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', parent_run_id: '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a' };
    const dotted = `20251127T160000000000Z${ids.trace_id}.20251127T160000500000Z${ids.parent_run_id}.20251127T160001000000Z${ids.run_id}`;
    const key = await seedKey(quiet.db.url, { userId: 'user-langsmith-quiet' });
    const client = new OpenAI({ baseURL: `${quiet.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({
      model: 'gpt-4o', messages: [{ role: 'user', content: 'private words here' }],
      metadata: { run_name: 'quiet-eval', project_name: 'quiet-project', session_id: 'sess-q', dotted_order: dotted, ...ids, note: 'private note' },
    } as OpenAI.ChatCompletionCreateParamsNonStreaming).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const run = await eventually(async () => quietLangsmith.runs().find((r) => r.inputs?.id === callId));
    expect(run).toMatchObject({ id: ids.run_id, name: 'quiet-eval', session_name: 'quiet-project', trace_id: ids.trace_id, parent_run_id: ids.parent_run_id, session_id: 'sess-q', dotted_order: dotted });
    const raw = quietLangsmith.batches.find((b) => b.runs.includes(run))!.raw;
    for (const secret of ['private words here', 'private note', key, UPSTREAM_KEY]) expect(raw).not.toContain(secret);
    expect(quietLangsmith.malformed).toEqual([]);
  });
});
