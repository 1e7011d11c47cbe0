import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeBraintrust, startFakeBraintrust } from './fakes/braintrust.ts';
import { type FakeSqs, startFakeSqs } from './fakes/sqs.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, sha256 } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';
import { callbackModels } from './support/callback-config.ts';

// LiteLLM's `braintrust` and `aws_sqs` callbacks through the real stack: the admin Worker's callback consumer
// sends each call to a fake Braintrust API (project logs inserts, projects registered by name) and to a fake SQS
// queue (query protocol, SigV4 checked against the test credentials), both on loopback. The SQS logger has
// callback_settings.aws_sqs.message_logging: false, so its messages carry no prompt or answer.

const BRAINTRUST_API_KEY = 'bt-test-api-key-0123456789abcdef';
const CREDS = { accessKeyId: 'AKIASQSE2ETEST0001', secretAccessKey: 'sqs-e2e-secret-access-key-0001', sessionToken: 'sqs-e2e-session-token-0001', region: 'us-west-2' };
const UPSTREAM_KEY = 'sk-upstream-openai-bt-sqs-0001';

let upstream: FakeUpstream;
let braintrust: FakeBraintrust;
let sqs: FakeSqs;
let stack: TestStack;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  braintrust = await startFakeBraintrust({ apiKey: BRAINTRUST_API_KEY });
  sqs = await startFakeSqs(CREDS);
  stack = await startTestStack({
    configYaml: `
${callbackModels(upstream.url)}litellm_settings:
  callbacks: ["braintrust", "aws_sqs"]
  aws_sqs_callback_params:
    sqs_queue_url: "${sqs.queueUrl}"
    sqs_region_name: ${CREDS.region}
    sqs_aws_access_key_id: os.environ/SQS_TEST_ACCESS_KEY_ID
    sqs_aws_secret_access_key: os.environ/SQS_TEST_SECRET_ACCESS_KEY
    sqs_aws_session_token: os.environ/SQS_TEST_SESSION_TOKEN
callback_settings:
  aws_sqs:
    message_logging: false
`,
    env: {
      FAKE_OPENAI_KEY: UPSTREAM_KEY, BRAINTRUST_API_KEY, BRAINTRUST_API_BASE: `${braintrust.url}/v1`,
      SQS_TEST_ACCESS_KEY_ID: CREDS.accessKeyId, SQS_TEST_SECRET_ACCESS_KEY: CREDS.secretAccessKey, SQS_TEST_SESSION_TOKEN: CREDS.sessionToken,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await sqs?.close();
  await braintrust?.close();
  await upstream?.close();
});

type Json = Record<string, any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const eventsOf = (id: string) => braintrust.inserts.flatMap((i) => i.events.filter((e) => e.id === id).map((event) => ({ projectId: i.projectId, event })));
const messagesOf = (id: string) => sqs.messages.filter((m) => (JSON.parse(m.body) as Json).id === id).map((m) => JSON.parse(m.body) as Json);

async function chat(content: string, metadata?: Record<string, string>, key?: string) {
  const apiKey = key ?? await seedKey(stack.db.url, { userId: 'user-bt' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...(metadata ? { metadata } : {}) } as never).withResponse();
  return { key: apiKey, data: data as OpenAI.Chat.Completions.ChatCompletion, callId: response.headers.get('x-litellm-call-id') ?? '' };
}

describe('the braintrust and aws_sqs callbacks', () => {
  it('load without a warning (the SQS credentials stay os.environ/ names for the admin Worker)', () => {
    expect(stack.warnings.filter((w) => /braintrust|sqs/i.test(w))).toEqual([]);
  });

  it('log a call to Braintrust\'s default project "litellm" as LiteLLM\'s event, and to SQS as its payload without the prompt', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-bt-1', alias: 'bt key' });
    const { data, callId } = await chat('what is a braintrust?', undefined, key);
    const found = await eventually(async () => (eventsOf(callId).length ? eventsOf(callId) : undefined));
    const { projectId, event } = found[0]!;
    expect(projectId).toBe(braintrust.projects.get('litellm'));
    expect(braintrust.projectCalls.filter((c) => c.name === 'litellm')[0]).toEqual({ path: '/v1/project', name: 'litellm' });
    expect(event).toMatchObject({
      id: callId,
      input: [{ role: 'user', content: 'what is a braintrust?' }],
      output: [{ index: 0, message: { role: 'assistant', content: data.choices[0]!.message.content } }],
      metadata: { model: 'gpt-4o', user_api_key_hash: sha256(key), user_api_key_alias: 'bt key' },
      tags: [],
      span_attributes: { name: 'Chat Completion', type: 'llm' },
      metrics: { prompt_tokens: data.usage!.prompt_tokens, completion_tokens: data.usage!.completion_tokens, total_tokens: data.usage!.total_tokens },
    });
    expect(event.metrics.total_cost).toBeGreaterThan(0);
    expect(event.metadata.litellm_response_cost).toBe(event.metrics.total_cost);
    expect(event.metrics.end).toBeGreaterThanOrEqual(event.metrics.start);
    const insert = braintrust.inserts.find((i) => i.events.some((e) => e.id === callId))!;
    expect(insert.headers.authorization).toBe(`Bearer ${BRAINTRUST_API_KEY}`);

    const [message] = await eventually(async () => (messagesOf(callId).length ? messagesOf(callId) : undefined));
    expect(message).toMatchObject({ id: callId, status: 'success', model_group: 'gpt-4o', total_tokens: data.usage!.total_tokens, response_cost: event.metrics.total_cost, metadata: { user_api_key_hash: sha256(key) } });
    expect(JSON.stringify(message)).not.toContain('what is a braintrust?');
    expect(JSON.stringify(message)).not.toContain(data.choices[0]!.message.content!);
    const sent = sqs.messages.find((m) => (JSON.parse(m.body) as Json).id === callId)!;
    expect(sent.action).toBe('SendMessageBatch');
    expect(sent.headers['x-amz-security-token']).toBe(CREDS.sessionToken);
    expect(sqs.rejected).toEqual([]);
    // No credential travels anywhere but its own header: not in a body, not the AWS secret at all.
    const everything = JSON.stringify([braintrust.inserts.map((i) => i.events), sqs.messages]);
    for (const secret of [BRAINTRUST_API_KEY, CREDS.secretAccessKey, key, UPSTREAM_KEY]) expect(everything).not.toContain(secret);
    expect(JSON.stringify(sqs.messages.map((m) => m.headers))).not.toContain(CREDS.secretAccessKey);
  });

  it('sends to the project the call names: project_name registered once, project_id as given; span_name names the span', async () => {
    const first = await chat('to my project', { project_name: 'my-bt-project', span_name: 'support-bot' });
    const second = await chat('to my project again', { project_name: 'my-bt-project' });
    const [a] = await eventually(async () => (eventsOf(first.callId).length ? eventsOf(first.callId) : undefined));
    const [b] = await eventually(async () => (eventsOf(second.callId).length ? eventsOf(second.callId) : undefined));
    expect(a!.projectId).toBe(braintrust.projects.get('my-bt-project'));
    expect(b!.projectId).toBe(a!.projectId);
    expect(a!.event.span_attributes).toEqual({ name: 'support-bot', type: 'llm' });
    expect(a!.event.metadata).toMatchObject({ project_name: 'my-bt-project' });
    expect(braintrust.projectCalls.filter((c) => c.name === 'my-bt-project')).toEqual([{ path: '/v1/project/register', name: 'my-bt-project' }]);
    const byId = await chat('to a project by id', { project_id: a!.projectId });
    const [c] = await eventually(async () => (eventsOf(byId.callId).length ? eventsOf(byId.callId) : undefined));
    expect(c!.projectId).toBe(a!.projectId);
  });

  it('drops only the payloads of a project_id Braintrust does not know (or no URL may hold) or a project_name it refuses: the call after them in the batch arrives', async () => {
    const bogus = '00000000-0000-0000-0000-000000000000';
    const malformedBefore = braintrust.malformed.length;
    braintrust.refuseProject('someone-elses-project', 403);
    // In one queue batch (1 s), bad projects among good calls: their refusal must not hold back the default
    // project's inserts. A good call comes first and one last, so wherever a batch boundary falls (batches are at
    // least 1 s apart, the five calls take far less), no batch holds only refused payloads (such a batch is retried).
    const key = await seedKey(stack.db.url, { userId: 'user-bt-bogus', alias: 'bogus key' });
    await chat('to the default project, first', undefined, key);
    await chat('to a project nobody has', { project_id: bogus }, key);
    const refusedName = await chat('to a project name Braintrust refuses', { project_name: 'someone-elses-project' }, key);
    await chat('to a project above the API', { project_id: '..' }, key);
    // A caller's metadata cannot overwrite the gateway's attribution of the call.
    const good = await chat('to the default project', { user_api_key_hash: 'forged-hash', user_api_key_alias: 'forged', user_api_key_team_id: 'forged-team' }, key);
    const [event] = await eventually(async () => (eventsOf(good.callId).length ? eventsOf(good.callId) : undefined));
    expect(event!.projectId).toBe(braintrust.projects.get('litellm'));
    expect(event!.event.metadata).toMatchObject({ user_api_key_hash: sha256(key), user_api_key_alias: 'bogus key', user_api_key_team_id: null });
    // Past the first retry (2 s): the unknown project was asked once, never retried; ".." never became a request.
    await sleep(4000);
    expect(braintrust.unknownProjects.filter((id) => id === bogus)).toEqual([bogus]);
    expect(braintrust.projectCalls.filter((c) => c.name === 'someone-elses-project')).toEqual([{ path: '/v1/project/register', name: 'someone-elses-project' }]);
    expect(eventsOf(refusedName.callId)).toEqual([]);
    braintrust.refuseProject('someone-elses-project', undefined);
    expect(braintrust.malformed.slice(malformedBefore)).toEqual([]);
    expect(eventsOf(good.callId)).toHaveLength(1);
  });

  it('logs a failed call to SQS, not to Braintrust (LiteLLM\'s Braintrust logger logs successes only)', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-bt-fail' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    expect(await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.APIError);
    const message = await eventually(async () => sqs.messages.map((m) => JSON.parse(m.body) as Json).find((p) => p.metadata?.user_api_key_user_id === 'user-bt-fail'));
    expect(message).toMatchObject({ status: 'failure', model_group: 'unreachable' });
    await sleep(1500);
    expect(braintrust.rows().has(message.id)).toBe(false);
  });

  it('sends again, once, what Braintrust and SQS answered 503; the log line never quotes the key Braintrust echoes', async () => {
    braintrust.failNext(503, 1, { echo: true });
    sqs.failNext(503, 1);
    // The Workers' log lines reach this process's console (the runtime's output is piped to it).
    const lines: string[] = [];
    const spies = (['error', 'warn', 'log', 'info'] as const).map((level) => vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.join(' '))));
    let callId: string;
    try {
      callId = (await chat('during an outage')).callId;
      await eventually(async () => (eventsOf(callId).length && messagesOf(callId).length ? true : undefined), 20_000);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const logged = lines.join('');
    expect(logged).toMatch(/braintrust callback: posting 1 payloads to \S+ failed, retrying: HTTP 503: .*refused by the test: Bearer \[redacted\]/);
    expect(logged).not.toContain(BRAINTRUST_API_KEY);
    await sleep(1500);
    expect(eventsOf(callId)).toHaveLength(1);
    expect(messagesOf(callId)).toHaveLength(1);
    expect(braintrust.refused.at(-1)).toBe(503);
    expect(sqs.refused.at(-1)).toBe('ServiceUnavailable');
  });

  it('drops (logs) only the payload Braintrust refuses with 400 and SQS refuses as such, and delivers the next call', async () => {
    const refusedBefore = braintrust.refused.length;
    braintrust.failNext(400, 1);
    // The SQS messages carry no prompt (message_logging: false): the key's alias marks the one refused.
    sqs.refuseEntriesWith('refused-by-sqs');
    const { callId } = await chat('a refused payload', undefined, await seedKey(stack.db.url, { userId: 'user-bt-refused', alias: 'refused-by-sqs' }));
    await eventually(async () => (braintrust.refused.length > refusedBefore && sqs.entryFailures.length ? true : undefined));
    // Past the first retry (2 s): nothing was sent again, by either.
    await sleep(4000);
    sqs.refuseEntriesWith(undefined);
    expect(braintrust.refused.slice(refusedBefore)).toEqual([400]);
    expect(sqs.entryFailures).toEqual(['InvalidMessageContents']);
    expect(eventsOf(callId)).toEqual([]);
    expect(messagesOf(callId)).toEqual([]);
    const later = await chat('after the refusal');
    await eventually(async () => (eventsOf(later.callId).length && messagesOf(later.callId).length ? true : undefined));
  });

  it('tests both through /health/services, and never quotes the Braintrust key Braintrust echoes', async () => {
    const ask = (service: string) => fetch(`${stack.url}/health/services?service=${service}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    for (const service of ['braintrust', 'aws_sqs']) {
      const res = await ask(service);
      expect(res.status, service).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'success' });
    }
    braintrust.failNext(500, 1, { echo: true });
    const res = await ask('braintrust');
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(text).toContain('Braintrust did not take the test payload');
    expect(text).not.toContain(BRAINTRUST_API_KEY);
  });
});
