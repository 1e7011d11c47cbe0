import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { decoded, INPUT, useBatchesStack } from './support/provider-objects.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * The Files API through the gateway, with the official openai client, as LiteLLM's model-based routing
 * serves it: a model group names the provider account (OpenAI, Azure), the ids given out carry it and
 * their owner, a key reaches only its own, and a batch file's lines name only the group's model.
 */

const { env, client, newKey, upload, lastUpstream } = useBatchesStack();

describe('Files', () => {
  it('go to the account of the model group named, with its credentials, and come back under the gateway\'s id', async () => {
    const file = await upload(env.master, 'batch-a');
    const upload0 = lastUpstream(/\/files$/);
    expect(upload0.path).toBe('/acct-a/v1/files');
    expect(upload0.headers.authorization).toBe('Bearer sk-acct-a-0001');
    // The gateway's own field stays with it (OpenAI refuses fields it does not know).
    expect(upload0.form).toEqual({ purpose: 'batch' });
    const upstreamId = [...env.fake.files.keys()][0]!;
    expect(decoded(file.id, 'file-')).toMatch(new RegExp(`^litellm:${upstreamId};model,batch-a;model_id,dep-a;owner,master;sig,[\\w-]{32}$`));
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', bytes: INPUT.length, filename: 'input.jsonl' });

    expect((await env.master.files.retrieve(file.id)).id).toBe(file.id);
    expect(await (await env.master.files.content(file.id)).text()).toBe(INPUT);
    expect(lastUpstream(/content$/).path).toBe(`/acct-a/v1/files/${upstreamId}/content`);
    expect(await env.master.files.delete(file.id)).toMatchObject({ id: file.id, deleted: true });
    expect(env.fake.files.size).toBe(0);
  });

  it('take the group from x-litellm-model (the upload streamed through), and reach Azure OpenAI\'s resource-level Files API', async () => {
    const file = await client(TEST_MASTER_KEY, { 'x-litellm-model': 'azure-batch' }).files.create({ file: await toFile(Buffer.from(INPUT), 'input.jsonl'), purpose: 'batch' });
    const sent = lastUpstream(/\/files$/);
    expect(sent.path).toBe('/az/openai/files');
    expect(sent.query['api-version']).toBe('2024-10-21');
    expect(sent.headers['api-key']).toBe('azure-upstream-0003');
    expect(decoded(file.id, 'file-')).toContain(';model,azure-batch;model_id,dep-az;');
    // Named outside the body, the upload streamed through, each line naming the Azure deployment.
    expect(sent.form).toEqual({ purpose: 'batch' });
    expect(await (await env.master.files.content(file.id)).text()).toBe(INPUT.replaceAll('"model":"gpt-4o-mini"', '"model":"my-batch-deployment"'));
  });

  it('are refused with a clear 400 when no group is named or the group\'s provider keeps none, before anything is sent', async () => {
    const none = await env.master.files.create({ file: await toFile(Buffer.from(INPUT), 'input.jsonl'), purpose: 'batch' }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(OpenAI.BadRequestError);
    expect((none as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('x-litellm-model');
    const vllm = await upload(env.master, 'local-llama').catch((e: unknown) => e);
    expect(vllm).toBeInstanceOf(OpenAI.BadRequestError);
    expect((vllm as Error).message).toContain('has no deployment whose provider keeps files and batches');
    expect(env.fake.requests).toEqual([]);
  });

  it('are a key\'s own: another owner\'s id, a forged one or a group it may not call is not found or refused, and listing is the master key\'s', async () => {
    const alice = await newKey({ models: ['batch-a'], user_id: 'alice' });
    const bob = await newKey({ models: ['batch-a'], user_id: 'bob' });
    const mine = await upload(client(alice), 'batch-a');
    expect(decoded(mine.id, 'file-')).toContain(';owner,user:alice;');
    expect(await (await client(alice).files.content(mine.id)).text()).toBe(INPUT);

    const upstreamId = [...env.fake.files.keys()][0]!;
    const forged = `file-${Buffer.from(`litellm:${upstreamId};model,batch-a;model_id,dep-a;owner,user:bob`).toString('base64url')}`;
    for (const id of [mine.id, forged, upstreamId]) {
      const err = await client(bob).files.retrieve(id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    }
    expect(await client(bob).files.delete(mine.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(env.fake.files.has(upstreamId)).toBe(true);

    const refused = await upload(client(alice), 'batch-b').catch((e: unknown) => e);
    expect((refused as { status?: number }).status).toBe(401);
    expect((refused as Error).message).toContain('batch-b');

    expect(await client(alice).files.list({ model: 'batch-a' } as OpenAI.FileListParams).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.PermissionDeniedError);
    await upload(env.master, 'batch-b');
    const listed = await env.master.files.list({ model: 'batch-a' } as OpenAI.FileListParams);
    // Account a's file only, under ids the master key can use.
    expect(listed.data.map((f) => decoded(f.id, 'file-'))).toEqual([expect.stringMatching(new RegExp(`^litellm:${upstreamId};model,batch-a;`))]);
    expect((await env.master.files.retrieve(listed.data[0]!.id)).bytes).toBe(INPUT.length);
  });
});

describe('Batch files', () => {
  it('name only the group\'s model: each line is set to the deployment\'s, and a batch of a line that escaped it is refused', async () => {
    const frank = client(await newKey({ models: ['batch-a'], user_id: 'frank' }), { 'x-litellm-model': 'batch-a' });
    const asked = [{ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'batch-a', messages: [] } }, { custom_id: 'b', method: 'POST', url: '/v1/chat/completions', body: { model: 'o1-pro', messages: [] } }];
    const file = await frank.files.create({ file: await toFile(Buffer.from(asked.map((l) => JSON.stringify(l)).join('\n')), 'in.jsonl'), purpose: 'batch' });
    const stored = [...env.fake.files.values()][0]!.content.toString().split('\n').map((l) => (JSON.parse(l) as { body: { model: string } }).body.model);
    expect(stored).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);
    await frank.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });

    // A line the gateway cannot read strictly passes the upload as it is, so the batch is refused.
    const sly = '{"custom_id":"c","method":"POST","url":"/v1/chat/completions","body":{"model":"o1-pro","n":NaN}}';
    const bad = await frank.files.create({ file: await toFile(Buffer.from(sly), 'in.jsonl'), purpose: 'batch' });
    const batches = env.fake.batches.size;
    const refused = await frank.batches.create({ input_file_id: bad.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toContain('line 1 is not JSON');
    expect(env.fake.batches.size).toBe(batches);
  });
});
