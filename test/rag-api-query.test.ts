import { describe, expect, it } from 'vitest';
import { decoded } from './support/provider-objects.ts';
import { b64, DOC, useRagStack } from './support/rag-stack.ts';

/**
 * LiteLLM's RAG API through workerd (see ./support/rag-stack.ts): queries grounded on an ingested document: the
 * search and the chat as LiteLLM places the context, both billed; a failed search; a streamed answer's cost.
 */

const { env, client, providerIds, ragClient, post, spendRows } = useRagStack();

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
