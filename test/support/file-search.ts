import OpenAI, { toFile } from 'openai';
import { decoded, useBatchesStack } from './provider-objects.ts';

/** The batches stack with what the file_search tests of /v1/responses share: keys, stores and the calls the fake saw. */
export function useFileSearchStack() {
  const { env, client, newKey } = useBatchesStack();
  /** Every provider id the fake holds (stores, files): none may reach a key. */
  const providerIds = () => [...env.fake.stores.keys(), ...env.fake.files.keys()];
  const responseCalls = () => env.fake.requests.filter((r) => r.path.endsWith('/responses'));

  async function keyClient(user: string, models = ['batch-a']) {
    return client(await newKey({ models, user_id: user }), { 'x-litellm-model': models[0]! });
  }

  return { env, client, newKey, providerIds, responseCalls, keyClient };
}

export const FAQ = 'Returns are accepted within 30 days.\nShipping takes five business days.\nThe warranty covers two years.';
export const failed = (attempt: Promise<unknown>) => attempt.then(() => 'answered', (e: unknown) => e);

/** A store of the caller's in a group's account, holding one uploaded document. */
export async function storeOf(openai: OpenAI, model: string, content = FAQ, filename = 'faq.txt') {
  const file = await openai.files.create({ file: await toFile(Buffer.from(content), filename), purpose: 'assistants', model } as unknown as OpenAI.FileCreateParams);
  const store = await openai.vectorStores.create({ name: 'faq', file_ids: [file.id], model } as OpenAI.VectorStoreCreateParams);
  return { file, store };
}

/** A streamed call's events, all of them. */
export async function streamed(openai: OpenAI, params: Record<string, unknown>) {
  const stream = await openai.responses.create({ ...params, stream: true } as OpenAI.Responses.ResponseCreateParamsStreaming);
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

export const annotationsOf = (response: { output: unknown[] }) => ((response.output.find((o) => (o as { type: string }).type === 'message') as OpenAI.Responses.ResponseOutputMessage)
  .content[0] as OpenAI.Responses.ResponseOutputText).annotations;
export const searchOf = (response: { output: unknown[] }) => response.output.find((o) => (o as { type: string }).type === 'file_search_call') as OpenAI.Responses.ResponseFileSearchToolCall;
/** The provider's id of a response, as the gateway's id holds it. */
export const providerResponseId = (id: string) => /response_id:([^;]+)/.exec(decoded(id, 'resp_'))![1]!;

export const ask = (openai: OpenAI, model: string, storeIds: string[], extra: Record<string, unknown> = {}) => openai.responses.create({
  model, input: 'how many days for returns', tools: [{ type: 'file_search', vector_store_ids: storeIds }], include: ['file_search_call.results'], ...extra,
} as OpenAI.Responses.ResponseCreateParamsNonStreaming);
