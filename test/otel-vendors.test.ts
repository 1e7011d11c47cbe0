import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { responseObject, responsesUsage } from './fakes/openai-responses.ts';
import { attributesOf, type FakeCollector } from './fakes/otel-collector.ts';
import type { FakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, spendLogRow } from './support/keys.ts';
import { LANGFUSE_PUBLIC, LANGFUSE_SECRET, PHOENIX_KEY, requestOf } from './support/otel-vendors-credentials.ts';
import { byCall, LANGFUSE_OTEL_PATH, spanAt, useOtelVendorsStack, VENDORS_UPSTREAM_KEY } from './support/otel-vendors-stack.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's OpenTelemetry-based vendor callbacks, `langfuse_otel` and `arize_phoenix`, beside `otel`: each call a span
// at each vendor's collector (fakes on loopback speaking OTLP/HTTP JSON, Langfuse's at its /api/public/otel path),
// with the vendor's attributes and credentials, each delivered on its own (under turn_off_message_logging: otel-vendors-redaction.test.ts).

let otel: FakeCollector;
let langfuse: FakeCollector;
let phoenix: FakeCollector;
let stack: TestStack;
let upstream: FakeUpstream;

useOtelVendorsStack({
  collectors: { otel: {}, langfuse: { path: LANGFUSE_OTEL_PATH }, phoenix: {} },
  settings: `litellm_settings:
  callbacks: ["otel", "langfuse_otel", "arize_phoenix"]
`,
  env: (c) => ({
    OTEL_ENDPOINT: c.otel.url,
    LANGFUSE_PUBLIC_KEY: LANGFUSE_PUBLIC,
    LANGFUSE_SECRET_KEY: LANGFUSE_SECRET,
    LANGFUSE_OTEL_HOST: c.langfuse.url,
    LANGFUSE_TRACING_ENVIRONMENT: 'staging',
    // A base URL: /v1/traces is added, as LiteLLM does.
    PHOENIX_COLLECTOR_ENDPOINT: c.phoenix.url,
    PHOENIX_API_KEY: PHOENIX_KEY,
    PHOENIX_PROJECT_NAME: 'tollgate-phoenix',
  }),
}, (s) => ({ stack, upstream, collectors: { otel, langfuse, phoenix } } = s));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('langfuse_otel and arize_phoenix', () => {
  it('send a chat call to Langfuse with Basic auth and its langfuse attributes, and to Phoenix with OpenInference attributes and its key', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-vendors', alias: 'vendors-key' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({
      model: 'gpt-4o', user: 'customer-7', temperature: 0.25,
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'what is OpenInference?' }],
      // @ts-expect-error LiteLLM's request metadata
      metadata: { trace_name: 'vendor-trace', session_id: 'session-42', tags: ['blue'], generation_name: 'gen-1' },
    }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const answer = data.choices[0]?.message.content;
    const row = await eventually(() => spendLogRow(stack.db.url, callId));

    const lf = await spanAt(langfuse, callId);
    const lfAttrs = attributesOf(lf);
    expect(requestOf(langfuse, lf).headers.authorization).toBe(`Basic ${Buffer.from(`${LANGFUSE_PUBLIC}:${LANGFUSE_SECRET}`).toString('base64')}`);
    expect(lfAttrs).toMatchObject({
      'langfuse.observation.type': 'generation', 'langfuse.observation.model.name': 'gpt-4o', 'llm.model_name': 'gpt-4o',
      'user.id': 'customer-7', 'session.id': 'session-42', 'langfuse.trace.name': 'vendor-trace', 'langfuse.generation.name': 'gen-1',
      'langfuse.trace.tags': ['blue'], 'langfuse.environment': 'staging', 'openinference.span.kind': 'LLM',
    });
    expect(JSON.parse(lfAttrs['langfuse.observation.usage_details'] as string)).toEqual({ input: row.prompt_tokens, output: row.completion_tokens, total: row.total_tokens });
    expect(JSON.parse(lfAttrs['langfuse.observation.cost_details'] as string).total).toBeCloseTo(Number(response.headers.get('x-litellm-response-cost')), 12);
    expect(JSON.parse(lfAttrs['langfuse.observation.input'] as string).messages[1]).toEqual({ role: 'user', content: 'what is OpenInference?' });
    expect(JSON.parse(lfAttrs['langfuse.observation.output'] as string)).toEqual({ role: 'assistant', content: answer });
    expect(JSON.parse(lfAttrs.metadata as string)).toMatchObject({ user_api_key_alias: 'vendors-key', user_api_key_user_id: 'user-vendors' });

    const px = await spanAt(phoenix, callId);
    const pxAttrs = attributesOf(px);
    const pxRequest = requestOf(phoenix, px);
    expect(pxRequest.headers.authorization).toBe(`Bearer ${PHOENIX_KEY}`);
    expect(pxRequest.resource).toMatchObject({ 'openinference.project.name': 'tollgate-phoenix', 'service.name': 'litellm' });
    expect(pxAttrs).toMatchObject({
      'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.provider': 'openai', 'llm.request.type': 'acompletion',
      'input.value': 'what is OpenInference?', 'output.value': answer,
      'llm.input_messages.0.message.role': 'system', 'llm.input_messages.0.message.content': 'be brief',
      'llm.input_messages.1.message.role': 'user', 'llm.input_messages.1.message.content': 'what is OpenInference?',
      'llm.output_messages.0.message.role': 'assistant', 'llm.output_messages.0.message.content': answer,
      'llm.token_count.prompt': row.prompt_tokens, 'llm.token_count.completion': row.completion_tokens, 'llm.token_count.total': row.total_tokens,
      'user.id': 'customer-7', 'session.id': 'session-42', 'tag.tags': ['blue'],
    });
    expect(JSON.parse(pxAttrs['llm.invocation_parameters'] as string)).toMatchObject({ temperature: 0.25, user: 'customer-7' });
    expect(px.name).toBe('litellm_request');

    // No secret in any body: not the client's key, the provider's, Langfuse's secret or Phoenix's key.
    for (const raw of [requestOf(langfuse, lf).raw, pxRequest.raw]) {
      for (const secret of [key, VENDORS_UPSTREAM_KEY, LANGFUSE_SECRET, PHOENIX_KEY]) expect(raw).not.toContain(secret);
    }
    // Nor any vendor credential at the otel collector.
    const plain = await spanAt(otel, callId, 'gen_ai.response.id');
    expect(JSON.stringify(requestOf(otel, plain).headers)).not.toMatch(/Basic|phx-secret/);
  });

  it('show a Responses API answer as its output items: otel\'s output messages, OpenInference\'s per item, Langfuse\'s observation output', async () => {
    const answer = responseObject('gpt-4o', 'Looking.', responsesUsage(12, 6));
    const call = { type: 'function_call', id: 'fc_call_1', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' };
    upstream.enqueue({ kind: 'json', body: { ...answer, output: [...answer.output, call] } });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const { response } = await client.responses.create({ model: 'gpt-4o', input: 'weather in Paris?' }).withResponse();
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    const items = [
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Looking.' }] },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
    ];
    expect(JSON.parse(attributesOf(await spanAt(otel, callId, 'gen_ai.response.id'))['gen_ai.output.messages'] as string)).toEqual(items);
    expect(attributesOf(await spanAt(phoenix, callId))).toMatchObject({
      'output.value': 'Looking.', 'llm.output_messages.0.message.role': 'assistant', 'llm.output_messages.0.message.content': 'Looking.',
      'llm.output_messages.1.message.tool_calls.0.tool_call.id': 'call_1', 'llm.output_messages.1.message.tool_calls.0.tool_call.function.name': 'get_weather',
    });
    expect(JSON.parse(attributesOf(await spanAt(langfuse, callId))['langfuse.observation.output'] as string)).toEqual(items);
  });

  it('delivers each call once to each collector, with otel on too', async () => {
    const key = await seedKey(stack.db.url, { userId: 'user-vendors-once' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `call ${i}` }] }).withResponse();
      ids.push(response.headers.get('x-litellm-call-id') ?? '');
    }
    for (const id of ids) {
      await spanAt(langfuse, id);
      await spanAt(phoenix, id);
      await spanAt(otel, id, 'gen_ai.response.id');
    }
    await sleep(1500);
    for (const id of ids) {
      expect(byCall(langfuse, id, 'llm.response.id')).toHaveLength(1);
      expect(byCall(phoenix, id, 'llm.response.id')).toHaveLength(1);
      expect(byCall(otel, id, 'gen_ai.response.id')).toHaveLength(1);
    }
    // Each vendor's own attributes only: OpenInference spans carry no gen_ai.* and the otel span no llm.*.
    expect(Object.keys(attributesOf(byCall(phoenix, ids[0]!, 'llm.response.id')[0]!)).some((k) => k.startsWith('gen_ai.'))).toBe(false);
    expect(Object.keys(attributesOf(byCall(otel, ids[0]!, 'gen_ai.response.id')[0]!)).some((k) => k.startsWith('langfuse.'))).toBe(false);
  });

  it('re-sends a span to a collector that answered 503, once, and never to the collectors that took it', async () => {
    const before = langfuse.failuresServed();
    langfuse.failNext(503, 1);
    const key = await seedKey(stack.db.url, { userId: 'user-vendors-retry' });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'during a Langfuse outage' }] }).withResponse();
    expect(response.status).toBe(200);
    const callId = response.headers.get('x-litellm-call-id') ?? '';
    await spanAt(phoenix, callId);
    await eventually(async () => (langfuse.failuresServed() > before ? true : undefined));
    // The retry (2 s later) lands it at Langfuse.
    await spanAt(langfuse, callId);
    await sleep(2500);
    expect(byCall(langfuse, callId, 'llm.response.id')).toHaveLength(1);
    expect(byCall(phoenix, callId, 'llm.response.id')).toHaveLength(1);
    expect(byCall(otel, callId, 'gen_ai.response.id')).toHaveLength(1);
  });
});

describe('GET /health/services?service=langfuse_otel|arize_phoenix', () => {
  it('sends the vendor\'s collector a test span with its credentials, and says so when it refuses it, never quoting them', async () => {
    const check = (service: string) => fetch(`${stack.url}/health/services?service=${service}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    for (const [service, collector] of [['langfuse_otel', langfuse], ['arize_phoenix', phoenix]] as const) {
      const ok = await check(service);
      expect(ok.status).toBe(200);
      const test = collector.spans().find((s) => s.name === 'litellm-health-check');
      expect(test).toBeTruthy();
      expect(requestOf(collector, test!).headers.authorization).toMatch(/^(Basic|Bearer) /);
      collector.failNext(401, 1);
      const refused = await check(service);
      expect(refused.status).toBe(503);
      const body = await refused.text();
      for (const secret of [LANGFUSE_SECRET, PHOENIX_KEY, Buffer.from(`${LANGFUSE_PUBLIC}:${LANGFUSE_SECRET}`).toString('base64')]) expect(body).not.toContain(secret);
    }
    // arize is not set up on this stack: LiteLLM's 422, naming what is missing.
    const arize = await check('arize');
    expect(arize.status).toBe(422);
    expect(await arize.text()).toContain('ARIZE_SPACE_ID');
  });
});
