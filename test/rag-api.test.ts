import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { apiKeyOf, decoded } from './support/provider-objects.ts';
import { useVectorStoresStack } from './support/vector-stores.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * LiteLLM's RAG API (`/v1/rag/ingest`, `/v1/rag/query`) through workerd, over the fake OpenAI Files and
 * Vector Stores: a document goes into one of the caller's stores (ids the gateway's, the caller's own), and
 * a query searches that store (billed as a search) and answers a chat completion grounded on what it found
 * (billed as a chat), the context placed as LiteLLM places it.
 */

const { env, admin, client, newKey, keySpend, providerIds } = useVectorStoresStack();

const DOC = 'Returns are accepted within 30 days.\nShipping takes five business days.\nThe warranty covers two years.';
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A key (and its openai client) that may call both groups of account A. */
async function ragClient(user: string, models = ['batch-a', 'batch-a-cheap']) {
  const key = await newKey({ models, user_id: user });
  return { key, openai: client(key) };
}

/** A raw POST to the gateway, for the error envelope and the headers. */
async function post(key: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${env.stack.url}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, ...(body instanceof FormData ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body instanceof FormData ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

const spendRows = (key: string, count: number) => eventually(async () => {
  const rows = await query(env.stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1 ORDER BY "startTime"', [sha256(key)]);
  return rows.length >= count ? rows : undefined;
});

describe('RAG API', () => {
  it('ingests a base64 document into a new store of the caller\'s, then answers a query grounded on it, both billed', async () => {
    const { key, openai } = await ragClient('dana-rag');
    const ingested = await openai.post('/rag/ingest', {
      body: {
        file: { filename: 'faq.txt', content: b64(DOC), content_type: 'text/plain' },
        ingest_options: { name: 'faq', vector_store: { custom_llm_provider: 'openai', model: 'batch-a-cheap' }, chunking_strategy: { chunk_size: 400, chunk_overlap: 100 } },
      },
    }) as Record<string, string>;
    expect(ingested).toMatchObject({ status: 'completed' });
    expect(ingested.id).toMatch(/^ingest_/);
    expect(decoded(ingested.vector_store_id!, 'vs_')).toContain(';model,batch-a-cheap;model_id,dep-a-cheap;owner,user:dana-rag;sig,');
    expect(decoded(ingested.file_id!, 'file-')).toContain(';owner,user:dana-rag;sig,');
    // The document as sent, in a store of the caller's, attached with LiteLLM's chunking as OpenAI's.
    const [upstreamFile] = [...env.fake.files.values()];
    expect(upstreamFile!.content.toString()).toBe(DOC);
    expect(upstreamFile!.purpose).toBe('assistants');
    const [store] = [...env.fake.stores.values()];
    expect(store!.name).toBe('faq');
    expect(store!.metadata).toMatchObject({ tollgate_owner: 'user:dana-rag', tollgate_model_id: 'dep-a-cheap' });
    expect([...store!.files.values()].map((f) => [f.id, f.chunking_strategy])).toEqual([
      [upstreamFile!.id, { type: 'static', static: { max_chunk_size_tokens: 400, chunk_overlap_tokens: 100 } }],
    ]);
    // The store is the caller's through the Vector Stores API too.
    const files = await client(key, { 'x-litellm-model': 'batch-a-cheap' }).vectorStores.files.list(ingested.vector_store_id!);
    expect(files.data.map((f) => f.id)).toEqual([ingested.file_id]);

    const res = await post(key, '/v1/rag/query', {
      model: 'batch-a',
      messages: [{ role: 'system', content: 'Answer briefly.' }, { role: 'user', content: 'how many days for returns' }],
      retrieval_config: { vector_store_id: ingested.vector_store_id, custom_llm_provider: 'openai', top_k: 2 },
    });
    expect(res.status).toBe(200);
    expect(res.json.object).toBe('chat.completion');
    const found = res.json.choices[0].message.provider_specific_fields.search_results;
    expect(found.data[0]).toMatchObject({ file_id: ingested.file_id, content: [{ type: 'text', text: 'Returns are accepted within 30 days.' }] });
    // The search asked for top_k results; the chat got the context as a user message just before the question.
    const searched = env.fake.requests.find((r) => r.path.endsWith('/search'))!;
    expect(searched.json).toEqual({ query: 'how many days for returns', max_num_results: 2 });
    const chat = env.fake.requests.find((r) => r.path.endsWith('/chat/completions'))!;
    expect(chat.path).toBe('/acct-a/v1/chat/completions');
    const sent = (chat.json as { messages: { role: string; content: string }[] }).messages;
    expect(sent.map((m) => m.role)).toEqual(['system', 'user', 'user']);
    expect(sent[1]!.content).toMatch(/^Context:\n\nReturns are accepted within 30 days\.\n\n/);
    expect(sent[2]!.content).toBe('how many days for returns');
    expect(JSON.stringify([ingested, res.json])).not.toMatch(new RegExp(providerIds().join('|')));

    // The search at the store's deployment's input_cost_per_query, the chat at batch-a's token prices.
    const chatCost = 10 * 0.000002 + 5 * 0.000008;
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(0.001 + chatCost, 10);
    const rows = await spendRows(key, 3);
    expect(rows).toHaveLength(3);
    const byType = Object.fromEntries(rows.map((r) => [r.call_type, r]));
    expect(Object.keys(byType).sort()).toEqual(['acompletion', 'avector_store_create', 'avector_store_search']);
    expect(Number(byType.avector_store_search!.spend)).toBeCloseTo(0.001, 10);
    expect(byType.avector_store_search!.model_group).toBe('batch-a-cheap');
    expect(Number(byType.acompletion!.spend)).toBeCloseTo(chatCost, 10);
    expect(byType.acompletion!.model_group).toBe('batch-a');
  });

  it('ingests a multipart upload into the caller\'s existing store; another owner\'s store is a 404 on both routes, before any provider', async () => {
    const { key } = await ragClient('dora-rag');
    const first = await post(key, '/rag/ingest', { file: { filename: 'a.txt', content: b64('Alpha line.') }, ingest_options: { vector_store: { model: 'batch-a' } } });
    expect(first.status).toBe(200);
    const form = new FormData();
    form.append('file', new Blob(['Beta line about shipping.'], { type: 'text/plain' }), 'b.txt');
    form.append('request', JSON.stringify({ ingest_options: { vector_store: { vector_store_id: first.json.vector_store_id } } }));
    const second = await post(key, '/v1/rag/ingest', form);
    expect(second.status).toBe(200);
    expect(second.json.vector_store_id).toBe(first.json.vector_store_id);
    expect(env.fake.stores.size).toBe(1);
    expect([...env.fake.stores.values()][0]!.files.size).toBe(2);

    const { key: other } = await ragClient('omar-rag');
    const before = env.fake.requests.length;
    const stolenIngest = await post(other, '/v1/rag/ingest', { file: { filename: 'x.txt', content: b64('x') }, ingest_options: { vector_store: { vector_store_id: first.json.vector_store_id } } });
    const stolenQuery = await post(other, '/v1/rag/query', { model: 'batch-a', messages: [{ role: 'user', content: 'shipping' }], retrieval_config: { vector_store_id: first.json.vector_store_id } });
    // Another owner's file into one's own new store: the 404 of an unknown file.
    const stolenFile = await post(other, '/v1/rag/ingest', { file_id: first.json.file_id, ingest_options: { vector_store: { model: 'batch-a' } } });
    for (const refused of [stolenIngest, stolenQuery, stolenFile]) {
      expect(refused.status).toBe(404);
      expect(refused.json.error).toMatchObject({ type: 'not_found_error', code: '404' });
    }
    expect(env.fake.requests.length).toBe(before);
  });

  it('answers a failed search with a 5xx in the OpenAI envelope and makes no chat call', async () => {
    const { key } = await ragClient('fay-rag');
    const ingested = await post(key, '/v1/rag/ingest', { file: { filename: 'faq.txt', content: b64(DOC) }, ingest_options: { vector_store: { model: 'batch-a' } } });
    env.fake.failNext(500);
    const res = await post(key, '/v1/rag/query', { model: 'batch-a', messages: [{ role: 'user', content: 'returns' }], retrieval_config: { vector_store_id: ingested.json.vector_store_id } });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.json.error.message).toEqual(expect.any(String));
    expect(res.json.error.code).toBe(String(res.status));
    expect(env.fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toEqual([]);
    expect(env.fake.requests.filter((r) => r.path.endsWith('/search'))).toHaveLength(1);
    expect(JSON.stringify(res.json)).not.toContain('sk-acct-a');
  });

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

  it('ingests a several-MB base64 document; refuses chunking out of OpenAI\'s bounds before anything is made', async () => {
    const { key } = await ragClient('ivy-rag');
    const big = Buffer.alloc(6 * 1024 * 1024, 'All work and no play. ');
    const ingested = await post(key, '/v1/rag/ingest', { file: { filename: 'big.txt', content: big.toString('base64') }, ingest_options: { vector_store: { model: 'batch-a' } } });
    expect(ingested.status).toBe(200);
    const upstream = [...env.fake.files.values()].at(-1)!;
    expect(upstream.content.equals(big)).toBe(true);
    const before = env.fake.requests.length;
    const stores = env.fake.stores.size;
    for (const chunking of [{ chunk_size: 50, chunk_overlap: 10 }, { chunk_size: 400, chunk_overlap: 300 }]) {
      const refused = await post(key, '/v1/rag/ingest', { file: { filename: 'a.txt', content: b64('a') }, ingest_options: { vector_store: { model: 'batch-a' }, chunking_strategy: chunking } });
      expect([refused.status, refused.json.error.param]).toEqual([400, 'ingest_options.chunking_strategy']);
    }
    expect(env.fake.requests.length).toBe(before);
    expect(env.fake.stores.size).toBe(stores);
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

  it('deletes the store and the upload an ingest made when it is then refused (rpm_limit 1: the attachment is a second request)', async () => {
    const key = await newKey({ models: ['batch-a'], user_id: 'kim-rag', rpm_limit: 1 });
    const stores = env.fake.stores.size;
    const files = env.fake.files.size;
    const refused = await post(key, '/v1/rag/ingest', { file: { filename: 'a.txt', content: b64('Alpha line.') }, ingest_options: { vector_store: { model: 'batch-a' } } });
    expect(refused.status).toBe(429);
    expect(env.fake.requests.some((r) => r.method === 'DELETE' && /\/vector_stores\/[^/]+$/.test(r.path))).toBe(true);
    await eventually(async () => (env.fake.stores.size === stores && env.fake.files.size === files) || undefined);
  });

  it('lets the master key ingest into a store by its raw id, the group named by ingest_options.vector_store.model', async () => {
    const made = await post(TEST_MASTER_KEY, '/v1/rag/ingest', { file: { filename: 'a.txt', content: b64('Alpha line.') }, ingest_options: { vector_store: { model: 'batch-a' } } });
    expect(made.status).toBe(200);
    const raw = [...env.fake.stores.keys()].at(-1)!;
    const added = await post(TEST_MASTER_KEY, '/v1/rag/ingest', { file: { filename: 'b.txt', content: b64('Beta line.') }, ingest_options: { vector_store: { vector_store_id: raw, model: 'batch-a' } } });
    expect(added.status).toBe(200);
    expect(env.fake.stores.get(raw)!.files.size).toBe(2);
  });

  it('names the search\'s cost in a streamed answer\'s x-litellm-response-cost', async () => {
    const { key } = await ragClient('lea-rag');
    const ingested = await post(key, '/v1/rag/ingest', { file: { filename: 'faq.txt', content: b64(DOC) }, ingest_options: { vector_store: { model: 'batch-a-cheap' } } });
    const res = await fetch(`${env.stack.url}/v1/rag/query`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'batch-a', stream: true, mock_response: 'Thirty days.', messages: [{ role: 'user', content: 'returns' }], retrieval_config: { vector_store_id: ingested.json.vector_store_id } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(0.001, 10);
    expect(await res.text()).toContain('Thirty');
  });
});
