import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attributesOf, type FakeCollector, type Span } from './fakes/otel-collector.ts';
import { eventually, seedKey, spendLogRow } from './support/keys.ts';
import { byCall, spanAt, useOtelVendorsStack, VENDORS_UPSTREAM_KEY } from './support/otel-vendors-stack.ts';
import { TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's OTLP-exporter vendor callbacks logfire, traceloop, langtrace, levo and weave_otel: each call one span at each
// vendor's collector (fakes on loopback speaking OTLP/HTTP JSON, Langtrace's at its /api/trace path), with the
// vendor's credentials as headers (never in a body or a log) and LiteLLM's attribute set for it, each delivered
// and retried on its own.

const LOGFIRE_TOKEN = 'pylf_v1_us_logfire-write-token-0001';
const TRACELOOP_KEY = 'tl-secret-key-0001';
const LANGTRACE_KEY = 'lt-secret-key-0001';
const LEVO_KEY = 'levo-secret-key-0001';
const WANDB_KEY = 'wandb-secret-key-0001';
const SECRETS = [LOGFIRE_TOKEN, TRACELOOP_KEY, LANGTRACE_KEY, LEVO_KEY, WANDB_KEY];
const ID = 'gen_ai.response.id';

let logfire: FakeCollector;
let traceloop: FakeCollector;
let langtrace: FakeCollector;
let levo: FakeCollector;
let weave: FakeCollector;
let stack: TestStack;

useOtelVendorsStack({
  collectors: { logfire: {}, traceloop: {}, langtrace: { path: '/api/trace' }, levo: {}, weave: { path: '/otel/v1/traces' } },
  settings: `litellm_settings:
  callbacks: ["logfire", "langtrace", "levo", "weave_otel"]
  success_callback: ["traceloop"]
callback_settings:
  levo: {message_logging: false}
`,
  env: (c) => ({
    LOGFIRE_TOKEN, LOGFIRE_BASE_URL: `${c.logfire.url}/`,
    TRACELOOP_API_KEY: TRACELOOP_KEY, TRACELOOP_BASE_URL: c.traceloop.url,
    LANGTRACE_API_KEY: LANGTRACE_KEY, LANGTRACE_API_HOST: c.langtrace.url,
    LEVOAI_API_KEY: LEVO_KEY, LEVOAI_ORG_ID: 'org-levo-1', LEVOAI_WORKSPACE_ID: 'ws-levo-1', LEVOAI_COLLECTOR_URL: c.levo.url,
    WANDB_API_KEY: WANDB_KEY, WANDB_PROJECT_ID: 'my-team/my-project', WANDB_HOST: c.weave.url,
  }),
}, (s) => ({ stack, collectors: { logfire, traceloop, langtrace, levo, weave } } = s));

const requestOf = (c: FakeCollector, span: Span) => c.requests.find((r) => r.spans.includes(span))!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the Workers print (workerd's output reaches this process's console and its stdout and stderr), while a test runs. */
let printed: string[] = [];
const writes = { out: process.stdout.write, err: process.stderr.write };
const CONSOLE = ['log', 'info', 'warn', 'error', 'debug'] as const;
const originals = Object.fromEntries(CONSOLE.map((m) => [m, console[m]])) as Record<(typeof CONSOLE)[number], (...a: unknown[]) => void>;
beforeEach(() => {
  printed = [];
  for (const [stream, original] of [[process.stdout, writes.out], [process.stderr, writes.err]] as const) {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
  }
  for (const m of CONSOLE) {
    console[m] = (...args: unknown[]) => {
      printed.push(args.map(String).join(' '));
      originals[m].apply(console, args);
    };
  }
});
afterEach(() => {
  process.stdout.write = writes.out;
  process.stderr.write = writes.err;
  for (const m of CONSOLE) console[m] = originals[m];
});

async function chat(content: string, extra: Record<string, unknown> = {}) {
  const key = await seedKey(stack.db.url, { userId: 'user-genai-vendors', alias: 'genai-key' });
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra }).withResponse();
  return { key, callId: response.headers.get('x-litellm-call-id') ?? '', cost: Number(response.headers.get('x-litellm-response-cost')), answer: data.choices[0]?.message.content ?? '' };
}

describe('logfire, traceloop, langtrace, levo and weave_otel', () => {
  it('send a chat call to each vendor with its credentials and LiteLLM\'s attributes for it', async () => {
    const { key, callId, cost, answer } = await chat('what is OpenLLMetry?', { temperature: 0.5, user: 'customer-9', metadata: { session_id: 'thread-7' } });
    expect(answer).toBeTruthy();
    const row = await eventually(() => spendLogRow(stack.db.url, callId));

    // Logfire: its write token as the Authorization header itself; GenAI attributes with the prompt, answer and cost.
    const lf = await spanAt(logfire, callId, ID);
    expect(requestOf(logfire, lf).headers.authorization).toBe(LOGFIRE_TOKEN);
    const lfAttrs = attributesOf(lf);
    expect(lfAttrs).toMatchObject({
      'gen_ai.request.model': 'gpt-4o', 'gen_ai.system': 'openai', 'gen_ai.usage.input_tokens': row.prompt_tokens,
      'gen_ai.usage.output_tokens': row.completion_tokens, 'gen_ai.usage.total_tokens': row.total_tokens, 'gen_ai.request.temperature': 0.5,
    });
    expect(lfAttrs['gen_ai.cost.total_cost']).toBeCloseTo(cost, 12);
    expect(cost).toBeGreaterThan(0);
    expect(JSON.parse(lfAttrs['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', content: 'what is OpenLLMetry?' }]);
    expect(JSON.parse(lfAttrs['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', content: answer }]);
    expect(requestOf(logfire, lf).resource).toMatchObject({ 'service.name': 'litellm' });

    // Traceloop: Bearer key; OpenLLMetry's indexed prompt and completion, a litellm.completion client span.
    const tl = await spanAt(traceloop, callId, ID);
    expect(requestOf(traceloop, tl).headers.authorization).toBe(`Bearer ${TRACELOOP_KEY}`);
    expect(tl).toMatchObject({ name: 'litellm.completion', kind: 3 });
    const tlAttrs = attributesOf(tl);
    expect(tlAttrs).toMatchObject({
      'gen_ai.request.model': 'gpt-4o', 'llm.request.type': 'chat', 'llm.user': 'customer-9', 'gen_ai.request.temperature': 0.5,
      'gen_ai.prompt.0.role': 'user', 'gen_ai.prompt.0.content': 'what is OpenLLMetry?',
      'gen_ai.completion.0.role': 'assistant', 'gen_ai.completion.0.content': answer,
      'gen_ai.usage.prompt_tokens': row.prompt_tokens, 'gen_ai.usage.completion_tokens': row.completion_tokens, 'llm.usage.total_tokens': row.total_tokens,
    });
    expect(tlAttrs['gen_ai.cost.total_cost']).toBeCloseTo(cost, 12);

    // Langtrace: its api_key header at /api/trace; the prompt and completion as span events.
    const lt = await spanAt(langtrace, callId, ID);
    expect(requestOf(langtrace, lt).headers.api_key).toBe(LANGTRACE_KEY);
    expect(attributesOf(lt)).toMatchObject({ 'gen_ai.operation.name': 'chat', 'langtrace.service.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'llm.usage.total_tokens': row.total_tokens });
    const events = Object.fromEntries((lt.events ?? []).map((e) => [e.name, attributesOf(e)]));
    expect(JSON.parse(events['gen_ai.content.prompt']!['gen_ai.prompt'] as string)).toEqual([{ role: 'user', content: 'what is OpenLLMetry?' }]);
    expect(JSON.parse(events['gen_ai.content.completion']!['gen_ai.completion'] as string)).toEqual([{ role: 'assistant', content: answer }]);

    // Levo: Bearer key, organisation and workspace headers; callback_settings.levo.message_logging false keeps the
    // prompt and answer out of its span alone.
    const lv = await spanAt(levo, callId, ID);
    expect(requestOf(levo, lv).headers).toMatchObject({ authorization: `Bearer ${LEVO_KEY}`, 'x-levo-organization-id': 'org-levo-1', 'x-levo-workspace-id': 'ws-levo-1' });
    expect(attributesOf(lv)['gen_ai.usage.total_tokens']).toBe(row.total_tokens);
    expect(JSON.stringify(lv)).not.toContain('what is OpenLLMetry?');
    expect(Object.keys(attributesOf(lv)).filter((k) => /messages/.test(k))).toEqual([]);

    // Weave: Basic api:<key> and the project header; OpenInference attributes plus Weave's display name and thread.
    const wv = await spanAt(weave, callId);
    expect(requestOf(weave, wv).headers).toMatchObject({ authorization: `Basic ${Buffer.from(`api:${WANDB_KEY}`).toString('base64')}`, project_id: 'my-team/my-project' });
    expect(attributesOf(wv)).toMatchObject({
      'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'output.value': answer, 'llm.token_count.total': row.total_tokens,
      'wandb.display_name': 'openai__gpt-4o', 'wandb.thread_id': 'thread-7', 'wandb.is_turn': true, 'session.id': 'thread-7',
    });

    // No credential in any body: not the client's key, the provider's, nor any vendor's.
    for (const c of [logfire, traceloop, langtrace, levo, weave]) {
      for (const r of c.requests) for (const secret of [key, VENDORS_UPSTREAM_KEY, ...SECRETS]) expect(r.raw).not.toContain(secret);
    }
    // Each vendor's credentials only at its own collector.
    expect(JSON.stringify(requestOf(traceloop, tl).headers)).not.toContain(LOGFIRE_TOKEN);
    expect(JSON.stringify(requestOf(logfire, lf).headers)).not.toContain(TRACELOOP_KEY);
  });

  it('re-sends a span Logfire refused with 401, without re-sending the others, and never prints the token it echoed', async () => {
    const before = logfire.failuresServed();
    logfire.failNext(401, 1, (headers) => ({ code: 16, message: `invalid token: ${headers.authorization}` }));
    const { callId } = await chat('during a Logfire outage');
    await spanAt(traceloop, callId, ID);
    await spanAt(langtrace, callId, ID);
    await spanAt(levo, callId, ID);
    await spanAt(weave, callId);
    await eventually(async () => (logfire.failuresServed() > before ? true : undefined));
    // The retry (2 s later) lands it at Logfire.
    await spanAt(logfire, callId, ID);
    await sleep(2500);
    for (const c of [logfire, traceloop, langtrace, levo]) expect(byCall(c, callId, ID)).toHaveLength(1);
    expect(byCall(weave, callId)).toHaveLength(1);
    const output = printed.join('');
    expect(output).toMatch(/logfire.*401.*invalid token: \[redacted\]/);
    for (const secret of SECRETS) expect(output).not.toContain(secret);
  });
});

describe('GET /health/services?service=logfire|traceloop|langtrace|levo|weave_otel', () => {
  it('sends the vendor\'s collector a test span with its credentials, and a 503 when it refuses it, never quoting them even when it echoes them', async () => {
    const check = (service: string) => fetch(`${stack.url}/health/services?service=${service}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    for (const [service, collector] of [['logfire', logfire], ['traceloop', traceloop], ['langtrace', langtrace], ['levo', levo], ['weave_otel', weave]] as const) {
      const ok = await check(service);
      expect(ok.status, service).toBe(200);
      expect(collector.spans().some((s) => s.name === 'litellm-health-check'), service).toBe(true);
      // A collector that quotes the credential it was sent in its 401.
      collector.failNext(401, 1, (headers) => ({ message: `denied: ${headers.authorization ?? headers.api_key}` }));
      const refused = await check(service);
      expect(refused.status, service).toBe(503);
      const body = await refused.text();
      expect(body, service).toContain('[redacted]');
      for (const secret of [...SECRETS, btoa(`api:${WANDB_KEY}`)]) expect(body, service).not.toContain(secret);
    }
  });
});
