import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeIntake, startFakeIntake } from './fakes/log-intake.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { useLoggerStack } from './support/logger-stack.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

// LiteLLM's generic loggers: `generic_api` (a JSON array of StandardLoggingPayloads to a webhook) and
// `datadog` (the payloads as Datadog logs, gzip-compressed, to the Logs intake), posted by the admin Worker's
// callback consumer to a fake intake on loopback.

const DD_API_KEY = 'dd-api-key-secret-0001';
const UPSTREAM_KEY = 'sk-upstream-openai-logging-0001';

let upstream: FakeUpstream;
let intake: FakeIntake;
let stack: TestStack;

useLoggerStack({
  destination: () => startFakeIntake({ ddApiKey: DD_API_KEY }),
  settings: `litellm_settings:
  callbacks: ["generic_api"]
  # Datadog for successes only: a failed call sends it nothing.
  success_callback: ["datadog"]
# Datadog never gets the prompt or the answer; the webhook does.
callback_settings:
  datadog: {message_logging: false}
`,
  env: (fake) => ({
    FAKE_OPENAI_KEY: UPSTREAM_KEY,
    GENERIC_LOGGER_ENDPOINT: `${fake.url}/generic/logs`,
    GENERIC_LOGGER_HEADERS: 'Authorization=Bearer generic-secret-0001, x-team = blue',
    DD_API_KEY, DD_SITE: 'us5.datadoghq.com', DD_BASE_URL: fake.url,
    DD_SOURCE: 'tollgate-test', DD_SERVICE: 'gateway-test', DD_ENV: 'ci', DD_VERSION: '1.2.3', HOSTNAME: 'pod-host-1', POD_NAME: 'tollgate-0',
  }),
}, (s) => ({ upstream, destination: intake, stack } = s));
afterEach(() => {
  expect(intake.malformed).toEqual([]);
});

type Payload = Record<string, any>;
const genericPayloads = (id: string): Payload[] => intake.generic.flatMap((r) => r.items).filter((p) => p.id === id);
const datadogLogs = (id: string): Payload[] => intake.datadog.flatMap((r) => r.items).filter((l) => (JSON.parse(l.message as string) as Payload).id === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function chat(model: string, content: string, options: { key?: string; headers?: Record<string, string> } = {}) {
  const key = options.key ?? await seedKey(stack.db.url, { userId: 'user-logging' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content }] }, { headers: options.headers }).withResponse();
  return { key, data, callId: response.headers.get('x-litellm-call-id') ?? '', cost: Number(response.headers.get('x-litellm-response-cost')) };
}

describe('the generic_api and datadog callbacks', () => {
  it('load without a "not supported" warning', () => {
    expect(stack.warnings.filter((w) => /generic_api|datadog/.test(w))).toEqual([]);
  });

  it('send one StandardLoggingPayload per call to the webhook and one Datadog log with it, the key only as its hash', async () => {
    await seedTeam(stack.db.url, { id: 'team-logging', alias: 'logging-team' });
    const key = await seedKey(stack.db.url, { userId: 'user-logging-1', alias: 'logging-key', teamId: 'team-logging' });
    const { data, callId, cost } = await chat('gpt-4o', 'what is a log line?', { key });
    const [payload] = await eventually(async () => (genericPayloads(callId).length ? genericPayloads(callId) : undefined));
    const [ddLog] = await eventually(async () => (datadogLogs(callId).length ? datadogLogs(callId) : undefined));
    expect(payload).toMatchObject({
      id: callId, call_type: 'acompletion', status: 'success', stream: false, model_group: 'gpt-4o', model: 'gpt-4o',
      custom_llm_provider: 'openai', prompt_tokens: data.usage?.prompt_tokens, completion_tokens: data.usage?.completion_tokens,
      total_tokens: data.usage?.total_tokens, cache_hit: false, error_str: null, error_information: null,
      metadata: { user_api_key_hash: sha256(key), user_api_key_alias: 'logging-key', user_api_key_user_id: 'user-logging-1', user_api_key_team_id: 'team-logging' },
      messages: [{ role: 'user', content: 'what is a log line?' }],
      response: { choices: [{ message: { role: 'assistant', content: data.choices[0]?.message.content } }] },
    });
    expect(payload!.response_cost).toBeCloseTo(cost, 12);
    expect(payload!.endTime).toBeGreaterThanOrEqual(payload!.startTime);
    expect(payload!.startTime).toBeGreaterThan(1.7e9);
    expect(payload!.startTime).toBeLessThan(1e11);
    expect(payload!.api_base).toBe(`${upstream.url}/v1/chat/completions`);

    const request = intake.generic.find((r) => r.items.some((p) => p.id === callId))!;
    expect(request.path).toBe('/generic/logs');
    expect(request.headers).toMatchObject({ authorization: 'Bearer generic-secret-0001', 'x-team': 'blue' });
    const ddRequest = intake.datadog.find((r) => r.items.includes(ddLog!))!;
    expect(ddRequest.headers['dd-api-key']).toBe(DD_API_KEY);
    expect(ddLog).toMatchObject({ ddsource: 'tollgate-test', hostname: 'pod-host-1', service: 'gateway-test', status: 'info' });
    expect((ddLog!.ddtags as string).split(',')).toEqual(expect.arrayContaining(['env:ci', 'service:gateway-test', 'version:1.2.3', 'HOSTNAME:pod-host-1', 'POD_NAME:tollgate-0', 'team:logging-team']));
    // callback_settings.datadog.message_logging: false: the same payload, its prompt and answer redacted as LiteLLM redacts them.
    const ddPayload = JSON.parse(ddLog!.message as string) as Payload;
    expect(ddPayload).toEqual({
      ...payload, messages: [{ role: 'user', content: 'redacted-by-litellm' }],
      response: { ...payload!.response, choices: [{ index: 0, message: { role: 'assistant', content: 'redacted-by-litellm' } }] },
      model_parameters: ddPayload.model_parameters,
    });
    expect(ddRequest.raw).not.toContain('what is a log line?');
    expect(ddRequest.raw).not.toContain(data.choices[0]?.message.content ?? '');
    // Neither the client's key nor the provider's, nor the loggers' own secrets, is in anything sent.
    for (const raw of [request.raw, ddRequest.raw]) {
      for (const secret of [key, UPSTREAM_KEY, DD_API_KEY, 'generic-secret-0001']) expect(raw).not.toContain(secret);
    }
    // Exactly one of each, even after the consumer's next rounds.
    await sleep(1500);
    expect(genericPayloads(callId)).toHaveLength(1);
    expect(datadogLogs(callId)).toHaveLength(1);
  });

  it('send a failed call as a failure payload with error_information, to the webhook only (datadog is success_callback)', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-logging-fail' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const failed = await client.chat.completions.create({ model: 'unreachable', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    const payload = await eventually(async () => intake.generic.flatMap((r) => r.items as Payload[]).find((p) => p.metadata?.user_api_key_user_id === 'user-logging-fail'));
    expect(payload).toMatchObject({
      status: 'failure', model_group: 'unreachable', response: null,
      error_information: { error_code: String((failed as InstanceType<typeof OpenAI.APIError>).status), llm_provider: 'openai', traceback: '' },
    });
    expect(payload.error_information.error_class).toMatch(/Error|Timeout/);
    expect(payload.error_str).toBe(payload.error_information.error_message);
    expect(payload.error_str.length).toBeGreaterThan(0);
    // A success after it goes to Datadog, the failure never.
    const later = await chat('gpt-4o', 'after the failure', { key });
    await eventually(async () => (datadogLogs(later.callId).length ? true : undefined));
    expect(datadogLogs(payload.id as string)).toEqual([]);
    expect(intake.datadog.flatMap((r) => r.items).some((l) => l.status === 'error')).toBe(false);
  });

  const refusedHolding = (kind: 'generic' | 'datadog', status: number, callId: string) => intake.refused.filter((r) => r.kind === kind && r.status === status
    && r.items.some((i) => (kind === 'datadog' ? (JSON.parse(i.message as string) as Payload).id : i.id) === callId));

  for (const status of [500, 401]) {
    it(`retry a payload Datadog answered ${status} (${status === 401 ? 'a key it does not take is a setting to fix: nothing is dropped' : 'down'}) and deliver it once, without sending the webhook's twice`, async () => {
      intake.failNext('datadog', status, 1);
      const { callId } = await chat('gpt-4o', `during a datadog ${status}`);
      // The refused request held this test's call; the payload came again after the consumer's backoff.
      await eventually(async () => (refusedHolding('datadog', status, callId).length ? true : undefined));
      await eventually(async () => (datadogLogs(callId).length ? true : undefined), 20_000);
      await sleep(1000);
      expect(refusedHolding('datadog', status, callId)).toHaveLength(1);
      expect(datadogLogs(callId)).toHaveLength(1);
      expect(genericPayloads(callId)).toHaveLength(1);
    });
  }

  it('lose only the payload the webhook refuses with a 400, not the other calls\' payloads sent with it (the split inside one message: loggers.test.ts)', async () => {
    intake.rejectItems('generic', (item) => JSON.stringify(item.messages ?? '').includes('poisoned log line'));
    try {
      const key = await seedKey(stack.db.url, { userId: 'user-logging-batch' });
      const calls = await Promise.all(['one', 'two', 'poisoned log line', 'four', 'five'].map((content) => chat('gpt-4o', content, { key })));
      const [bad] = calls.splice(2, 1);
      await eventually(async () => (calls.every((c) => genericPayloads(c.callId).length) ? true : undefined), 20_000);
      await sleep(1500);
      for (const c of calls) expect(genericPayloads(c.callId)).toHaveLength(1);
      expect(genericPayloads(bad!.callId)).toEqual([]);
      expect(refusedHolding('generic', 400, bad!.callId).length).toBeGreaterThan(0);
    } finally {
      intake.rejectItems('generic', undefined);
    }
  });

  it('retry a payload the webhook answered 503, and drop (log) one Datadog refuses with 400', async () => {
    intake.failNext('generic', 503, 1);
    intake.failNext('datadog', 400, 1);
    const { callId } = await chat('gpt-4o', 'a refused log');
    await eventually(async () => (genericPayloads(callId).length ? true : undefined), 20_000);
    // The first retry comes after 2 s: well past it, Datadog still has nothing, and the webhook exactly one.
    await sleep(4000);
    expect(intake.refused.slice(-2).map((r) => `${r.kind}:${r.status}`).sort()).toEqual(['datadog:400', 'generic:503']);
    expect(datadogLogs(callId)).toEqual([]);
    expect(genericPayloads(callId)).toHaveLength(1);
  });
});

describe('the generic loggers under turn_off_message_logging and redact_user_api_key_info', () => {
  let quiet: TestStack;
  beforeAll(async () => {
    quiet = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: upstream-key}
litellm_settings:
  success_callback: ["custom_callback_api"]
  turn_off_message_logging: true
  redact_user_api_key_info: true
`,
      env: { GENERIC_LOGGER_ENDPOINT: `${intake.url}/generic/quiet` },
    });
  });
  afterAll(async () => {
    await quiet?.stop();
  });

  it('sends neither the messages, the answer nor the key\'s details (the older name custom_callback_api works too)', async () => {
    const key = await seedKey(quiet.db.url, { userId: 'user-quiet-logging', alias: 'quiet-logging-key' });
    const client = new OpenAI({ baseURL: `${quiet.url}/v1`, apiKey: key, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a private question' }] }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const payload = await eventually(async () => intake.generic.filter((r) => r.path === '/generic/quiet').flatMap((r) => r.items as Payload[]).find((p) => p.id === callId));
    expect(payload.messages).toEqual([{ role: 'user', content: 'redacted-by-litellm' }]);
    expect(payload.response.choices[0].message.content).toBe('redacted-by-litellm');
    expect(payload.total_tokens).toBe(data.usage?.total_tokens);
    expect(Object.keys(payload.metadata).filter((k) => k.startsWith('user_api_key'))).toEqual([]);
    const raw = JSON.stringify(payload);
    for (const text of ['a private question', data.choices[0]?.message.content ?? '', 'quiet-logging-key', sha256(key)]) expect(raw).not.toContain(text);
  });

  it('sends the messages and the answer of a request with the litellm-disable-message-redaction header, as LiteLLM does', async () => {
    const key = await seedKey(quiet.db.url, { userId: 'user-quiet-optout' });
    const client = new OpenAI({ baseURL: `${quiet.url}/v1`, apiKey: key, maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a question I want logged' }] }, { headers: { 'litellm-disable-message-redaction': 'true' } }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const payload = await eventually(async () => intake.generic.filter((r) => r.path === '/generic/quiet').flatMap((r) => r.items as Payload[]).find((p) => p.id === callId));
    expect(payload.messages).toEqual([{ role: 'user', content: 'a question I want logged' }]);
    expect(payload.response.choices[0].message.content).toBe(data.choices[0]?.message.content);
  });
});
