import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedKey } from './support/keys.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/** Sample lines of one exposed metric: [labels, value]. */
function samples(text: string, name: string): [string, number][] {
  const out: [string, number][] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) out.push([m[2] ?? '', Number(m[3])]);
  }
  return out;
}

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, mock_response: "ok"}
`,
    // At most 8 label sets per metric (2 per shard), so a handful of keys overflows it.
    runtimeOnlyEnv: { TOLLGATE_METRICS_MAX_SERIES: '8' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('label-set cap', () => {
  it('keeps at most the configured number of series per metric and counts every update it dropped', async () => {
    const keys = await Promise.all(Array.from({ length: 16 }, (_, i) => seedKey(stack.db.url, { alias: `cap-key-${i}` })));
    for (const key of keys) {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
    }
    // Each call adds 1 to litellm_proxy_total_requests_metric, in its own series (one per key), or to the dropped count.
    const deadline = Date.now() + 10_000;
    let kept: [string, number][] = [];
    let dropped = 0;
    let text = '';
    while (Date.now() < deadline) {
      text = await (await fetch(`${stack.url}/metrics`)).text();
      kept = samples(text, 'litellm_proxy_total_requests_metric_total');
      dropped = samples(text, 'tollgate_metrics_series_dropped_total').find(([l]) => l === '{metric="litellm_proxy_total_requests_metric"}')?.[1] ?? 0;
      if (kept.reduce((n, [, v]) => n + v, 0) + dropped >= 16) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(kept.length).toBeLessThanOrEqual(8);
    expect(dropped).toBeGreaterThanOrEqual(8);
    expect(kept.reduce((n, [, v]) => n + v, 0) + dropped).toBe(16);
    // Each shard counts what it dropped; /metrics shows one series per label set, added up.
    const series = text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/ \S+$/, ''));
    expect(new Set(series).size).toBe(series.length);
  });
});
