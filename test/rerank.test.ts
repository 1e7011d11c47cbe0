import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from './fakes/upstream.ts';
import { eventually, spendLogRow } from './support/keys.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * `POST /rerank` (and /v1, /v2), Cohere's format as LiteLLM serves it: sent
 * to Cohere's rerank API or a vLLM server's, answered as the provider
 * answered, priced per search (Cohere's billed search units) or per token
 * (vLLM's usage).
 */

let fake: FakeUpstream;
let stack: TestStack;

const ranked = (extra: Record<string, unknown>) => ({ id: 'rr-1', results: [{ index: 1, relevance_score: 0.92 }, { index: 0, relevance_score: 0.11 }], ...extra });

beforeAll(async () => {
  fake = await startFakeUpstream();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: cohere-rerank
    litellm_params: {model: cohere/rerank-v3.5, api_base: "${fake.url}/v2", api_key: co-upstream-0001}
    model_info: {mode: rerank, input_cost_per_query: 0.002}
  - model_name: cohere-english
    litellm_params: {model: cohere/rerank-english-v3.0, api_base: "${fake.url}/v2", api_key: co-upstream-0002}
  - model_name: vllm-rerank
    litellm_params: {model: hosted_vllm/BAAI/bge-reranker-v2-m3, api_base: "${fake.url}/v1", input_cost_per_token: 0.00000002}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: "${fake.url}/v1", api_key: sk-0003}
`,
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

const rerank = (path: string, body: Record<string, unknown>) => fetch(`${stack.url}${path}`, {
  method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
});

describe('/rerank', () => {
  it('sends Cohere the query and documents, answers as it did, and prices its billed searches', async () => {
    fake.enqueue({ kind: 'json', body: ranked({ meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } } }) });
    const res = await rerank('/v2/rerank', { model: 'cohere-rerank', query: 'capital of France?', documents: ['Berlin is in Germany', 'Paris is the capital of France'], top_n: 2 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ results: [{ index: 1, relevance_score: 0.92 }, { index: 0, relevance_score: 0.11 }] });
    const [sent] = fake.requests;
    expect([sent!.path, sent!.headers.authorization]).toEqual(['/v2/rerank', 'Bearer co-upstream-0001']);
    expect(sent!.body).toEqual({ model: 'rerank-v3.5', query: 'capital of France?', documents: ['Berlin is in Germany', 'Paris is the capital of France'], top_n: 2 });
    expect(res.headers.get('x-litellm-response-cost')).toBe('0.002');
    const row = await eventually(() => spendLogRow(stack.db.url, res.headers.get('x-litellm-call-id') ?? ''));
    expect(row).toMatchObject({ call_type: 'arerank', model_group: 'cohere-rerank', custom_llm_provider: 'cohere', status: 'success' });
    expect(row.spend as number).toBeCloseTo(0.002, 12);
  });

  it('prices a Cohere model the config does not price from the bundled price table', async () => {
    fake.enqueue({ kind: 'json', body: ranked({ meta: { billed_units: { search_units: 2 } } }) });
    const res = await rerank('/rerank', { model: 'cohere-english', query: 'q', documents: ['a', 'b'] });
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(2 * 0.002, 12);
  });

  it('sends a vLLM server its rerank request and prices the tokens it reports, on every path', async () => {
    for (const path of ['/rerank', '/v1/rerank']) {
      fake.enqueue({ kind: 'json', body: ranked({ model: 'BAAI/bge-reranker-v2-m3', usage: { total_tokens: 42 } }) });
      const res = await rerank(path, { model: 'vllm-rerank', query: 'q', documents: ['a', 'b'] });
      expect(res.status).toBe(200);
      expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(42 * 0.00000002, 15);
    }
    expect(fake.requests.map((r) => r.path)).toEqual(['/v1/rerank', '/v1/rerank']);
  });

  it('refuses a provider without rerank and bad input, with no upstream call', async () => {
    const openai = await rerank('/rerank', { model: 'gpt-4o', query: 'q', documents: ['a'] });
    expect(openai.status).toBe(400);
    expect(((await openai.json()) as { error: { message: string } }).error.message).toContain('does not serve /rerank');
    const noDocs = await rerank('/rerank', { model: 'cohere-rerank', query: 'q', documents: [] });
    expect(noDocs.status).toBe(400);
    expect(((await noDocs.json()) as { error: { message: string } }).error.message).toContain('documents must not be empty');
    expect(fake.requests).toHaveLength(0);
  });
});
