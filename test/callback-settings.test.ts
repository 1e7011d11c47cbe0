import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { type FakeLangfuse, startFakeLangfuse } from './fakes/langfuse.ts';
import { attributesOf, type FakeCollector, startFakeCollector } from './fakes/otel-collector.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// callback_settings: LiteLLM's per-callback settings. `otel: {message_logging: false}` keeps prompts and answers out
// of the spans alone (Langfuse still gets them), whatever the request's headers say; `langfuse` the same for Langfuse.

let upstream: FakeUpstream;
let collector: FakeCollector;
let langfuse: FakeLangfuse;
let stack: TestStack;
let client: OpenAI;

beforeAll(async () => {
  [upstream, collector, langfuse] = await Promise.all([
    startFakeUpstream(), startFakeCollector(), startFakeLangfuse({ publicKey: 'pk-lf-cbs', secretKey: 'sk-lf-cbs-secret' }),
  ]);
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: sk-upstream-cbs-0001}
litellm_settings:
  callbacks: ["otel", "langfuse"]
callback_settings:
  otel:
    message_logging: false
`,
    env: { OTEL_EXPORTER: 'otlp_http', OTEL_ENDPOINT: collector.url, LANGFUSE_PUBLIC_KEY: langfuse.publicKey, LANGFUSE_SECRET_KEY: langfuse.secretKey, LANGFUSE_HOST: langfuse.url },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([collector?.close(), langfuse?.close(), upstream?.close()]);
});

describe('callback_settings.otel.message_logging: false', () => {
  it('keeps the prompt and answer out of the span, even when the request asks for them, and in Langfuse', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'private words here' }] }, {
      headers: { 'litellm-disable-message-redaction': 'true' },
    }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const span = await eventually(async () => collector.spans().find((s) => attributesOf(s)['gen_ai.response.id'] === callId));
    const attrs = attributesOf(span);
    expect(attrs['gen_ai.usage.total_tokens']).toBeGreaterThan(0);
    expect(attrs['gen_ai.input.messages']).toBeUndefined();
    expect(attrs['gen_ai.output.messages']).toBeUndefined();
    expect(JSON.stringify(span)).not.toContain('private words here');

    const generation = await langfuse.waitFor((f) => f.generations().find((g) => g.id === callId || JSON.stringify(g.input ?? '').includes('private words here')));
    expect(JSON.stringify(generation.input)).toContain('private words here');
    expect(JSON.stringify(generation.output)).toContain(data.choices[0]?.message.content ?? '');
  });
});

describe('callback_settings.langfuse.message_logging: false', () => {
  let quiet: TestStack;
  const SECRET = 'zebra-marmalade-7';
  beforeAll(async () => {
    quiet = await startTestStack({
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: sk-upstream-cbs-0002}
  - model_name: cohere-rerank
    litellm_params: {model: cohere/rerank-v3.5, api_base: "${upstream.url}/v2", api_key: co-upstream-cbs-0003}
router_settings:
  num_retries: 0
litellm_settings:
  callbacks: ["langfuse"]
callback_settings:
  langfuse:
    message_logging: false
`,
      env: { LANGFUSE_PUBLIC_KEY: langfuse.publicKey, LANGFUSE_SECRET_KEY: langfuse.secretKey, LANGFUSE_HOST: langfuse.url },
    });
  });
  afterAll(async () => {
    await quiet?.stop();
  });
  const post = (path: string, body: Record<string, unknown>) => fetch(`${quiet.url}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  /** The call's trace and generation once both arrived, as Langfuse stored them. */
  const eventsOf = async (res: Response) => {
    const callId = res.headers.get('x-litellm-call-id') ?? '';
    expect(callId).toBeTruthy();
    return langfuse.waitFor((f) => {
      const mine = f.events.filter((e) => e.body.id === callId || (e.type === 'generation-create' && e.body.traceId === callId));
      return mine.length >= 2 ? mine : undefined;
    });
  };

  it('keeps the prompt out of a failed call\'s status message and output, though the provider quoted it', async () => {
    upstream.enqueue({ kind: 'error', status: 400, body: { error: { message: `Your prompt "${SECRET}" breaks the rules`, type: 'invalid_request_error' } } });
    const res = await post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: SECRET }] });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(SECRET);
    const events = await eventsOf(res);
    const generation = events.find((e) => e.type === 'generation-create')!.body;
    expect(generation).toMatchObject({ level: 'ERROR', statusMessage: expect.stringMatching(/ - redacted-by-litellm$/) });
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it('keeps prompt-bearing parameters (a rerank\'s query and documents, a predicted output) out of the model parameters', async () => {
    upstream.enqueue({ kind: 'json', body: { id: 'rr-1', results: [{ index: 0, relevance_score: 0.5 }], meta: { billed_units: { search_units: 1 } } } });
    const rerank = await post('/v2/rerank', { model: 'cohere-rerank', query: `${SECRET} query`, documents: [`${SECRET} doc`], top_n: 1 });
    expect(rerank.status).toBe(200);
    const ranked = await eventsOf(rerank);
    expect(ranked.find((e) => e.type === 'generation-create')!.body.modelParameters).toEqual({ top_n: 1 });
    expect(JSON.stringify(ranked)).not.toContain(SECRET);

    const chat = await post('/v1/chat/completions', {
      model: 'gpt-4o', messages: [{ role: 'user', content: 'Rewrite it' }], prediction: { type: 'content', content: `${SECRET} draft` }, stop: [SECRET], temperature: 0.2,
    });
    expect(chat.status).toBe(200);
    const predicted = await eventsOf(chat);
    expect(predicted.find((e) => e.type === 'generation-create')!.body.modelParameters).toEqual({ temperature: 0.2 });
    expect(JSON.stringify(predicted)).not.toContain(SECRET);
  });
});

describe('callback_settings when the config is checked', () => {
  const base = { model_list: [], litellm_settings: { callbacks: ['otel', 'langfuse'] } };

  it('reads them at the top level or in litellm_settings (which wins), and warns about callbacks it does not read', () => {
    const top = validateConfig({ ...base, callback_settings: { otel: { message_logging: false } } }, {});
    expect(top.ok && top.config.callback_settings).toEqual({ otel: { message_logging: false } });
    expect(top.warnings).toEqual([]);

    const both = validateConfig({
      ...base,
      callback_settings: { otel: { message_logging: false } },
      litellm_settings: { ...base.litellm_settings, callback_settings: { langfuse: { message_logging: 'False' }, mlflow: { message_logging: false }, custom_callback_api: { message_logging: false } } },
    }, {});
    expect(both.ok && both.config.callback_settings).toEqual({ langfuse: { message_logging: false }, mlflow: { message_logging: false }, custom_callback_api: { message_logging: false } });
    // A standard logger's older name (custom_callback_api for generic_api) is read too: no warning for it.
    expect(both.warnings).toEqual([
      'callback_settings: litellm_settings.callback_settings replaces it (as in LiteLLM); the top-level one is ignored',
      expect.stringMatching(/^litellm_settings\.callback_settings\.mlflow: settings of a callback Tollgate does not read \(ignored; read: otel, langfuse, .*generic_api, custom_callback_api, datadog/),
    ]);
  });

  it('warns about settings of a callback it does not act on', () => {
    const result = validateConfig({ ...base, callback_settings: { otel: { message_logging: true, attributes: { include_list: ['gen_ai.system'] } } } }, {});
    expect(result.warnings).toEqual(['callback_settings.otel.attributes: not supported by Tollgate yet (ignored)']);
  });
});
