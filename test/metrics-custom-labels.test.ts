import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../worker/config/validate.ts';
import { customLabelName, customLabelPairs, customLabels, customLabelValue } from '../worker/telemetry/metrics/custom-labels.ts';
import { LATENCY_BUCKETS, M } from '../worker/telemetry/metrics/registry.ts';
import { renderMetrics } from '../worker/telemetry/metrics/render.ts';
import { eventually, seedKey, seedTeam, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { parsePrometheus, samplesOf, until, valueOf } from './support/prometheus.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

// LiteLLM's litellm_settings.custom_prometheus_metadata_labels, end to end through workerd, and its
// pieces (names, values, rendering, config validation) on their own.

let stack: TestStack;
const MASTER_HASH = sha256(TEST_MASTER_KEY);

const chat = (key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => fetch(`${stack.url}/v1/chat/completions`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hello labels' }], ...body }),
});

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "hello there", input_cost_per_token: 0.001, output_cost_per_token: 0.002}
litellm_settings:
  callbacks: ["prometheus"]
  custom_prometheus_metadata_labels: ["metadata.team_name", "metadata.nested.env"]
`,
    // 10 label sets per metric per shard, 6 of them with values of a client's own: the flood below overflows
    // both, the rest of the suite neither.
    runtimeOnlyEnv: { TOLLGATE_METRICS_MAX_SERIES: '40', TOLLGATE_METRICS_MAX_CUSTOM_SERIES: '24' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('custom_prometheus_metadata_labels through the gateway', () => {
  it("labels a call's request-level metrics with its metadata values, \"None\" where it has none", async () => {
    expect((await chat(TEST_MASTER_KEY, { metadata: { team_name: 'x' } })).status).toBe(200);
    expect((await chat(TEST_MASTER_KEY, {})).status).toBe(200);
    expect((await chat(TEST_MASTER_KEY, { metadata: { team_name: 'y', nested: { env: 'prod' } } })).status).toBe(200);

    const who = { hashed_api_key: MASTER_HASH, requested_model: 'mock-gpt', status_code: '200' };
    const { text, families } = await until(stack.url, ({ families: f }) => {
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { ...who, metadata_team_name: 'x' })).toBe(1);
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { ...who, metadata_team_name: 'None', metadata_nested_env: 'None' })).toBe(1);
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { ...who, metadata_team_name: 'y', metadata_nested_env: 'prod' })).toBe(1);
    });
    // The whole series, labels sorted as every other series' are.
    expect(text).toContain(`litellm_proxy_total_requests_metric_total{api_key_alias="None",end_user="None",hashed_api_key="${MASTER_HASH}",metadata_nested_env="None",metadata_team_name="x",requested_model="mock-gpt",route="/chat/completions",status_code="200",team="None",team_alias="None",user="default_user_id",user_email="None"} 1.0`);
    const x = { metadata_team_name: 'x', metadata_nested_env: 'None' };
    for (const name of ['litellm_spend_metric_total', 'litellm_total_tokens_metric_total', 'litellm_input_tokens_metric_total', 'litellm_output_tokens_metric_total',
      'litellm_deployment_total_requests_total', 'litellm_deployment_success_responses_total', 'litellm_request_total_latency_metric_count', 'litellm_llm_api_latency_metric_count']) {
      expect(samplesOf(families, name, x), name).toHaveLength(1);
    }
    expect(text).toMatch(/litellm_request_total_latency_metric_bucket\{[^}]*le="0\.005",metadata_nested_env="None",metadata_team_name="x",model=/);
    // Deployment health is the deployment's, not a request's: no custom labels.
    for (const s of samplesOf(families, 'litellm_deployment_state')) expect(Object.keys(s.labels)).not.toContain('metadata_team_name');
  });

  it('takes a value from the key, its team or spend_logs_metadata over the request body, as LiteLLM merges them', async () => {
    await seedTeam(stack.db.url, { id: 'labels-team' });
    await query(stack.db.url, 'UPDATE "LiteLLM_TeamTable" SET metadata = $1 WHERE team_id = $2', [JSON.stringify({ nested: { env: 'team-env' } }), 'labels-team']);
    const keyed = await seedKey(stack.db.url, { alias: 'labels-key', teamId: 'labels-team' });
    await query(stack.db.url, 'UPDATE "LiteLLM_VerificationToken" SET metadata = $1 WHERE token = $2', [JSON.stringify({ team_name: 'from-key' }), sha256(keyed)]);
    expect((await chat(keyed, { metadata: { team_name: 'from-request', nested: { env: 'request-env' } } })).status).toBe(200);
    expect((await chat(keyed, { metadata: { team_name: 'from-request' } }, { 'x-litellm-spend-logs-metadata': JSON.stringify({ team_name: 'from-header' }) })).status).toBe(200);

    const mine = { hashed_api_key: sha256(keyed), status_code: '200' };
    await until(stack.url, ({ families: f }) => {
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { ...mine, metadata_team_name: 'from-key', metadata_nested_env: 'team-env' })).toBe(1);
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { ...mine, metadata_team_name: 'from-header', metadata_nested_env: 'team-env' })).toBe(1);
    });
  });

  it('caps a long value, takes strings only, and escapes what it keeps in the exposition', async () => {
    const odd = `a"b\\c\nd\r${'z'.repeat(500)}`;
    expect((await chat(TEST_MASTER_KEY, { metadata: { team_name: odd, nested: { env: 42 } } })).status).toBe(200);
    const kept = `a"b\\c d${'z'.repeat(93)}`;
    expect(kept).toHaveLength(100);
    const { text } = await until(stack.url, ({ families: f }) => {
      expect(valueOf(f, 'litellm_proxy_total_requests_metric_total', { hashed_api_key: MASTER_HASH, metadata_team_name: kept, metadata_nested_env: 'None' })).toBe(1);
    });
    expect(text).toContain(`metadata_team_name="a\\"b\\\\c d${'z'.repeat(93)}"`);
  });

  it('labels a refused call with its metadata once its key is known, and never with an unknown key\'s', async () => {
    expect((await chat(TEST_MASTER_KEY, { model: 'no-such-model', metadata: { team_name: 'refused' } })).status).toBe(400);
    expect((await chat('sk-not-a-key-0000', { metadata: { team_name: 'anonymous' } })).status).toBe(401);
    await until(stack.url, ({ families: f }) => {
      expect(samplesOf(f, 'litellm_proxy_failed_requests_metric_total', { hashed_api_key: MASTER_HASH, metadata_team_name: 'refused' })).toHaveLength(1);
      expect(samplesOf(f, 'litellm_proxy_failed_requests_metric_total', { exception_status: '401', metadata_team_name: 'None' })).toHaveLength(1);
    });
    const { families } = await until(stack.url, () => undefined);
    expect(samplesOf(families, 'litellm_proxy_failed_requests_metric_total', { metadata_team_name: 'anonymous' })).toHaveLength(0);
  });

  it('keeps labelled series across a restart of the runtime', async () => {
    const x = { hashed_api_key: MASTER_HASH, status_code: '200', metadata_team_name: 'x' };
    expect(valueOf((await until(stack.url, () => undefined)).families, 'litellm_proxy_total_requests_metric_total', x)).toBe(1);
    // Shards write changed series every 500 ms; give them that, then restart on the same storage.
    await new Promise((r) => setTimeout(r, 1_500));
    await stack.restartRuntime();
    const after = await eventually(async () => {
      const res = await fetch(`${stack.url}/metrics`);
      return res.ok ? parsePrometheus(await res.text()) : undefined;
    });
    expect(valueOf(after, 'litellm_proxy_total_requests_metric_total', x)).toBe(1);
    expect(samplesOf(after, 'litellm_request_total_latency_metric_count', { metadata_team_name: 'x' })).toHaveLength(1);
  });

  it('holds a flood of distinct values to its own share of the series, counting the rest under "other", and the cap', async () => {
    for (let i = 0; i < 60; i++) expect((await chat(TEST_MASTER_KEY, { metadata: { team_name: `flood-${i}` } })).status).toBe(200);
    const { families } = await until(stack.url, ({ families: f }) => {
      const total = samplesOf(f, 'litellm_proxy_total_requests_metric_total');
      const kept = total.filter((s) => s.labels.metadata_team_name?.startsWith('flood-'));
      const other = total.filter((s) => s.labels.metadata_team_name === 'other');
      const dropped = valueOf(f, 'tollgate_metrics_series_dropped_total', { metric: 'litellm_proxy_total_requests_metric' });
      expect([...kept, ...other].reduce((n, s) => n + s.value, 0) + dropped).toBe(60);
      expect(other.length).toBeGreaterThan(0);
    });
    const total = samplesOf(families, 'litellm_proxy_total_requests_metric_total');
    expect(total.length).toBeLessThanOrEqual(40);
    // A client's own values take at most their share (24): the rest of the metric's series stay everyone's.
    expect(total.filter((s) => s.labels.metadata_team_name !== 'other' && s.labels.metadata_team_name !== 'None').length).toBeLessThanOrEqual(24);
  });
});

describe('custom label pieces', () => {
  it("names labels as LiteLLM's _sanitize_prometheus_label_name does", () => {
    expect(['metadata.foo', 'metadata.user-id', 'metadata.a.b', '1st', 'metadata.ünï'].map(customLabelName))
      .toEqual(['metadata_foo', 'metadata_user_id', 'metadata_a_b', '_1st', 'metadata__n_']);
  });

  it('reads a dotted path from the first source that has its first key; only strings count', () => {
    const spec = customLabels(['metadata.a', 'metadata.b.c', 'd', 'metadata.e'])!;
    expect(customLabelPairs(spec, [{ a: 'header' }, { b: { c: 'key' } }, { a: 'request', b: { c: 'request' }, d: 'plain', e: ['no'] }]))
      .toEqual(['metadata_a', 'header', 'metadata_b_c', 'key', 'd', 'plain', 'metadata_e', 'None']);
    // A source that has the key hides the later ones, even with null there (Python's {**a, **b}).
    expect(customLabelPairs(spec, [{ a: null }, { a: 'later' }]).slice(0, 2)).toEqual(['metadata_a', 'None']);
  });

  it('keeps at most 100 UTF-16 units of a value, never half a surrogate pair, and no line breaks', () => {
    expect(customLabelValue(`${'x'.repeat(99)}😀tail`)).toBe('x'.repeat(99));
    expect(customLabelValue('a\u2028b\u2029c\r\nd\u0001e\tf\u007f')).toBe('abc de\tf');
    expect(customLabelValue('lone \ud800 surrogate')).toBe('lone \ufffd surrogate');
  });

  it('renders custom labels sorted among the metric\'s own, escaped; bucket lines place le among them', () => {
    const l = [...M.proxyTotal.labels.map((n) => (n === 'status_code' ? '200' : 'None')), 'metadata_foo', 'say "hi"\\', 'a_first', 'A'];
    const h = [...M.requestLatency.labels.map(() => 'None'), 'metadata_foo', 'v'];
    const text = renderMetrics([
      { m: M.proxyTotal.name, l, v: 1 },
      { m: M.requestLatency.name, l: h, v: 0, b: LATENCY_BUCKETS.map((_, i) => (i === 0 ? 1 : 0)), s: 0.001, n: 1 },
    ]);
    const families = parsePrometheus(text);
    expect(text).toContain('litellm_proxy_total_requests_metric_total{a_first="A",api_key_alias="None",end_user="None",hashed_api_key="None",metadata_foo="say \\"hi\\"\\\\",requested_model="None"');
    expect(samplesOf(families, 'litellm_proxy_total_requests_metric_total')[0]?.labels.metadata_foo).toBe('say "hi"\\');
    expect(text).toContain('litellm_request_total_latency_metric_bucket{api_key_alias="None",end_user="None",hashed_api_key="None",le="0.005",metadata_foo="v",model="None"');
  });
});

describe('custom_prometheus_metadata_labels in config.yaml', () => {
  const withLabels = (labels: unknown) => validateConfig({ litellm_settings: { custom_prometheus_metadata_labels: labels } }, {});

  it('loads without a warning', () => {
    const result = withLabels(['metadata.foo', 'metadata.bar']);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.warnings.filter((w) => w.includes('custom_prometheus_metadata_labels'))).toEqual([]);
    expect(result.config.litellm_settings.custom_prometheus_metadata_labels).toEqual(['metadata.foo', 'metadata.bar']);
  });

  it('refuses entries that are not paths, labels the metrics already have, and two entries naming one label', () => {
    const errors = (labels: unknown) => {
      const result = withLabels(labels);
      return result.ok ? [] : result.errors.join('\n');
    };
    expect(errors('metadata.foo')).toContain('expected a list of metadata paths');
    expect(errors(['metadata..foo'])).toContain('expected a dotted path into the metadata');
    expect(errors([''])).toContain('must not be empty');
    expect(errors(['team'])).toContain('becomes the label "team", which the metrics already have');
    expect(errors(['le'])).toContain('which the metrics already have');
    expect(errors(['__name'])).toContain('names starting with "__" are Prometheus\'s own');
    expect(errors(['metadata.a-b', 'metadata.a_b'])).toContain('becomes the label "metadata_a_b", as "metadata.a-b" does');
    expect(errors(Array.from({ length: 21 }, (_, i) => `metadata.k${i}`))).toContain('expected at most 20 labels');
    // /metrics needs no key: no label may read what may hold a secret.
    expect(errors(['metadata.callback_settings.callback_vars.langfuse_secret_key'])).toContain('which may hold a secret');
    expect(errors(['metadata.api_key'])).toContain('which may hold a secret');
  });
});
