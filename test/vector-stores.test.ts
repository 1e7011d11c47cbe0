import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { apiKeyOf, decoded } from './support/provider-objects.ts';
import { useVectorStoresStack } from './support/vector-stores.ts';

/**
 * OpenAI's Vector Stores API through the gateway, with the official openai client: a store is made in a
 * model group's account from the caller's own files, is the caller's alone to read, list, change, search
 * and delete, and every id it answers with is the caller's (the provider's never reach a key).
 * Files, file batches, billing, cursors and budgets: vector-stores-files.test.ts.
 */

const { env, client, lastUpstream, notFound, providerIds, uploadDoc, keyClient } = useVectorStoresStack();

describe('Vector stores', () => {
  it('are made from the caller\'s own files, searched with the caller\'s file ids, and name no provider id', async () => {
    const dave = await keyClient('dave-vs');
    const file = await uploadDoc(dave, 'batch-a');
    const store = await dave.vectorStores.create({ name: 'faq', file_ids: [file.id], metadata: { team: 'support', tollgate_owner: 'user:erin-vs' } });
    expect(store).toMatchObject({ object: 'vector_store', name: 'faq', metadata: { team: 'support' }, file_counts: { completed: 1, total: 1 } });
    expect(decoded(store.id, 'vs_')).toContain(';model,batch-a;model_id,dep-a;owner,user:dave-vs;sig,');
    const created = lastUpstream(/\/vector_stores$/);
    const upstreamFile = [...env.fake.files.keys()][0]!;
    expect(created.path).toBe('/acct-a/v1/vector_stores');
    expect(created.headers['openai-beta']).toBe('assistants=v2');
    // The provider's file id, and the gateway's owner over the client's claim.
    expect(created.json).toEqual({ name: 'faq', file_ids: [upstreamFile], metadata: { team: 'support', tollgate_owner: 'user:dave-vs', tollgate_model_id: 'dep-a' } });

    const results = await dave.vectorStores.search(store.id, { query: 'returns days' });
    expect(results.data.length).toBeGreaterThan(0);
    expect(results.data[0]).toMatchObject({ file_id: file.id, filename: 'faq.txt', content: [{ type: 'text', text: 'Returns are accepted within 30 days.' }] });
    const files = await dave.vectorStores.files.list(store.id);
    expect(files.data.map((f) => [f.id, f.vector_store_id])).toEqual([[file.id, store.id]]);
    const read = await dave.vectorStores.retrieve(store.id);
    expect(read.id).toBe(store.id);

    const shown = JSON.stringify([store, results, files.data, read]);
    for (const id of providerIds()) expect(shown).not.toContain(id);

    // Creating and searching are logged: a search at no cost where no price is configured.
    const key = apiKeyOf(dave);
    const rows = await eventually(async () => {
      const found = await query(env.stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND call_type LIKE $2 ORDER BY "startTime"', [sha256(key), 'avector_store_%']);
      return found.length === 2 ? found : undefined;
    });
    expect(rows.map((r) => [r.call_type, Number(r.spend), r.model_group, r.model_id, r.status])).toEqual([
      ['avector_store_create', 0, 'batch-a', 'dep-a', 'success'], ['avector_store_search', 0, 'batch-a', 'dep-a', 'success'],
    ]);
    expect(rows[0]!.request_id).toBe([...env.fake.stores.keys()][0]);
  });

  it('are listed to their owner only, paged by the gateway\'s ids', async () => {
    const dave = await keyClient('dave-list');
    const erin = await keyClient('erin-list');
    const mine = [];
    for (const name of ['one', 'two', 'three']) mine.push(await dave.vectorStores.create({ name }));
    const hers = await erin.vectorStores.create({ name: 'hers' });
    const first = await dave.vectorStores.list({ limit: 2 });
    expect(first.data.map((s) => s.name)).toEqual(['three', 'two']);
    expect(first.has_more).toBe(true);
    const all = [];
    for await (const store of dave.vectorStores.list({ limit: 2 })) all.push(store.id);
    expect(all).toEqual(mine.map((s) => s.id).reverse());
    expect((await erin.vectorStores.list()).data.map((s) => s.id)).toEqual([hers.id]);
    // Another group of the same account lists none of them: a store is listed through its own group.
    const cheap = await keyClient('dave-list', 'batch-a-cheap');
    expect((await cheap.vectorStores.list()).data).toEqual([]);
  });

  it('of another owner are the 404 of an unknown id, on every route, before anything reaches the provider', async () => {
    const dave = await keyClient('dave-own');
    const erin = await keyClient('erin-own');
    const davesFile = await uploadDoc(dave, 'batch-a');
    const store = await dave.vectorStores.create({ name: 'private', file_ids: [davesFile.id] });
    const erinsFile = await uploadDoc(erin, 'batch-a', 'mine.txt', 'Erin owns this.');
    const erinsStore = await erin.vectorStores.create({ name: 'erin' });
    const before = env.fake.requests.length;
    const attempts = [
      () => erin.vectorStores.retrieve(store.id),
      () => erin.vectorStores.update(store.id, { name: 'taken' }),
      () => erin.vectorStores.search(store.id, { query: 'returns' }),
      () => erin.vectorStores.delete(store.id),
      () => erin.vectorStores.files.create(store.id, { file_id: erinsFile.id }),
      () => erin.vectorStores.files.list(store.id),
      () => erin.vectorStores.files.retrieve(davesFile.id, { vector_store_id: store.id }),
      () => erin.vectorStores.files.delete(davesFile.id, { vector_store_id: store.id }),
      () => erin.vectorStores.fileBatches.create(store.id, { file_ids: [erinsFile.id] }),
      // Dave's file into Erin's own store, or into a new one.
      () => erin.vectorStores.files.create(erinsStore.id, { file_id: davesFile.id }),
      () => erin.vectorStores.fileBatches.create(erinsStore.id, { file_ids: [erinsFile.id, davesFile.id] }),
      () => erin.vectorStores.create({ name: 'stolen', file_ids: [davesFile.id] }),
    ];
    for (const attempt of attempts) expect(await notFound(attempt())).toBeInstanceOf(OpenAI.NotFoundError);
    expect(env.fake.requests.length).toBe(before);
    expect(env.fake.stores.get([...env.fake.stores.keys()][0]!)!.name).toBe('private');
  });

  it('refuse a provider\'s raw ids to keys; the master key names them with the group, lists every store and deletes any', async () => {
    const dave = await keyClient('dave-raw');
    const file = await uploadDoc(dave, 'batch-a');
    const store = await dave.vectorStores.create({ name: 'raw', file_ids: [file.id] });
    const [rawStore] = [...env.fake.stores.keys()];
    const rawFile = [...env.fake.files.keys()][0]!;
    const before = env.fake.requests.length;
    for (const attempt of [
      () => dave.vectorStores.retrieve(rawStore!),
      () => dave.vectorStores.search(rawStore!, { query: 'returns' }),
      () => dave.vectorStores.create({ name: 'x', file_ids: [rawFile] }),
      () => dave.vectorStores.files.create(store.id, { file_id: rawFile }),
      () => dave.vectorStores.files.retrieve(rawFile, { vector_store_id: store.id }),
    ]) expect(await notFound(attempt())).toBeInstanceOf(OpenAI.NotFoundError);
    expect(env.fake.requests.length).toBe(before);

    const master = client(apiKeyOf(env.master), { 'x-litellm-model': 'batch-a' });
    const viaRaw = await master.vectorStores.retrieve(rawStore!);
    expect(decoded(viaRaw.id, 'vs_')).toContain(';owner,master;');
    expect((await master.vectorStores.list()).data.map((s) => s.name)).toEqual(['raw']);
    // The master key changes a key's store without taking it: the owner's pairs stay.
    await master.vectorStores.update(store.id, { metadata: { stage: 'prod' } });
    expect(env.fake.stores.get(rawStore!)!.metadata).toEqual({ stage: 'prod', tollgate_owner: 'user:dave-raw', tollgate_model_id: 'dep-a' });
    expect((await dave.vectorStores.list()).data.map((s) => [s.id, s.metadata])).toEqual([[store.id, { stage: 'prod' }]]);
    // Answered with the master key's own id for it, as any id given to the master key is.
    const deleted = await master.vectorStores.delete(store.id);
    expect(deleted).toMatchObject({ object: 'vector_store.deleted', deleted: true });
    expect(decoded(deleted.id, 'vs_')).toContain(`litellm:${rawStore};model,batch-a;model_id,dep-a;owner,master;`);
    expect(env.fake.stores.size).toBe(0);
  });
});
