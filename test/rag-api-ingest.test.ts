import { describe, expect, it } from 'vitest';
import { eventually } from './support/keys.ts';
import { b64, useRagStack } from './support/rag-stack.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * LiteLLM's RAG API through workerd (see ./support/rag-stack.ts): documents into stores: multipart into an
 * existing store, other owners' stores refused, several-MB uploads and chunking bounds, cleanup of an ingest
 * refused midway, the master key's raw store ids.
 */

const { env, newKey, ragClient, post } = useRagStack();

describe('RAG API', () => {
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

  it('deletes the store and the upload an ingest made when it is then refused (rpm_limit 1: the attachment is a second request)', async () => {
    const key = await newKey({ models: ['batch-a'], user_id: 'kim-rag', rpm_limit: 1 });
    const stores = env.fake.stores.size;
    const files = env.fake.files.size;
    const refused = await post(key, '/v1/rag/ingest', { file: { filename: 'a.txt', content: b64('Alpha line.') }, ingest_options: { vector_store: { model: 'batch-a' } } });
    expect(refused.status).toBe(429);
    // The store and the upload are deleted after the answer (waitUntil): asked for, then gone.
    await eventually(async () => env.fake.requests.some((r) => r.method === 'DELETE' && /\/vector_stores\/[^/]+$/.test(r.path)) || undefined);
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
});
