import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { ask, FAQ, failed, storeOf } from './support/file-search.ts';
import { decoded, INPUT, useBatchesStack } from './support/provider-objects.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * Objects made by a call through a wildcard model group (`wild/*` → `openai/*`) carry the deployment the call
 * was served by, made concrete for the model it named (`dep-wild:gpt-4o-mini`): the files a file_search call
 * finds, and the vector stores and containers made from them, are read, used and deleted back at the account
 * that keeps them, as those of any group are.
 */

const { env, client } = useBatchesStack((url) => `
  - model_name: "wild/*"
    litellm_params: {model: "openai/*", api_base: "${url}/acct-a/v1", api_key: sk-acct-a-0001}
    model_info: {id: dep-wild}
`);

const fileRequests = () => env.fake.requests.filter((r) => /\/files(\/|$)/.test(r.path));
const modelCalls = () => env.fake.requests.filter((r) => /\/(responses|chat\/completions)$/.test(r.path));

/** A master key's file_search call through the wildcard group over a provider's own store id, and the file id its answer gives out. */
async function foundThroughWildcard(master: OpenAI) {
  await storeOf(master, 'batch-a');
  const upstreamStore = [...env.fake.stores.keys()][0]!;
  const upstreamFile = [...env.fake.files.keys()][0]!;
  const response = await ask(master, 'wild/gpt-4o-mini', [upstreamStore]);
  expect(modelCalls().at(-1)).toMatchObject({ path: '/acct-a/v1/responses', json: expect.objectContaining({ model: 'gpt-4o-mini' }) });
  const fileId = (response.output[0] as OpenAI.Responses.ResponseFileSearchToolCall).results![0]!.file_id!;
  expect(decoded(fileId, 'file-')).toMatch(new RegExp(`^litellm:${upstreamFile};model,wild/\\*;model_id,dep-wild:gpt-4o-mini;owner,master;sig,`));
  return { fileId, upstreamFile };
}

describe('objects made through a wildcard model group', () => {
  it('reads a file a file_search call through the group found, names it in a later call, and deletes it at its account', async () => {
    const master = client(TEST_MASTER_KEY);
    const { fileId, upstreamFile } = await foundThroughWildcard(master);

    const file = await master.files.retrieve(fileId);
    expect(file).toMatchObject({ id: fileId, filename: 'faq.txt' });
    expect(fileRequests().at(-1)).toMatchObject({ method: 'GET', path: `/acct-a/v1/files/${upstreamFile}` });
    expect(fileRequests().at(-1)!.headers.authorization).toBe('Bearer sk-acct-a-0001');
    expect(await (await master.files.content(fileId)).text()).toBe(FAQ);

    // Named in a call (of the group or of another of the account), it reaches the provider as the provider's id.
    const answer = await master.responses.create({
      model: 'batch-a', input: [{ role: 'user', content: [{ type: 'input_text', text: 'What are the rules?' }, { type: 'input_file', file_id: fileId }] }],
    });
    expect(answer.output_text).toContain('faq.txt');
    expect((modelCalls().at(-1)!.json as { input: unknown }).input).toEqual([
      { role: 'user', content: [{ type: 'input_text', text: 'What are the rules?' }, { type: 'input_file', file_id: upstreamFile }] },
    ]);

    const deleted = await master.files.delete(fileId);
    expect(deleted).toMatchObject({ id: fileId, deleted: true });
    expect(env.fake.files.has(upstreamFile)).toBe(false);
    // Gone at the provider: the provider is asked, and its 404 is the client's, in OpenAI's envelope.
    const asked = fileRequests().length;
    const gone = await failed(master.files.retrieve(fileId));
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect(fileRequests().slice(asked)).toMatchObject([{ method: 'GET', path: `/acct-a/v1/files/${upstreamFile}` }]);
    expect((gone as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ type: 'not_found_error', code: '404', message: expect.stringContaining('No such File object') });
  });

  it('keeps a vector store and a container made from such a file at its account, readable and usable in calls', async () => {
    const master = client(TEST_MASTER_KEY);
    const { fileId } = await foundThroughWildcard(master);

    // Named by no group, each goes where its file is: the wildcard group's deployment, signed into its id.
    const store = await master.vectorStores.create({ name: 'again', file_ids: [fileId] });
    expect(decoded(store.id, 'vs_')).toContain(';model,wild/*;model_id,dep-wild:gpt-4o-mini;');
    const upstreamStore = [...env.fake.stores.keys()].at(-1)!;
    expect((await master.vectorStores.retrieve(store.id)).id).toBe(store.id);
    const searched = await ask(master, 'wild/gpt-4o-mini', [store.id]);
    expect(searched.tools).toEqual([{ type: 'file_search', vector_store_ids: [store.id] }]);
    expect((modelCalls().at(-1)!.json as { tools: unknown }).tools).toEqual([{ type: 'file_search', vector_store_ids: [upstreamStore] }]);

    const box = await master.containers.create({ name: 'box', file_ids: [fileId] });
    expect(decoded(box.id, 'cntr_')).toContain(';model_id,dep-wild:gpt-4o-mini;');
    const upstreamBox = [...env.fake.containers.keys()].at(-1)!;
    expect((await master.containers.retrieve(box.id)).id).toBe(box.id);
    await master.responses.create({ model: 'wild/gpt-4o-mini', input: 'run it', tools: [{ type: 'code_interpreter', container: box.id }] });
    expect((modelCalls().at(-1)!.json as { tools: unknown }).tools).toEqual([{ type: 'code_interpreter', container: upstreamBox }]);
  });

  it('runs and reads back a batch whose input file a call through the group found', async () => {
    const master = client(TEST_MASTER_KEY);
    const input = await master.files.create({ file: await toFile(Buffer.from(INPUT), 'input.jsonl'), purpose: 'batch', model: 'batch-a' } as unknown as OpenAI.FileCreateParams);
    await master.vectorStores.create({ name: 'inputs', file_ids: [input.id], model: 'batch-a' } as OpenAI.VectorStoreCreateParams);
    const upstreamStore = [...env.fake.stores.keys()].at(-1)!;
    const found = await ask(master, 'wild/gpt-4o-mini', [upstreamStore], { input: 'chat completions' });
    const fileId = (found.output[0] as OpenAI.Responses.ResponseFileSearchToolCall).results![0]!.file_id!;
    expect(decoded(fileId, 'file-')).toContain(';model,wild/*;model_id,dep-wild:gpt-4o-mini;');

    const batch = await master.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(decoded(batch.id, 'batch_')).toContain(';model_id,dep-wild:gpt-4o-mini;');
    expect(batch.input_file_id).toBe(fileId);
    const read = await master.batches.retrieve(batch.id);
    expect(read).toMatchObject({ id: batch.id, input_file_id: fileId });
    expect(env.fake.requests.at(-1)).toMatchObject({ method: 'GET', path: `/acct-a/v1/batches/${[...env.fake.batches.keys()].at(-1)!}` });
  });

  it('refuses an id that names the wildcard group\'s deployment in another group, or for no model, sending nothing', async () => {
    const master = client(TEST_MASTER_KEY);
    const { fileId } = await foundThroughWildcard(master);
    const before = env.fake.requests.length;
    const altered = (from: string, to: string) => `file-${Buffer.from(decoded(fileId, 'file-').replace(from, to)).toString('base64url')}`;
    for (const id of [altered(';model,wild/*;', ';model,batch-a;'), altered('dep-wild:gpt-4o-mini', 'dep-wild:')]) {
      const refused = await failed(master.files.retrieve(id));
      expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
      expect((refused as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ type: 'not_found_error', param: 'file_id', message: expect.stringContaining('No such File object') });
    }
    expect(env.fake.requests.length).toBe(before);
  });
});
