import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS } from '../worker/telemetry/metrics/registry.ts';
import { formatValue } from '../worker/telemetry/metrics/render.ts';
import { openaiRateLimitError } from './fakes/openai-format.ts';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { parsePrometheus, samplesOf, scrape, until, valueOf } from './support/prometheus.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// GET /metrics end to end; the text format itself is checked in metrics-render.test.ts.

let fake: FakeUpstream;
let stack: TestStack;
const MASTER_HASH = sha256(TEST_MASTER_KEY);

const chat = (key: string, body: Record<string, unknown>, path = '/v1/chat/completions') => fetch(`${stack.url}${path}`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body: JSON.stringify({ messages: [{ role: 'user', content: 'hello metrics' }], ...body }),
});

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-upstream-fake-0001}
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "hello there", input_cost_per_token: 0.001, output_cost_per_token: 0.002}
# One attempt: these suites are about how a failed call looks (the router suites test retries).
router_settings:
  num_retries: 0
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

describe('GET /metrics', () => {
  it('is public and well-formed before any traffic, with every metric declared', async () => {
    const { families } = await scrape(stack.url);
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
    const { text, families } = await until(stack.url, ({ families: f }) => {
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
    const { families } = await until(stack.url, ({ families: f }) => {
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
    await until(stack.url, ({ families: f }) => {
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
    const { text, families } = await until(stack.url, ({ families: f }) => {
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
    const before = valueOf((await scrape(stack.url)).families, 'litellm_proxy_total_requests_metric_total', { hashed_api_key: MASTER_HASH, requested_model: 'gpt-4o', status_code: '200' });
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
