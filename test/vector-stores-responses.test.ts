import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { fileSearchResponse, type FileSearchHit } from './fakes/openai-responses.ts';
import { ask, annotationsOf, failed, searchOf, storeOf, useFileSearchStack } from './support/file-search.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { apiKeyOf, decoded } from './support/provider-objects.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * A Responses API call's `file_search` tool names vector stores by the gateway's ids: the caller's own reach
 * the provider as the provider's ids, through a deployment of the stores' account only; anyone else's, or a
 * provider's raw id, is the 404 of an unknown store with nothing sent. The answer names the stores and the
 * files found by the caller's ids, streamed or not.
 */

const { env, client, providerIds, responseCalls, keyClient } = useFileSearchStack();

describe('file_search over vector stores in /v1/responses', () => {
  it('sends the provider\'s ids of the caller\'s stores and answers with the caller\'s store and file ids', async () => {
    const dave = await keyClient('dave-fs');
    const { file, store } = await storeOf(dave, 'batch-a');
    const upstreamStore = [...env.fake.stores.keys()][0]!;

    const response = await ask(dave, 'batch-a', [store.id]);
    const sent = responseCalls();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe('/acct-a/v1/responses');
    expect((sent[0]!.json as { tools: unknown }).tools).toEqual([{ type: 'file_search', vector_store_ids: [upstreamStore] }]);

    expect(response.tools).toEqual([{ type: 'file_search', vector_store_ids: [store.id] }]);
    const search = response.output[0] as OpenAI.Responses.ResponseFileSearchToolCall;
    expect(search.type).toBe('file_search_call');
    expect(search.results?.[0]).toMatchObject({ file_id: file.id, filename: 'faq.txt', text: 'Returns are accepted within 30 days.' });
    const message = response.output[1] as OpenAI.Responses.ResponseOutputMessage;
    expect((message.content[0] as OpenAI.Responses.ResponseOutputText).annotations).toEqual([expect.objectContaining({ type: 'file_citation', file_id: file.id })]);
    expect(response.output_text).toContain('30 days');
    const shown = JSON.stringify(response);
    for (const id of providerIds()) expect(shown).not.toContain(id);

    // Another group of the same account serves it too, for a key that may also call the store's group (as the store's routes ask).
    const both = await keyClient('dave-fs', ['batch-a-cheap', 'batch-a']);
    const again = await ask(both, 'batch-a-cheap', [store.id]);
    expect(responseCalls().at(-1)!.path).toBe('/acct-a/v1/responses');
    expect((again.output[0] as OpenAI.Responses.ResponseFileSearchToolCall).results?.[0]?.file_id).toBe(file.id);
    const cheapOnly = await keyClient('dave-fs', ['batch-a-cheap']);
    expect(await failed(ask(cheapOnly, 'batch-a-cheap', [store.id]))).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(responseCalls()).toHaveLength(2);
  });

  it('drops the file ids of a call whose stored prompt may bring stores of its own', async () => {
    const gail = await keyClient('gail-fs');
    const { store } = await storeOf(gail, 'batch-a');
    const response = await ask(gail, 'batch-a', [store.id], { prompt: { id: 'pmpt_faq' } });
    const search = response.output[0] as OpenAI.Responses.ResponseFileSearchToolCall;
    expect(search.results?.[0]).toMatchObject({ filename: 'faq.txt', text: 'Returns are accepted within 30 days.' });
    expect(search.results?.[0]).not.toHaveProperty('file_id');
    expect((response.output[1] as OpenAI.Responses.ResponseOutputMessage).content[0]).not.toHaveProperty('annotations.0.file_id');
    const shown = JSON.stringify(response);
    for (const id of providerIds()) expect(shown).not.toContain(id);
  });

  it('refuses another owner\'s store, a forged one and a provider\'s raw id with the 404 of an unknown store, sending nothing', async () => {
    const owner = await keyClient('owner-fs');
    const { store } = await storeOf(owner, 'batch-a');
    const upstreamStore = [...env.fake.stores.keys()][0]!;
    const other = await keyClient('other-fs');
    const forged = `vs_${Buffer.from(decoded(store.id, 'vs_').replace('owner,user:owner-fs', 'owner,user:other-fs')).toString('base64url')}`;
    for (const id of [store.id, forged, upstreamStore]) {
      const error = await failed(ask(other, 'batch-a', [id]));
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect((error as InstanceType<typeof OpenAI.NotFoundError>).message).toContain(`No such vector store: ${id}`);
    }
    // One of the caller's own beside another's: still refused.
    const { store: own } = await storeOf(other, 'batch-a');
    expect(await failed(ask(other, 'batch-a', [own.id, store.id]))).toBeInstanceOf(OpenAI.NotFoundError);
    expect(responseCalls()).toHaveLength(0);
    // Logged as refused calls are.
    const rows = await eventually(async () => {
      const found = await query(env.stack.db.url, 'SELECT status FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND call_type = $2', [sha256(apiKeyOf(other)), 'aresponses']);
      return found.length === 4 ? found : undefined;
    });
    expect(rows.every((r) => r.status === 'failure')).toBe(true);
  });

  it('lets the master key name a provider\'s own store id', async () => {
    const dave = await keyClient('dave-master-fs');
    const { store } = await storeOf(dave, 'batch-a');
    const upstreamStore = [...env.fake.stores.keys()][0]!;
    const upstreamFile = [...env.fake.files.keys()][0]!;
    const response = await ask(client(TEST_MASTER_KEY), 'batch-a', [upstreamStore]);
    expect((responseCalls()[0]!.json as { tools: unknown }).tools).toEqual([{ type: 'file_search', vector_store_ids: [upstreamStore] }]);
    expect(response.tools).toEqual([{ type: 'file_search', vector_store_ids: [upstreamStore] }]);
    const fileId = (response.output[0] as OpenAI.Responses.ResponseFileSearchToolCall).results![0]!.file_id!;
    expect(decoded(fileId, 'file-')).toMatch(new RegExp(`^litellm:${upstreamFile};model,batch-a;model_id,dep-a;owner,master;sig,`));
    // The gateway's id works for it too.
    const viaGateway = await ask(client(TEST_MASTER_KEY), 'batch-a', [store.id]);
    expect(viaGateway.tools).toEqual([{ type: 'file_search', vector_store_ids: [store.id] }]);
  });

  it('is served only by deployments of the stores\' account', async () => {
    const frank = await keyClient('frank-fs', ['batch-a', 'batch-b']);
    const { store } = await storeOf(frank, 'batch-a');
    const refused = await failed(ask(frank, 'batch-b', [store.id]));
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toContain('provider account of model group batch-a');
    expect(responseCalls()).toHaveLength(0);
    // A fallback of the stores' account serves it.
    const served = await ask(frank, 'batch-b', [store.id], { fallbacks: ['batch-a'] });
    expect(served.tools).toEqual([{ type: 'file_search', vector_store_ids: [store.id] }]);
    expect(responseCalls().map((r) => r.path)).toEqual(['/acct-a/v1/responses']);
    // Stores of two accounts in one call: a 400.
    const { store: inB } = await storeOf(client(apiKeyOf(frank), { 'x-litellm-model': 'batch-b' }), 'batch-b');
    const mixed = await failed(ask(frank, 'batch-a', [store.id, inB.id]));
    expect(mixed).toBeInstanceOf(OpenAI.BadRequestError);
    expect((mixed as Error).message).toContain('different provider accounts');
    expect(responseCalls()).toHaveLength(1);
  });

  it('keeps the master key\'s file ids when the answer echoes a store it did not name; a key\'s are dropped', async () => {
    const kim = await keyClient('kim-fs');
    const { file, store } = await storeOf(kim, 'batch-a');
    const upstreamStore = [...env.fake.stores.keys()][0]!;
    const upstreamFile = [...env.fake.files.keys()][0]!;
    const hit: FileSearchHit = { file_id: upstreamFile, filename: 'faq.txt', score: 1, text: 'Returns are accepted within 30 days.', attributes: {} };
    // A stored prompt's store, echoed beside the one named.
    const answer = () => fileSearchResponse({
      model: 'gpt-4o-mini', input: 'returns', tools: [{ type: 'file_search', vector_store_ids: [upstreamStore, 'vs_prompts_own'] }], include: ['file_search_call.results'],
    }, [hit]);

    env.fake.failNext(200, answer());
    const master = await ask(client(TEST_MASTER_KEY), 'batch-a', [store.id], { prompt: { id: 'pmpt_faq' } });
    expect(master.tools).toEqual([{ type: 'file_search', vector_store_ids: [store.id] }]);
    expect(decoded(searchOf(master).results![0]!.file_id!, 'file-')).toMatch(new RegExp(`^litellm:${upstreamFile};`));
    expect(annotationsOf(master)[0]).toMatchObject({ file_id: searchOf(master).results![0]!.file_id });

    env.fake.failNext(200, answer());
    const key = await ask(kim, 'batch-a', [store.id]);
    expect(searchOf(key).results![0]).not.toHaveProperty('file_id');
    expect(annotationsOf(key)[0]).not.toHaveProperty('file_id');
    expect(JSON.stringify(key)).not.toContain(file.id);
  });
});
