import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { apiKeyOf, decoded } from './support/provider-objects.ts';
import { useVectorStoresStack } from './support/vector-stores.ts';

/**
 * A vector store's files through the gateway: attached one by one or in batches by the caller's ids, a
 * model group the key may call, searches billed where priced, list cursors naming no provider id, and what a
 * key over its budget may still do. Stores and their ownership: vector-stores.test.ts.
 */

const { env, admin, client, newKey, notFound, providerIds, uploadDoc, keyClient } = useVectorStoresStack();

describe('Vector stores', () => {
  it('take the owner\'s files one by one or in batches, read and detach them by the caller\'s ids, and are deleted', async () => {
    const dave = await keyClient('dave-files');
    const store = await dave.vectorStores.create({ name: 'docs' });
    const a = await uploadDoc(dave, 'batch-a', 'a.txt', 'Alpha policy text.');
    const b = await uploadDoc(dave, 'batch-a', 'b.txt', 'Beta policy text.');
    const attached = await dave.vectorStores.files.create(store.id, { file_id: a.id, attributes: { lang: 'en' } });
    expect(attached).toMatchObject({ id: a.id, object: 'vector_store.file', vector_store_id: store.id, attributes: { lang: 'en' } });
    const batch = await dave.vectorStores.fileBatches.create(store.id, { file_ids: [b.id] });
    expect(batch).toMatchObject({ object: 'vector_store.files_batch', vector_store_id: store.id, file_counts: { completed: 1 } });
    expect(batch.id.startsWith('vsfb_')).toBe(true);
    expect(await dave.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id })).toEqual(batch);
    expect((await dave.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id })).data.map((f) => f.id)).toEqual([b.id]);
    // The batch id of one store opens no other's batch, nor another owner's.
    const erin = await keyClient('erin-files');
    expect(await notFound(erin.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id }))).toBeInstanceOf(OpenAI.NotFoundError);

    const page1 = await dave.vectorStores.files.list(store.id, { limit: 1 });
    expect(page1.data.map((f) => f.id)).toEqual([b.id]);
    const page2 = await dave.vectorStores.files.list(store.id, { limit: 1, after: page1.data[0]!.id });
    expect(page2.data.map((f) => f.id)).toEqual([a.id]);
    expect((await dave.vectorStores.files.retrieve(a.id, { vector_store_id: store.id })).id).toBe(a.id);
    expect(await dave.vectorStores.files.delete(a.id, { vector_store_id: store.id })).toEqual({ id: a.id, object: 'vector_store.file.deleted', deleted: true });
    const missing = await notFound(dave.vectorStores.files.retrieve(a.id, { vector_store_id: store.id }));
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    // The provider's refusal names the caller's ids, not its own.
    expect((missing as Error).message).toContain(a.id);
    for (const id of providerIds()) expect((missing as Error).message).not.toContain(id);

    const shown = JSON.stringify([attached, batch, page1, page2]);
    for (const id of providerIds()) expect(shown).not.toContain(id);
    expect((await dave.vectorStores.delete(store.id)).deleted).toBe(true);
    expect(await notFound(dave.vectorStores.retrieve(store.id))).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('need a model group the key may call, and a file of the group\'s account; a search is billed where a price is configured', async () => {
    const nogroup = client(await newKey({ models: ['batch-a'], user_id: 'kim-vs' }));
    expect(await notFound(nogroup.vectorStores.create({ name: 'x' }))).toBeInstanceOf(OpenAI.BadRequestError);
    const other = client(apiKeyOf(nogroup), { 'x-litellm-model': 'batch-b' });
    expect(await notFound(other.vectorStores.create({ name: 'x' }))).toBeInstanceOf(OpenAI.AuthenticationError);
    const both = await newKey({ models: ['batch-a', 'batch-b'], user_id: 'kim-vs' });
    const inA = await uploadDoc(client(both), 'batch-a');
    const refused = await notFound(client(both, { 'x-litellm-model': 'batch-b' }).vectorStores.create({ name: 'x', file_ids: [inA.id] }));
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toContain('another provider account');
    // Named by no group, a store goes where its first file is.
    const fromFile = await client(both).vectorStores.create({ name: 'x', file_ids: [inA.id] });
    expect(decoded(fromFile.id, 'vs_')).toContain(';model_id,dep-a;');

    // LiteLLM's route groups take the routes.
    const routed = client(await newKey({ models: ['batch-a'], user_id: 'kim-routes', allowed_routes: ['openai_routes'] }), { 'x-litellm-model': 'batch-a' });
    const listed = await routed.vectorStores.create({ name: 'routed' });
    expect((await routed.vectorStores.search(listed.id, { query: 'x' })).data).toEqual([]);

    const cheap = await keyClient('kim-priced', 'batch-a-cheap');
    const doc = await uploadDoc(cheap, 'batch-a-cheap');
    const store = await cheap.vectorStores.create({ file_ids: [doc.id] });
    await cheap.vectorStores.search(store.id, { query: 'warranty' });
    const row = await eventually(async () => (await query(env.stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND call_type = $2', [sha256(apiKeyOf(cheap)), 'avector_store_search']))[0]);
    expect(Number(row.spend)).toBeCloseTo(0.001);
  });
});

describe('a list that stops looking', () => {
  it('gives a cursor that names no provider id, and pages on from it to the caller\'s own', async () => {
    const gail = await keyClient('gail-vs');
    const own = await gail.vectorStores.create({ name: 'gail-first' });
    // Over a thousand stores of someone else made after it: the list stops after ten provider pages.
    const base = { object: 'vector_store' as const, created_at: 0, description: null, usage_bytes: 0, file_counts: { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 }, status: 'completed' as const, expires_after: null, expires_at: null, last_active_at: 0, prefix: '/acct-a', files: new Map(), batches: new Map() };
    const others: string[] = [];
    for (let i = 0; i < 1001; i++) {
      const id = `vs_other${String(i).padStart(5, '0')}`;
      others.push(id);
      env.fake.stores.set(id, { ...base, id, name: `other-${i}`, metadata: { tollgate_owner: 'user:hank-vs', tollgate_model_id: 'dep-a' } });
    }
    try {
      const list = async (after?: string) => (await fetch(`${env.stack.url}/v1/vector_stores?limit=5${after ? `&after=${after}` : ''}`, {
        headers: { authorization: `Bearer ${apiKeyOf(gail)}`, 'x-litellm-model': 'batch-a' },
      })).json() as Promise<{ data: { id: string }[]; has_more: boolean; last_id: string }>;
      const first = await list();
      expect(first.data).toEqual([]);
      expect(first.has_more).toBe(true);
      const cursor = first.last_id;
      expect(cursor).toMatch(/^cursor_/);
      // Sealed: neither its text nor its base64 holds another owner's (or any) provider id.
      const opened = Buffer.from(cursor.slice('cursor_'.length), 'base64url').toString('latin1');
      for (const id of [...others, ...env.fake.stores.keys()]) {
        expect(cursor).not.toContain(id);
        expect(opened).not.toContain(id);
      }
      const next = await list(cursor);
      expect(next.data.map((s) => s.id)).toEqual([own.id]);
      // A cursor not sealed by the gateway only positions nothing: the caller still sees only its own.
      const forged = await list(`cursor_${Buffer.from(others[500]!).toString('base64url')}`);
      for (const store of forged.data) expect(store.id).toBe(own.id);
    } finally {
      for (const id of others) env.fake.stores.delete(id);
    }
  });
});

describe('a key over its budget', () => {
  it('may still read its stores, but not add files to them, change them or search them: those are admitted as requests', async () => {
    // Searches at 0.001 each against a budget of 0.0015: the second spends past it.
    const ivy = await keyClient('ivy-vs', 'batch-a-cheap');
    const file = await uploadDoc(ivy, 'batch-a-cheap');
    const store = await ivy.vectorStores.create({ name: 'ivy' });
    await admin.ok('/key/update', { key: apiKeyOf(ivy), max_budget: 0.0015 });
    const refusal = (attempt: () => Promise<unknown>) => attempt().then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    const spent = await eventually(() => refusal(() => ivy.vectorStores.search(store.id, { query: 'returns' })));
    expect(spent).toMatchObject({ status: 429, error: { type: 'budget_exceeded' } });
    const before = env.fake.requests.length;
    for (const attempt of [
      () => ivy.vectorStores.files.create(store.id, { file_id: file.id }),
      () => ivy.vectorStores.fileBatches.create(store.id, { file_ids: [file.id] }),
      () => ivy.vectorStores.update(store.id, { expires_after: null }),
    ]) expect(await refusal(attempt)).toMatchObject({ status: 429, error: { type: 'budget_exceeded' } });
    // Nothing reached the provider; the store is still the owner's to read.
    expect(env.fake.requests.length).toBe(before);
    expect((await ivy.vectorStores.retrieve(store.id)).id).toBe(store.id);
  });
});
