import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { attributesOf, type FakeCollector } from './fakes/otel-collector.ts';
import { seedKey } from './support/keys.ts';
import { LANGFUSE_PUBLIC, LANGFUSE_SECRET, requestOf } from './support/otel-vendors-credentials.ts';
import { LANGFUSE_OTEL_PATH, spanAt, useOtelVendorsStack } from './support/otel-vendors-stack.ts';
import type { TestStack } from './support/stack.ts';

// langfuse_otel, arize_phoenix and arize under turn_off_message_logging: no prompt or answer in their spans, unless a request's header lets one (the vendors' spans: otel-vendors.test.ts).

describe('langfuse_otel, arize_phoenix and arize under turn_off_message_logging', () => {
  let quiet: TestStack;
  let lf: FakeCollector;
  let px: FakeCollector;
  let az: FakeCollector;
  useOtelVendorsStack({
    collectors: { lf: { path: LANGFUSE_OTEL_PATH }, px: {}, az: {} },
    settings: `litellm_settings:
  success_callback: ["langfuse_otel", "arize_phoenix", "arize"]
  turn_off_message_logging: true
callback_settings:
  arize_phoenix: {message_logging: false}
`,
    env: (c) => ({
      LANGFUSE_PUBLIC_KEY: LANGFUSE_PUBLIC, LANGFUSE_SECRET_KEY: LANGFUSE_SECRET, LANGFUSE_HOST: c.lf.url,
      PHOENIX_COLLECTOR_HTTP_ENDPOINT: `${c.px.url}/v1/traces`,
      ARIZE_SPACE_ID: 'space-0001', ARIZE_API_KEY: 'arize-secret-0001', ARIZE_HTTP_ENDPOINT: `${c.az.url}/v1`, ARIZE_PROJECT_NAME: 'tollgate-arize',
    }),
  }, (s) => ({ stack: quiet, collectors: { lf, px, az } } = s));

  it('sends neither the prompt nor the answer, unless a request\'s litellm-disable-message-redaction header lets a callback whose settings allow it', async () => {
    const key = await seedKey(quiet.db.url, { userId: 'user-quiet-vendors' });
    const client = new OpenAI({ baseURL: `${quiet.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a private question' }] }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    for (const c of [lf, px, az]) {
      const span = await spanAt(c, callId);
      const attrs = attributesOf(span);
      expect(attrs['llm.token_count.total']).toBeGreaterThan(0);
      for (const name of Object.keys(attrs)) expect(name).not.toMatch(/^(input\.value|output\.value|llm\.(input|output)_messages|langfuse\.observation\.(input|output))/);
      expect(JSON.stringify(span)).not.toContain('a private question');
    }
    // Arize gets its space and key as headers (never in the body), and files the spans under the project.
    const arize = requestOf(az, await spanAt(az, callId));
    expect(arize.headers).toMatchObject({ space_id: 'space-0001', api_key: 'arize-secret-0001' });
    expect(arize.resource).toMatchObject({ model_id: 'tollgate-arize', 'openinference.project.name': 'tollgate-arize' });
    expect(arize.raw).not.toContain('arize-secret-0001');
    expect(attributesOf(await spanAt(az, callId))).toMatchObject({ 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o' });
    // Without PHOENIX_API_KEY a self-hosted Phoenix gets no credentials header.
    expect(requestOf(px, (await spanAt(px, callId))).headers.authorization).toBeUndefined();

    const shown = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'shown to langfuse' }] }, {
      headers: { 'litellm-disable-message-redaction': 'true' },
    }).withResponse();
    const shownId = shown.response.headers.get('x-litellm-call-id') ?? '';
    expect(attributesOf(await spanAt(lf, shownId))['langfuse.observation.input']).toContain('shown to langfuse');
    // callback_settings.arize_phoenix.message_logging: false holds whatever the request says.
    expect(JSON.stringify(await spanAt(px, shownId))).not.toContain('shown to langfuse');
  });
});
