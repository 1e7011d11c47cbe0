import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { fileSearchResponse, type FileSearchHit } from './fakes/openai-responses.ts';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { apiKeyOf, decoded, useBatchesStack } from './support/provider-objects.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * A Responses API call's `file_search` tool names vector stores by the gateway's ids: the caller's own reach
 * the provider as the provider's ids, through a deployment of the stores' account only; anyone else's, or a
 * provider's raw id, is the 404 of an unknown store with nothing sent. The answer names the stores and the
 * files found by the caller's ids, streamed or not.
 */

const { env, client, newKey } = useBatchesStack();

const FAQ = 'Returns are accepted within 30 days.\nShipping takes five business days.\nThe warranty covers two years.';
const failed = (attempt: Promise<unknown>) => attempt.then(() => 'answered', (e: unknown) => e);
/** Every provider id the fake holds (stores, files): none may reach a key. */
const providerIds = () => [...env.fake.stores.keys(), ...env.fake.files.keys()];
const responseCalls = () => env.fake.requests.filter((r) => r.path.endsWith('/responses'));

async function keyClient(user: string, models = ['batch-a']) {
  return client(await newKey({ models, user_id: user }), { 'x-litellm-model': models[0]! });
}

/** A store of the caller's in a group's account, holding one uploaded document. */
async function storeOf(openai: OpenAI, model: string, content = FAQ, filename = 'faq.txt') {
  const file = await openai.files.create({ file: await toFile(Buffer.from(content), filename), purpose: 'assistants', model } as unknown as OpenAI.FileCreateParams);
  const store = await openai.vectorStores.create({ name: 'faq', file_ids: [file.id], model } as OpenAI.VectorStoreCreateParams);
  return { file, store };
}

/** A streamed call's events, all of them. */
async function streamed(openai: OpenAI, params: Record<string, unknown>) {
  const stream = await openai.responses.create({ ...params, stream: true } as OpenAI.Responses.ResponseCreateParamsStreaming);
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

const annotationsOf = (response: { output: unknown[] }) => ((response.output.find((o) => (o as { type: string }).type === 'message') as OpenAI.Responses.ResponseOutputMessage)
  .content[0] as OpenAI.Responses.ResponseOutputText).annotations;
const searchOf = (response: { output: unknown[] }) => response.output.find((o) => (o as { type: string }).type === 'file_search_call') as OpenAI.Responses.ResponseFileSearchToolCall;
/** The provider's id of a response, as the gateway's id holds it. */
const providerResponseId = (id: string) => /response_id:([^;]+)/.exec(decoded(id, 'resp_'))![1]!;

const ask = (openai: OpenAI, model: string, storeIds: string[], extra: Record<string, unknown> = {}) => openai.responses.create({
  model, input: 'how many days for returns', tools: [{ type: 'file_search', vector_store_ids: storeIds }], include: ['file_search_call.results'], ...extra,
} as OpenAI.Responses.ResponseCreateParamsNonStreaming);

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

  it('streams the caller\'s ids in every event', async () => {
    const erin = await keyClient('erin-fs');
    const { file, store } = await storeOf(erin, 'batch-a');
    const stream = await erin.responses.create({
      model: 'batch-a', input: 'returns days', tools: [{ type: 'file_search', vector_store_ids: [store.id] }], include: ['file_search_call.results'], stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const shown = JSON.stringify(events);
    for (const id of providerIds()) expect(shown).not.toContain(id);
    const searched = events.find((e) => e.type === 'response.output_item.done' && e.item.type === 'file_search_call') as OpenAI.Responses.ResponseOutputItemDoneEvent;
    expect((searched.item as OpenAI.Responses.ResponseFileSearchToolCall).results?.[0]?.file_id).toBe(file.id);
    const cited = events.find((e) => e.type === 'response.output_text.annotation.added') as OpenAI.Responses.ResponseOutputTextAnnotationAddedEvent;
    expect(cited.annotation).toMatchObject({ type: 'file_citation', file_id: file.id });
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.type).toBe('response.completed');
    expect(completed.response.tools).toEqual([{ type: 'file_search', vector_store_ids: [store.id] }]);
    expect(decoded(completed.response.id, 'resp_')).toContain('owner:user:erin-fs');
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

  it('signs only the files this response\'s searches found: an earlier turn\'s file cited again loses its id', async () => {
    // The earlier turn's file is the caller's here; it could as well be a stored prompt's (another's) or one named by client-written input.
    const jo = await keyClient('jo-fs');
    const faq = await storeOf(jo, 'batch-a');
    const cards = await storeOf(jo, 'batch-a', 'Gift cards never expire.', 'cards.txt');
    const first = await ask(jo, 'batch-a', [faq.store.id]);
    expect(annotationsOf(first)).toEqual([expect.objectContaining({ file_id: faq.file.id })]);

    const second = await ask(jo, 'batch-a', [cards.store.id], { input: 'do gift cards expire', previous_response_id: first.id });
    expect(second.previous_response_id).toBe(first.id);
    expect(searchOf(second).results?.map((r) => r.file_id)).toEqual([cards.file.id]);
    const cited = annotationsOf(second);
    expect(cited).toEqual([expect.objectContaining({ type: 'file_citation', filename: 'cards.txt', file_id: cards.file.id }), expect.objectContaining({ type: 'file_citation', filename: 'faq.txt' })]);
    expect(cited[1]).not.toHaveProperty('file_id');
    const shown = JSON.stringify(second);
    for (const id of providerIds()) expect(shown).not.toContain(id);

    // Streamed: the annotation's own event, the part, the item and the whole response alike.
    const events = await streamed(jo, { model: 'batch-a', input: 'do gift cards expire', tools: [{ type: 'file_search', vector_store_ids: [cards.store.id] }], previous_response_id: first.id });
    const streamedShown = JSON.stringify(events);
    for (const id of providerIds()) expect(streamedShown).not.toContain(id);
    const added = events.filter((e): e is OpenAI.Responses.ResponseOutputTextAnnotationAddedEvent => e.type === 'response.output_text.annotation.added').map((e) => e.annotation);
    const partDone = events.find((e): e is OpenAI.Responses.ResponseContentPartDoneEvent => e.type === 'response.content_part.done')!.part as OpenAI.Responses.ResponseOutputText;
    const itemDone = events.find((e): e is OpenAI.Responses.ResponseOutputItemDoneEvent => e.type === 'response.output_item.done' && e.item.type === 'message')!;
    const completed = events.find((e): e is OpenAI.Responses.ResponseCompletedEvent => e.type === 'response.completed')!;
    for (const annotations of [added, partDone.annotations, annotationsOf({ output: [itemDone.item] }), annotationsOf(completed.response)]) {
      expect(annotations).toEqual([expect.objectContaining({ file_id: cards.file.id }), expect.objectContaining({ filename: 'faq.txt' })]);
      expect(annotations[1]).not.toHaveProperty('file_id');
    }
  });

  it('asks for the searches\' results itself and takes them out again when the client did not', async () => {
    const ivy = await keyClient('ivy-fs');
    const { file, store } = await storeOf(ivy, 'batch-a');
    const params = { model: 'batch-a', input: 'how many days for returns', tools: [{ type: 'file_search', vector_store_ids: [store.id] }] };
    const response = await ivy.responses.create(params as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect((responseCalls()[0]!.json as { include?: unknown }).include).toEqual(['file_search_call.results']);
    expect(searchOf(response).results).toBeNull();
    expect(annotationsOf(response)).toEqual([expect.objectContaining({ type: 'file_citation', file_id: file.id })]);

    // What else the client includes is kept.
    const logprobs = await ivy.responses.create({ ...params, include: ['message.output_text.logprobs'] } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect((responseCalls()[1]!.json as { include?: unknown }).include).toEqual(['message.output_text.logprobs', 'file_search_call.results']);
    expect(searchOf(logprobs).results).toBeNull();

    const events = await streamed(ivy, params);
    expect((responseCalls()[2]!.json as { include?: unknown }).include).toEqual(['file_search_call.results']);
    const searchDone = events.find((e): e is OpenAI.Responses.ResponseOutputItemDoneEvent => e.type === 'response.output_item.done' && e.item.type === 'file_search_call')!;
    expect((searchDone.item as OpenAI.Responses.ResponseFileSearchToolCall).results).toBeNull();
    const completed = events.find((e): e is OpenAI.Responses.ResponseCompletedEvent => e.type === 'response.completed')!;
    expect(searchOf(completed.response).results).toBeNull();
    expect(annotationsOf(completed.response)).toEqual([expect.objectContaining({ file_id: file.id })]);
    const added = events.find((e): e is OpenAI.Responses.ResponseOutputTextAnnotationAddedEvent => e.type === 'response.output_text.annotation.added')!;
    expect(added.annotation).toMatchObject({ file_id: file.id });
    const shown = JSON.stringify([response, logprobs, events]);
    for (const id of providerIds()) expect(shown).not.toContain(id);
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

  it('shows a key a stored response without the provider\'s store and file ids (the master key as the provider has it)', async () => {
    const lee = await keyClient('lee-fs');
    const { store } = await storeOf(lee, 'batch-a');
    const upstreamStore = [...env.fake.stores.keys()][0]!;
    const upstreamFile = [...env.fake.files.keys()][0]!;
    const created = await ask(lee, 'batch-a', [store.id], { background: true });
    const hit: FileSearchHit = { file_id: upstreamFile, filename: 'faq.txt', score: 1, text: 'Returns are accepted within 30 days.', attributes: {} };
    // The background response as the provider keeps it: read only through these routes.
    const stored = {
      ...fileSearchResponse({ model: 'gpt-4o-mini', input: 'returns', tools: [{ type: 'file_search', vector_store_ids: [upstreamStore] }], include: ['file_search_call.results'] }, [hit]),
      id: providerResponseId(created.id), background: true,
    };
    const hidden = (response: OpenAI.Responses.Response) => {
      expect(response.id).toBe(created.id);
      expect(response.tools).toEqual([{ type: 'file_search', vector_store_ids: [] }]);
      expect(searchOf(response).results![0]).toMatchObject({ filename: 'faq.txt', text: 'Returns are accepted within 30 days.' });
      expect(searchOf(response).results![0]).not.toHaveProperty('file_id');
      expect(annotationsOf(response)[0]).toMatchObject({ type: 'file_citation', filename: 'faq.txt' });
      expect(annotationsOf(response)[0]).not.toHaveProperty('file_id');
      const shown = JSON.stringify(response);
      for (const id of providerIds()) expect(shown).not.toContain(id);
    };
    env.fake.failNext(200, stored);
    hidden(await lee.responses.retrieve(created.id));
    env.fake.failNext(200, stored);
    hidden(await lee.responses.cancel(created.id));
    env.fake.failNext(200, { object: 'list', data: stored.output, first_id: stored.output[0]!.id, last_id: stored.output[1]!.id, has_more: false });
    const items = await lee.responses.inputItems.list(created.id);
    hidden({ ...stored, id: created.id, tools: [{ type: 'file_search', vector_store_ids: [] }], output: items.data } as unknown as OpenAI.Responses.Response);

    env.fake.failNext(200, stored);
    const master = await client(TEST_MASTER_KEY).responses.retrieve(created.id);
    expect(master.tools).toEqual([{ type: 'file_search', vector_store_ids: [upstreamStore] }]);
    expect(searchOf(master).results![0]!.file_id).toBe(upstreamFile);
  });
});
