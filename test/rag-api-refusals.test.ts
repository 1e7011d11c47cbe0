import { describe, expect, it } from 'vitest';
import { eventually } from './support/keys.ts';
import { apiKeyOf } from './support/provider-objects.ts';
import { b64, DOC, useRagStack } from './support/rag-stack.ts';

/**
 * LiteLLM's RAG API through workerd (see ./support/rag-stack.ts): refusals and billing: bad input, budgets,
 * rpm_limit, and chats refused before or after their search.
 */

const { env, admin, client, newKey, keySpend, ragClient, post, spendRows } = useRagStack();

describe('RAG API', () => {
  it('refuses bad input with a 400 (and a key without the chat model with its 401) before anything is searched', async () => {
    const { key } = await ragClient('gil-rag', ['batch-a-cheap']);
    const ingested = await post(key, '/v1/rag/ingest', { file: { filename: 'faq.txt', content: b64(DOC) }, ingest_options: { vector_store: { model: 'batch-a-cheap' } } });
    const store = ingested.json.vector_store_id;
    const before = env.fake.requests.length;
    const refusals = [
      [await post(key, '/v1/rag/query', { model: 'batch-a-cheap', messages: [{ role: 'user', content: 'x' }] }), 400, 'retrieval_config'],
      [await post(key, '/v1/rag/query', { model: 'batch-a-cheap', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }], retrieval_config: { vector_store_id: store } }), 400, 'messages'],
      [await post(key, '/v1/rag/query', { model: 'batch-a', messages: [{ role: 'user', content: 'returns' }], retrieval_config: { vector_store_id: store } }), 401, 'model'],
      [await post(key, '/v1/rag/query', { model: 'batch-a-cheap', messages: [{ role: 'user', content: 'returns' }], retrieval_config: { vector_store_id: store }, rerank: { enabled: true, model: 'r' } }), 400, 'rerank'],
      [await post(key, '/v1/rag/ingest', { file_url: 'http://169.254.169.254/latest', ingest_options: { vector_store: { model: 'batch-a-cheap' } } }), 400, 'file_url'],
      [await post(key, '/v1/rag/ingest', { file: { filename: 'a.txt', content: b64('a') } }), 400, 'ingest_options'],
      [await post(key, '/v1/rag/ingest', { file: { filename: 'a.txt', content: b64('a') }, ingest_options: { vector_store: { custom_llm_provider: 'bedrock', model: 'batch-a-cheap' } } }), 400, 'ingest_options.vector_store.custom_llm_provider'],
      [await post(key, '/v1/rag/ingest', { file: { filename: 'a.txt', content: b64('a') }, ingest_options: { vector_store: {} } }), 400, 'model'],
    ] as const;
    for (const [res, status, param] of refusals) {
      expect([res.status, res.json.error?.param]).toEqual([status, expect.stringContaining(param)]);
      expect(res.json.error).toMatchObject({ message: expect.any(String), type: expect.any(String), code: String(status) });
    }
    expect(env.fake.requests.length).toBe(before);
    expect(apiKeyOf(client(key))).toBe(key);
  });

  it('leaves nothing behind for a key over its budget: no upload without a new store, and an upload it may not attach is deleted', async () => {
    const { key } = await ragClient('hal-rag', ['batch-a-cheap']);
    const ingested = await post(key, '/v1/rag/ingest', { file: { filename: 'faq.txt', content: b64(DOC) }, ingest_options: { vector_store: { model: 'batch-a-cheap' } } });
    await admin.ok('/key/update', { key, max_budget: 0.0015 });
    // Searches at 0.001 each against a budget of 0.0015: the second spends past it.
    const ask = { model: 'batch-a-cheap', messages: [{ role: 'user', content: 'returns' }], retrieval_config: { vector_store_id: ingested.json.vector_store_id } };
    const spent = await eventually(async () => {
      const res = await post(key, '/v1/rag/query', ask);
      return res.status === 429 ? res : undefined;
    });
    expect(spent.json.error.type).toBe('budget_exceeded');
    const filesBefore = env.fake.files.size;
    const requestsBefore = env.fake.requests.length;
    const fresh = await post(key, '/v1/rag/ingest', { file: { filename: 'b.txt', content: b64('b') }, ingest_options: { vector_store: { model: 'batch-a-cheap' } } });
    expect([fresh.status, fresh.json.error.type]).toEqual([429, 'budget_exceeded']);
    expect(env.fake.requests.length).toBe(requestsBefore);
    const existing = await post(key, '/v1/rag/ingest', { file: { filename: 'c.txt', content: b64('c') }, ingest_options: { vector_store: { vector_store_id: ingested.json.vector_store_id } } });
    expect([existing.status, existing.json.error.type]).toEqual([429, 'budget_exceeded']);
    await eventually(async () => env.fake.files.size === filesBefore || undefined);
    expect([...env.fake.stores.values()][0]!.files.size).toBe(1);
  });

  it('refuses a query its chat would refuse (temperature 5) before searching, and counts a served query once against rpm_limit', async () => {
    const { key } = await ragClient('jay-rag');
    const ingested = await post(key, '/v1/rag/ingest', { file: { filename: 'faq.txt', content: b64(DOC) }, ingest_options: { vector_store: { model: 'batch-a-cheap' } } });
    const ask = { model: 'batch-a', messages: [{ role: 'user', content: 'returns' }], retrieval_config: { vector_store_id: ingested.json.vector_store_id } };
    const before = env.fake.requests.length;
    const refused = await post(key, '/v1/rag/query', { ...ask, temperature: 5 });
    expect([refused.status, refused.json.error.code]).toEqual([400, '400']);
    expect(env.fake.requests.length).toBe(before);

    const limited = await newKey({ models: ['batch-a', 'batch-a-cheap'], user_id: 'jay-rag', rpm_limit: 1 });
    const served = await post(limited, '/v1/rag/query', ask);
    expect(served.status).toBe(200);
    expect(served.json.choices[0].message.provider_specific_fields.search_results.data.length).toBeGreaterThan(0);
    // The next query in the minute is refused before it searches.
    const searchesBefore = env.fake.requests.filter((r) => r.path.endsWith('/search')).length;
    const again = await post(limited, '/v1/rag/query', ask);
    expect(again.status).toBe(429);
    expect(env.fake.requests.filter((r) => r.path.endsWith('/search')).length).toBe(searchesBefore);
    const rows = await spendRows(limited, 2);
    expect(rows.filter((r) => r.call_type === 'avector_store_search').map((r) => Number(r.spend))).toEqual([0.001]);
  });

  it('refuses a chat naming an unknown file or a provider\'s container before searching; a chat refused after its search has the search counted and billed', async () => {
    const { key } = await ragClient('max-rag');
    const ingested = await post(key, '/v1/rag/ingest', { file: { filename: 'faq.txt', content: b64(DOC) }, ingest_options: { vector_store: { model: 'batch-a-cheap' } } });
    const ask = { model: 'batch-a', messages: [{ role: 'user', content: 'returns' }], retrieval_config: { vector_store_id: ingested.json.vector_store_id } };
    const searches = () => env.fake.requests.filter((r) => r.path.endsWith('/search')).length;
    const before = env.fake.requests.length;
    const fileNope = await post(key, '/v1/rag/query', { ...ask, messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-nope' } }, { type: 'text', text: 'returns' }] }] });
    expect([fileNope.status, fileNope.json.error.type, fileNope.json.error.code]).toEqual([404, 'not_found_error', '404']);
    const container = await post(key, '/v1/rag/query', { ...ask, container: 'x' });
    expect([container.status, container.json.error.param]).toEqual([400, 'container']);
    expect(env.fake.requests.length).toBe(before);

    // A blocked end user (the chat's admission refuses it, after the search ran): the search is spent, so billed
    // into the key's budget and counted against its rpm_limit; the next query is refused before it searches.
    await admin.ok('/customer/block', { user_ids: ['cust-rag-blocked'] });
    const limited = await newKey({ models: ['batch-a', 'batch-a-cheap'], user_id: 'max-rag', rpm_limit: 1 });
    const blocked = await post(limited, '/v1/rag/query', { ...ask, user: 'cust-rag-blocked' });
    expect(blocked.status).toBe(403);
    expect(searches()).toBe(1);
    const again = await post(limited, '/v1/rag/query', ask);
    expect(again.status).toBe(429);
    expect(searches()).toBe(1);
    // The search at its price (the refused chat's row is a failure at 0, as any refused call's).
    const rows = await spendRows(limited, 2);
    expect(rows.filter((r) => r.call_type === 'avector_store_search').map((r) => [Number(r.spend), r.status])).toEqual([[0.001, 'success']]);
    expect(rows.filter((r) => r.call_type === 'acompletion').map((r) => [Number(r.spend), r.status])).toEqual([[0, 'failure']]);
    await eventually(async () => (await keySpend(limited)) >= 0.001 || undefined);

    const broke = await newKey({ models: ['batch-a', 'batch-a-cheap'], user_id: 'max-rag', max_budget: 0.0005 });
    expect((await post(broke, '/v1/rag/query', { ...ask, user: 'cust-rag-blocked' })).status).toBe(403);
    // The price lands in the key's limiter as the request ends: the search alone spent its budget.
    const spent = await eventually(async () => {
      const res = await post(broke, '/v1/rag/query', ask);
      return res.status === 429 ? res : undefined;
    });
    expect(spent.json.error.type).toBe('budget_exceeded');
  });
});
