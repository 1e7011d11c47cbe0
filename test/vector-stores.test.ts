import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { apiKeyOf, decoded, useBatchesStack } from './support/provider-objects.ts';

/**
 * OpenAI's Vector Stores API through the gateway, with the official openai client: a store is made in a
 * model group's account from the caller's own files, is the caller's alone to read, list, change, search
 * and delete, and every id it answers with is the caller's (the provider's never reach a key).
 */

const { env, admin, client, newKey, lastUpstream } = useBatchesStack();

const FAQ = 'Returns are accepted within 30 days.\nShipping takes five business days.\nThe warranty covers two years.';
const notFound = (attempt: Promise<unknown>) => attempt.then(() => 'answered', (e: unknown) => e);
/** Every provider id the fake holds (stores, files): none may reach a key. */
const providerIds = () => [...env.fake.stores.keys(), ...env.fake.files.keys(), ...[...env.fake.stores.values()].flatMap((s) => [...s.batches.keys()])];

/** A document uploaded through the gateway into a model group's account. */
const uploadDoc = async (openai: OpenAI, model: string, name = 'faq.txt', content = FAQ) =>
  openai.files.create({ file: await toFile(Buffer.from(content), name), purpose: 'assistants', model } as unknown as OpenAI.FileCreateParams);

/** A key's client naming its model group in the header, as vector store calls do. */
async function keyClient(user: string, model = 'batch-a') {
  return client(await newKey({ models: [model], user_id: user, tags: ['rag'] }), { 'x-litellm-model': model });
}

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
