import OpenAI, { toFile } from 'openai';
import { useBatchesStack } from './provider-objects.ts';

/**
 * The batches stack with what the vector store tests share: a document to upload, a key's client naming its
 * model group, and every provider id the fake holds (none may reach a key).
 */
export function useVectorStoresStack() {
  const stack = useBatchesStack();
  const { env, client, newKey } = stack;

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

  return { ...stack, notFound, providerIds, uploadDoc, keyClient };
}
