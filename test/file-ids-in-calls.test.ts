import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { apiKeyOf, useBatchesStack } from './support/provider-objects.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * Chat completions and Responses API calls that name files by id: a virtual key's must be its own gateway
 * file ids, sent upstream as the provider's ids to a deployment of the files' account; a raw id, another
 * owner's or a forged id is the Files routes' 404 with nothing sent. What no gateway id covers
 * (`conversation`, `item_reference`, a container by id) is a 400 for a key. The master key may name raw ids.
 */

const { env, client, newKey } = useBatchesStack();

const NOTES = 'The launch code is 0000.\nNothing else here.';
const failed = (attempt: Promise<unknown>) => attempt.then(() => 'answered', (e: unknown) => e);
const modelCalls = () => env.fake.requests.filter((r) => /\/(responses|chat\/completions)$/.test(r.path));

async function keyClient(user: string, models = ['batch-a']) {
  return client(await newKey({ models, user_id: user }), { 'x-litellm-model': models[0]! });
}

/** A file uploaded through the gateway into a group's account, and the provider's id of it. */
async function uploadNotes(openai: OpenAI, model: string) {
  const file = await openai.files.create({ file: await toFile(Buffer.from(NOTES), 'notes.txt'), purpose: 'user_data', model } as unknown as OpenAI.FileCreateParams);
  return { file, upstreamId: [...env.fake.files.keys()].at(-1)! };
}

const chatWith = (openai: OpenAI, model: string, fileId: string) => openai.chat.completions.create({
  model, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is the launch code?' }, { type: 'file', file: { file_id: fileId } }] }],
});
const respondWith = (openai: OpenAI, model: string, fileId: string, extra: Record<string, unknown> = {}) => openai.responses.create({
  model, input: [{ role: 'user', content: [{ type: 'input_text', text: 'What is the launch code?' }, { type: 'input_file', file_id: fileId }] }], ...extra,
} as OpenAI.Responses.ResponseCreateParamsNonStreaming);

describe('file ids in model calls', () => {
  it('sends the provider\'s id of the caller\'s own file, in a chat file part and a Responses input_file', async () => {
    const ann = await keyClient('ann-fi');
    const { file, upstreamId } = await uploadNotes(ann, 'batch-a');

    const chat = await chatWith(ann, 'batch-a', file.id);
    expect(chat.choices[0]!.message.content).toBe('notes.txt: The launch code is 0000.');
    const sentChat = modelCalls()[0]!;
    expect(sentChat.path).toBe('/acct-a/v1/chat/completions');
    expect((sentChat.json as { messages: unknown }).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'What is the launch code?' }, { type: 'file', file: { file_id: upstreamId } }] },
    ]);

    const response = await respondWith(ann, 'batch-a', file.id);
    expect(response.output_text).toBe('notes.txt: The launch code is 0000.');
    const sentResponse = modelCalls()[1]!;
    expect(sentResponse.path).toBe('/acct-a/v1/responses');
    expect((sentResponse.json as { input: unknown }).input).toEqual([
      { role: 'user', content: [{ type: 'input_text', text: 'What is the launch code?' }, { type: 'input_file', file_id: upstreamId }] },
    ]);

    // A code_interpreter container made for the call takes the caller's files the same way.
    await ann.responses.create({
      model: 'batch-a', input: 'Summarise the file', tools: [{ type: 'code_interpreter', container: { type: 'auto', file_ids: [file.id] } }],
    } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect((modelCalls()[2]!.json as { tools: unknown }).tools).toEqual([{ type: 'code_interpreter', container: { type: 'auto', file_ids: [upstreamId] } }]);
  });

  it('answers another owner\'s id, a provider\'s raw id and a forged id with the Files routes\' 404, sending nothing', async () => {
    const ann = await keyClient('ann-fi-2');
    const { file, upstreamId } = await uploadNotes(ann, 'batch-a');
    const bob = await keyClient('bob-fi-2');
    // A's id with B as its owner, unsigned: forged.
    const forged = `file-${Buffer.from(`litellm:${upstreamId};model,batch-a;model_id,dep-a;owner,key:x`).toString('base64url')}`;
    for (const id of [file.id, upstreamId, forged]) {
      // One at a time: a second call made before the first is awaited would reject unobserved.
      for (const attempt of [() => chatWith(bob, 'batch-a', id), () => respondWith(bob, 'batch-a', id)]) {
        const error = await failed(attempt());
        expect(error).toBeInstanceOf(OpenAI.NotFoundError);
        expect((error as Error).message).toContain(`No such File object: ${id}`);
      }
    }
    // Its owner's key may not name the raw id either.
    expect(await failed(chatWith(ann, 'batch-a', upstreamId))).toBeInstanceOf(OpenAI.NotFoundError);
    // Nor through /v1/messages (an Anthropic document naming a file).
    const messages = await fetch(`${env.stack.url}/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': apiKeyOf(bob), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'batch-a', max_tokens: 50, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: file.id } }] }] }),
    });
    expect(messages.status).toBe(404);
    expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(modelCalls()).toHaveLength(0);
    // Logged as refused calls are.
    const rows = await eventually(async () => {
      const found = await query(env.stack.db.url, 'SELECT status FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [sha256(apiKeyOf(bob))]);
      return found.length === 7 ? found : undefined;
    });
    expect(rows.every((r) => r.status === 'failure')).toBe(true);
  });

  it('lets the master key name a provider\'s raw id, and its own gateway ids', async () => {
    const master = client(TEST_MASTER_KEY);
    const { file, upstreamId } = await uploadNotes(client(TEST_MASTER_KEY, { 'x-litellm-model': 'batch-a' }), 'batch-a');
    const raw = await chatWith(master, 'batch-a', upstreamId);
    expect(raw.choices[0]!.message.content).toBe('notes.txt: The launch code is 0000.');
    const viaGateway = await respondWith(master, 'batch-a', file.id);
    expect(viaGateway.output_text).toBe('notes.txt: The launch code is 0000.');
    expect(modelCalls().map((r) => JSON.stringify(r.json).includes(upstreamId))).toEqual([true, true]);
  });

  it('is served only by deployments of the files\' account: another account\'s group is a 400', async () => {
    const cat = await keyClient('cat-fi', ['batch-a', 'batch-b']);
    const { file } = await uploadNotes(client(apiKeyOf(cat), { 'x-litellm-model': 'batch-b' }), 'batch-b');
    const refused = await failed(chatWith(cat, 'batch-a', file.id));
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toContain('provider account of model group batch-b');
    expect(modelCalls()).toHaveLength(0);
    // A fallback in the files' account serves it.
    const served = await respondWith(cat, 'batch-a', file.id, { fallbacks: ['batch-b'] });
    expect(served.output_text).toBe('notes.txt: The launch code is 0000.');
    expect(modelCalls().map((r) => r.path)).toEqual(['/acct-b/v1/responses']);
    // Files of two accounts in one call: a 400.
    const { file: inA } = await uploadNotes(cat, 'batch-a');
    const mixed = await failed(cat.responses.create({
      model: 'batch-a', input: [{ role: 'user', content: [{ type: 'input_file', file_id: inA.id }, { type: 'input_file', file_id: file.id }] }],
    } as OpenAI.Responses.ResponseCreateParamsNonStreaming));
    expect(mixed).toBeInstanceOf(OpenAI.BadRequestError);
    expect((mixed as Error).message).toContain('different provider accounts');
    expect(modelCalls()).toHaveLength(1);
  });

  it('refuses a key what names stored objects the gateway has no ids for, with a 400 naming the field', async () => {
    const dan = await keyClient('dan-fi');
    const cases: [Record<string, unknown>, string][] = [
      [{ input: 'hi', conversation: 'conv_123' }, 'conversation'],
      [{ input: [{ type: 'item_reference', id: 'msg_123' }] }, 'input.0'],
      [{ input: 'hi', tools: [{ type: 'code_interpreter', container: 'cntr_123' }] }, 'tools.0.container'],
      // An item reference without its optional type, and a stored image named by its id alone.
      [{ input: [{ id: 'msg_123' }] }, 'input.0'],
      [{ input: [{ type: 'image_generation_call', id: 'ig_123' }] }, 'input.0'],
      // Deeper than any provider's shape: refused, not passed on unchecked.
      [{ input: [{ type: 'message', role: 'user', content: [nested(70, { type: 'input_file', file_id: 'file-raw' })] }] }, `input.0.content.0${'.x'.repeat(62)}`],
    ];
    for (const [body, param] of cases) {
      const error = await failed(dan.responses.create({ model: 'batch-a', ...body } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming));
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
    }
    expect(modelCalls()).toHaveLength(0);
  });

  it('walks a stored prompt\'s variables whatever they are named (a variable named like a schema too)', async () => {
    const eve = await keyClient('eve-fi');
    const { upstreamId } = await uploadNotes(await keyClient('fay-fi'), 'batch-a');
    const error = await failed(eve.responses.create({
      model: 'batch-a', prompt: { id: 'pmpt_1', variables: { schema: { type: 'input_file', file_id: upstreamId } } },
    } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(modelCalls()).toHaveLength(0);
  });
});

/** A value `depth` objects deep (`{x: {x: ...}}`) holding `inner`. */
function nested(depth: number, inner: unknown): unknown {
  let value = inner;
  for (let i = 0; i < depth; i++) value = { x: value };
  return value;
}
