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

describe('callback_settings when the config is checked', () => {
  const base = { model_list: [], litellm_settings: { callbacks: ['otel', 'langfuse'] } };

  it('reads them at the top level or in litellm_settings (which wins), and warns about callbacks it does not read', () => {
    const top = validateConfig({ ...base, callback_settings: { otel: { message_logging: false } } }, {});
    expect(top.ok && top.config.callback_settings).toEqual({ otel: { message_logging: false } });
    expect(top.warnings).toEqual([]);

    const both = validateConfig({
      ...base,
      callback_settings: { otel: { message_logging: false } },
      litellm_settings: { ...base.litellm_settings, callback_settings: { langfuse: { message_logging: 'False' }, datadog: { message_logging: false } } },
    }, {});
    expect(both.ok && both.config.callback_settings).toEqual({ langfuse: { message_logging: false }, datadog: { message_logging: false } });
    expect(both.warnings).toEqual([
      'callback_settings: litellm_settings.callback_settings replaces it (as in LiteLLM); the top-level one is ignored',
      'litellm_settings.callback_settings.datadog: settings of a callback Tollgate does not read (ignored; read: otel, langfuse)',
    ]);
  });

  it('warns about settings of a callback it does not act on', () => {
    const result = validateConfig({ ...base, callback_settings: { otel: { message_logging: true, attributes: { include_list: ['gen_ai.system'] } } } }, {});
    expect(result.warnings).toEqual(['callback_settings.otel.attributes: not supported by Tollgate yet (ignored)']);
  });
});
