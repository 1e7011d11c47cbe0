import { describe, expect, it } from 'vitest';
import { GatewayError } from '../worker/errors.ts';
import { exceptionClass, modelGroupLabel, statusLabel } from '../worker/telemetry/metrics/labels.ts';
import { LATENCY_BUCKETS, M, METRIC_LIST } from '../worker/telemetry/metrics/registry.ts';
import { formatValue, renderMetrics } from '../worker/telemetry/metrics/render.ts';
import { parsePrometheus, samplesOf, valueOf } from './support/prometheus.ts';

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
