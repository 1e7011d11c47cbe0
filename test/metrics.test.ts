import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../worker/errors.ts';
import { exceptionClass, modelGroupLabel, statusLabel } from '../worker/telemetry/metrics/labels.ts';
import { LATENCY_BUCKETS, M, METRIC_LIST } from '../worker/telemetry/metrics/registry.ts';
import { formatValue, renderMetrics } from '../worker/telemetry/metrics/render.ts';
import { openaiRateLimitError } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// ---------------------------------------------------------------------------
// A strict parser of the Prometheus text format (0.0.4): every line must be a
// HELP, a TYPE, a comment or a well-formed sample; a family's samples must
// follow its TYPE, be contiguous and unique; histogram buckets must be
// cumulative and end in +Inf = _count. Anything else throws.
// ---------------------------------------------------------------------------

interface Sample { name: string; labels: Record<string, string>; value: number }
interface Family { name: string; type: string; help: string | undefined; samples: Sample[] }

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in: ${line}`);
  return Number(text);
}

function parseSample(line: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)( -?\d+)?$/.exec(line);
  if (!m) throw new Error(`not a sample line: ${line}`);
  const labels: Record<string, string> = {};
  const body = m[3] ?? '';
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0) throw new Error(`label without '=': ${line}`);
    const name = body.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${JSON.stringify(name)}: ${line}`);
    if (name in labels) throw new Error(`duplicate label ${name}: ${line}`);
    if (body[eq + 1] !== '"') throw new Error(`label value not quoted: ${line}`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      const ch = body[j];
      if (ch === undefined) throw new Error(`unterminated label value: ${line}`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = body[j + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`bad escape \\${next}: ${line}`);
        j += 2;
        continue;
      }
      if (ch === '\n') throw new Error(`raw newline in label value: ${line}`);
      value += ch;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (i < body.length) {
      if (body[i] !== ',') throw new Error(`expected ',' between labels: ${line}`);
      i++;
    }
  }
  return { name: m[1] as string, labels, value: parseValue(m[4] as string, line) };
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sample);
  if (direct && direct.type !== 'histogram') return direct;
  for (const suffix of ['_bucket', '_count', '_sum']) {
    if (sample.endsWith(suffix)) {
      const f = families.get(sample.slice(0, -suffix.length));
      if (f?.type === 'histogram') return f;
    }
  }
  return undefined;
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const seen = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      if (closed.has(name)) throw new Error(`family ${name} appears twice`);
      let f = families.get(name);
      if (current && current.name !== name) closed.add(current.name);
      if (!f) {
        f = { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, f);
      }
      if (f.samples.length) throw new Error(`${kind} for ${name} after its samples`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`unknown type in: ${line}`);
        if (f.type !== 'untyped') throw new Error(`second TYPE for ${name}`);
        f.type = rest;
      } else {
        if (f.help !== undefined) throw new Error(`second HELP for ${name}`);
        f.help = rest;
      }
      current = f;
      continue;
    }
    const sample = parseSample(line);
    const f = familyOf(sample.name, families);
    if (!f) throw new Error(`sample without a TYPE: ${line}`);
    if (f !== current) throw new Error(`samples of ${f.name} are not contiguous: ${line}`);
    const id = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(id)) throw new Error(`duplicate series: ${line}`);
    seen.add(id);
    if (f.type === 'histogram' && sample.name.endsWith('_bucket') && !('le' in sample.labels)) throw new Error(`bucket without le: ${line}`);
    if (f.type === 'counter' && !(sample.value >= 0)) throw new Error(`negative counter: ${line}`);
    f.samples.push(sample);
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const id = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(id) ?? { buckets: [] };
    groups.set(id, g);
    if (s.name.endsWith('_bucket')) g.buckets.push([parseValue(le as string, le as string), s.value]);
    else if (s.name.endsWith('_count')) g.count = s.value;
  }
  for (const [id, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if ((sorted[i] as [number, number])[1] < (sorted[i - 1] as [number, number])[1]) throw new Error(`${f.name}${id}: buckets not cumulative`);
    }
    const inf = sorted.at(-1);
    if (!inf || inf[0] !== Infinity) throw new Error(`${f.name}${id}: no +Inf bucket`);
    if (g.count !== inf[1]) throw new Error(`${f.name}${id}: +Inf bucket ${inf[1]} != _count ${g.count}`);
  }
}

/** The value of the one sample of `name` whose labels include `labels` (0 when absent). */
function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string>): number {
  const f = familyOf(name, families);
  const matches = (f?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1) throw new Error(`${matches.length} series of ${name} match ${JSON.stringify(labels)}`);
  return matches[0]?.value ?? 0;
}

function samplesOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): Sample[] {
  const f = familyOf(name, families);
  return (f?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

// ---------------------------------------------------------------------------

describe('the Prometheus text the gateway renders', () => {
  it('parses strictly, declares every metric and prints floats and buckets as LiteLLM does', () => {
    const text = renderMetrics([
      { m: M.proxyTotal.name, l: M.proxyTotal.labels.map((n) => (n === 'status_code' ? '200' : n === 'api_key_alias' ? 'a "quoted"\\ alias\nx' : 'None')), v: 3 },
      { m: M.requestLatency.name, l: M.requestLatency.labels.map(() => 'None'), v: 0, b: LATENCY_BUCKETS.map((_, i) => (i === 0 ? 1 : i === 7 ? 2 : 0)), s: 1.5, n: 3 },
      { m: M.remainingKeyBudget.name, l: ['None', 'abc'], v: Infinity },
    ]);
    const families = parsePrometheus(text);
    for (const def of METRIC_LIST) {
      const exposed = def.kind === 'counter' ? `${def.name}_total` : def.name;
      expect(families.get(exposed)?.type, exposed).toBe(def.kind === 'state' ? 'gauge' : def.kind);
    }
    expect(samplesOf(families, 'litellm_proxy_total_requests_metric_total')[0]?.labels.api_key_alias).toBe('a "quoted"\\ alias\nx');
    expect(text).toContain('litellm_request_total_latency_metric_bucket{api_key_alias="None",end_user="None",hashed_api_key="None",le="0.005",model="None"');
    expect(valueOf(families, 'litellm_request_total_latency_metric_bucket', { le: '1.0' })).toBe(3);
    expect(valueOf(families, 'litellm_request_total_latency_metric_count', {})).toBe(3);
    expect(text).toContain('litellm_remaining_api_key_budget_metric{api_key_alias="None",hashed_api_key="abc"} +Inf\n');
    expect([1, 0.5, 0.00625, Infinity, 2.5e-6].map(formatValue)).toEqual(['1.0', '0.5', '0.00625', '+Inf', '0.0000025']);
  });

  it('adds up a label set reported by several shards', () => {
    const l = ['litellm_spend_metric'];
    const families = parsePrometheus(renderMetrics([{ m: M.droppedSeries.name, l, v: 2 }, { m: M.droppedSeries.name, l, v: 3 }]));
    expect(valueOf(families, 'tollgate_metrics_series_dropped_total', { metric: 'litellm_spend_metric' })).toBe(5);
  });

  it('reports names outside the catalog (a client\'s made-up fallback model) as "other"', () => {
    const known = new Set(['gpt-4o']);
    expect(modelGroupLabel('gpt-4o', known)).toBe('gpt-4o');
    expect(modelGroupLabel('unknown-model', known)).toBe('other');
    expect(modelGroupLabel({ not: 'a string' }, known)).toBe('other');
    expect([statusLabel(429), statusLabel(42), statusLabel(undefined)]).toEqual(['429', 'other', 'other']);
  });

  it('names exception classes as LiteLLM does, from a fixed list', () => {
    const upstream = new GatewayError('litellm.RateLimitError: OpenAIException - slow down', { status: 429, type: 'rate_limit_error', provider: 'openai', upstreamStatus: 429 });
    expect(exceptionClass(upstream, 'openai')).toBe('Openai.RateLimitError');
    const vllm = new GatewayError('litellm.InternalServerError: vLLMException - boom', { status: 500, type: 'internal_server_error', provider: 'hosted_vllm', upstreamStatus: 500 });
    expect(exceptionClass(vllm, 'hosted_vllm')).toBe('Hosted_vllm.InternalServerError');
    const made_up = new GatewayError('litellm.MyOwnError<script>: x', { status: 400, type: 'bad_request_error' });
    expect(exceptionClass(made_up, undefined)).toBe('BadRequestError');
    expect(exceptionClass(new GatewayError('Budget has been exceeded!', { status: 429, type: 'budget_exceeded' }), 'openai')).toBe('BudgetExceededError');
  });
});

let fake: FakeUpstream;
let stack: TestStack;
const MASTER_HASH = sha256(TEST_MASTER_KEY);

const chat = (key: string, body: Record<string, unknown>, path = '/v1/chat/completions') => fetch(`${stack.url}${path}`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ messages: [{ role: 'user', content: 'hello metrics' }], ...body }),
});

async function scrape(): Promise<{ text: string; families: Map<string, Family> }> {
  const res = await fetch(`${stack.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  return { text, families: parsePrometheus(text) };
}

/** Polls /metrics until `check` passes: a request shows there within ~1 s (README: 2 s). */
async function until(check: (m: { text: string; families: Map<string, Family> }) => void, timeoutMs = 10_000): Promise<{ text: string; families: Map<string, Family> }> {
  let last: unknown;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = await scrape();
    try {
      check(m);
      return m;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw last;
}

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-upstream-fake-0001}
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "hello there", input_cost_per_token: 0.001, output_cost_per_token: 0.002}
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

describe('GET /metrics', () => {
  it('is public and well-formed before any traffic, with every metric declared', async () => {
    const { families } = await scrape();
    expect(families.get('litellm_proxy_total_requests_metric_total')?.type).toBe('counter');
    expect(families.get('litellm_request_total_latency_metric')?.type).toBe('histogram');
    expect(families.get('litellm_deployment_successful_fallbacks_total')?.type).toBe('counter');
    expect(families.get('litellm_deployment_failed_fallbacks_total')?.type).toBe('counter');
    expect(families.get('litellm_cache_hits_metric_total')?.type).toBe('counter');
    expect(families.get('litellm_deployment_state')?.type).toBe('gauge');
    expect(families.get('litellm_remaining_team_budget_metric')?.type).toBe('gauge');
  });

  it('counts successes and failures (a 429 and a 500 from upstream) with LiteLLM\'s labels', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'one two three' }] });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'streamed words' }] });
    for await (const _ of stream) { /* drain */ }
    fake.enqueue({ kind: 'error', status: 429, body: openaiRateLimitError('gpt-4o', 1) });
    expect((await chat(TEST_MASTER_KEY, { model: 'gpt-4o' })).status).toBe(429);
    fake.enqueue({ kind: 'error', status: 500, body: { error: { message: 'The server had an error', type: 'server_error' } } });
    expect((await chat(TEST_MASTER_KEY, { model: 'gpt-4o' })).status).toBe(500);

    const who = { hashed_api_key: MASTER_HASH, requested_model: 'gpt-4o' };
    const { text, families } = await until(({ families: f }) => {
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { ...who, status_code: '200' })).toBe(4);
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { ...who, status_code: '429' })).toBe(1);
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { ...who, status_code: '500' })).toBe(1);
    });
    // LiteLLM's own CI assertion (tests/otel_tests/test_prometheus.py), byte for byte but for the model name.
    expect(text).toContain(`litellm_proxy_failed_requests_metric_total{api_key_alias="None",end_user="None",exception_class="Openai.RateLimitError",exception_status="429",hashed_api_key="${MASTER_HASH}",requested_model="gpt-4o",route="/chat/completions",team="None",team_alias="None",user="default_user_id",user_email="None"} 1.0`);
    expect(text).toContain(`litellm_proxy_total_requests_metric_total{api_key_alias="None",end_user="None",hashed_api_key="${MASTER_HASH}",requested_model="gpt-4o",route="/chat/completions",status_code="429",team="None",team_alias="None",user="default_user_id",user_email="None"} 1.0`);
    expect(valueOf(families, 'litellm_proxy_failed_requests_metric_total', { ...who, exception_status: '500', exception_class: 'Openai.InternalServerError' })).toBe(1);

    const deployment = { requested_model: 'gpt-4o', litellm_model_name: 'gpt-4o', api_provider: 'openai', api_base: `${fake.url}/v1` };
    expect(valueOf(families, 'litellm_deployment_total_requests_total', deployment)).toBe(6);
    expect(valueOf(families, 'litellm_deployment_success_responses_total', deployment)).toBe(4);
    expect(samplesOf(families, 'litellm_deployment_failure_responses_total', deployment).map((s) => [s.labels.exception_status, s.labels.exception_class, s.value]).sort())
      .toEqual([['429', 'Openai.RateLimitError', 1], ['500', 'Openai.InternalServerError', 1]]);
    // Successes and failures within the last minute: a partial outage.
    expect(valueOf(families, 'litellm_deployment_state', { litellm_model_name: 'gpt-4o', api_provider: 'openai' })).toBe(1);

    // The fake echoes: "one two three" is 3 + 3 prompt tokens and 4 completion tokens ("echo: one two three"), the stream 2 + 3 and 3.
    expect(valueOf(families, 'litellm_input_tokens_metric_total', { ...who, model: 'gpt-4o' })).toBe(3 * 6 + 5);
    expect(valueOf(families, 'litellm_output_tokens_metric_total', { ...who, model: 'gpt-4o' })).toBe(3 * 4 + 3);
    expect(valueOf(families, 'litellm_total_tokens_metric_total', { ...who, model: 'gpt-4o' })).toBe(3 * 10 + 8);

    // Latency histograms of the successes, with exactly LiteLLM's buckets.
    const expected = new Set(LATENCY_BUCKETS.map((b) => (b === Infinity ? '+Inf' : formatValue(b))));
    for (const name of ['litellm_request_total_latency_metric', 'litellm_llm_api_latency_metric', 'litellm_overhead_latency_metric']) {
      const buckets = samplesOf(families, `${name}_bucket`);
      expect(new Set(buckets.map((s) => s.labels.le)), name).toEqual(expected);
      expect(samplesOf(families, `${name}_count`).reduce((n, s) => n + s.value, 0), name).toBe(4);
    }
    expect(samplesOf(families, 'litellm_llm_api_time_to_first_token_metric_count').reduce((n, s) => n + s.value, 0)).toBe(1);
    expect(text).toContain(`litellm_request_total_latency_metric_bucket{api_key_alias="None",end_user="None",hashed_api_key="${MASTER_HASH}",le="0.005",model="gpt-4o",requested_model="gpt-4o",team="None",team_alias="None",user="default_user_id"}`);
  });

  it('labels a virtual key\'s calls with its alias and team, and counts its spend', async () => {
    await seedTeam(stack.db.url, { id: 'team-metrics', alias: 'Metrics Team' });
    const key = await seedKey(stack.db.url, { alias: 'metrics-key', teamId: 'team-metrics', userId: 'user-m' });
    const res = await chat(key, { model: 'mock-gpt' });
    expect(res.status).toBe(200);
    const cost = Number(res.headers.get('x-litellm-response-cost'));
    expect(cost).toBeGreaterThan(0);
    const labels = { hashed_api_key: sha256(key), api_key_alias: 'metrics-key', team: 'team-metrics', team_alias: 'Metrics Team', user: 'user-m' };
    const { families } = await until(({ families: f }) => {
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { ...labels, requested_model: 'mock-gpt', status_code: '200' })).toBe(1);
    });
    expect(valueOf(families, 'litellm_spend_metric_total', { ...labels, model: 'mock-gpt' })).toBeCloseTo(cost, 12);
  });

  it('reports key and team budgets as gauges', async () => {
    await seedTeam(stack.db.url, { id: 'team-budget', alias: 'Budget Team' });
    await query(stack.db.url, 'UPDATE "LiteLLM_TeamTable" SET max_budget = 5 WHERE team_id = $1', ['team-budget']);
    const key = await seedKey(stack.db.url, { alias: 'budget-key', teamId: 'team-budget' });
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET max_budget = 10 WHERE token = $1', [sha256(key)]);
    const res = await chat(key, { model: 'mock-gpt' });
    expect(res.status).toBe(200);
    const cost = Number(res.headers.get('x-litellm-response-cost'));
    const keyLabels = { hashed_api_key: sha256(key), api_key_alias: 'budget-key' };
    const teamLabels = { team: 'team-budget', team_alias: 'Budget Team' };
    await until(({ families: f }) => {
      expect(valueOf(f, 'litellm_api_key_max_budget_metric', keyLabels)).toBe(10);
      expect(valueOf(f, 'litellm_remaining_api_key_budget_metric', keyLabels)).toBeCloseTo(10 - cost, 9);
      expect(valueOf(f, 'litellm_team_max_budget_metric', teamLabels)).toBe(5);
      expect(valueOf(f, 'litellm_remaining_team_budget_metric', teamLabels)).toBeCloseTo(5 - cost, 9);
    });
  });

  it('never turns a made-up model, URL path or end user into a label value', async () => {
    const model = `made-up-model-${crypto.randomUUID()}`;
    const path = `/v1/scanner-${crypto.randomUUID()}/wp-login.php`;
    const endUser = `end-user-${crypto.randomUUID()}`;
    expect((await chat(TEST_MASTER_KEY, { model })).status).toBe(400);
    expect((await chat(TEST_MASTER_KEY, { model: 'mock-gpt' }, path)).status).toBe(404);
    expect((await fetch(`${stack.url}${path}`)).status).toBe(404);
    expect((await chat(TEST_MASTER_KEY, { model: 'mock-gpt', user: endUser, metadata: { tag: endUser } })).status).toBe(200);
    // Azure-style paths name the model group in the URL: the route label stays the template.
    expect((await chat(TEST_MASTER_KEY, { model: 'ignored' }, '/openai/deployments/mock-gpt/chat/completions?api-version=2024-08-01-preview')).status).toBe(200);
    const { text, families } = await until(({ families: f }) => {
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { hashed_api_key: MASTER_HASH, requested_model: 'mock-gpt', status_code: '200' })).toBe(2);
    });
    expect(text).not.toContain(model);
    expect(text).not.toContain('scanner-');
    expect(text).not.toContain(endUser);
    const routes = new Set(families.get('litellm_proxy_total_requests_metric_total')?.samples.map((s) => s.labels.route));
    expect([...routes].every((r) => ['/chat/completions', '/completions', '/embeddings'].includes(r as string))).toBe(true);
    for (const s of families.get('litellm_proxy_total_requests_metric_total')?.samples ?? []) expect(s.labels.end_user).toBe('None');
  });

  it('keeps its counters across a restart of the runtime', async () => {
    const before = valueOf((await scrape()).families, 'litellm_proxy_total_requests_metric_total', { hashed_api_key: MASTER_HASH, requested_model: 'gpt-4o', status_code: '200' });
    expect(before).toBe(4);
    // Shards write changed series every 500 ms; give them that, then restart on the same storage.
    await new Promise((r) => setTimeout(r, 1_500));
    await stack.restartRuntime();
    const after = await eventually(async () => {
      const res = await fetch(`${stack.url}/metrics`);
      return res.ok ? parsePrometheus(await res.text()) : undefined;
    });
    expect(valueOf(after, 'litellm_proxy_total_requests_metric_total', { hashed_api_key: MASTER_HASH, requested_model: 'gpt-4o', status_code: '200' })).toBe(4);
    expect(valueOf(after, 'litellm_deployment_total_requests_total', { requested_model: 'gpt-4o' })).toBe(6);
  });
});
