import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { fileSearchResponse, type FileSearchHit } from './fakes/openai-responses.ts';
import { ask, annotationsOf, providerResponseId, searchOf, storeOf, streamed, useFileSearchStack } from './support/file-search.ts';
import { decoded } from './support/provider-objects.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * A Responses API call's `file_search` tool names vector stores by the gateway's ids: the caller's own reach
 * the provider as the provider's ids, through a deployment of the stores' account only; anyone else's, or a
 * provider's raw id, is the 404 of an unknown store with nothing sent. The answer names the stores and the
 * files found by the caller's ids, streamed or not.
 */

const { env, client, providerIds, responseCalls, keyClient } = useFileSearchStack();

describe('file_search over vector stores in /v1/responses, streamed and stored', () => {
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
