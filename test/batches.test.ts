import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { BATCH_COST, decoded, OUTPUT, useBatchesStack } from './support/provider-objects.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * The Batch API through the gateway, with the official openai client: a batch runs in its input file's
 * account, a key reaches and lists only its own, and a finished batch is billed once, at batch prices,
 * to the key that created it (its spend row, its budget), however often it is read.
 */

const { env, client, newKey, keySpend, upload, lastUpstream } = useBatchesStack();

describe('Batches', () => {
  it('run on the file\'s account and are billed once, at batch prices, to the key that created them, however often they are read', async () => {
    // A budget between one batch's cost and two.
    const key = await newKey({ models: ['batch-a'], user_id: 'carol', max_budget: 0.0005 });
    const carol = client(key);
    const file = await upload(carol, 'batch-a');
    const batch = await carol.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: 'nightly' } });
    const sent = lastUpstream(/\/batches$/);
    expect(sent.path).toBe('/acct-a/v1/batches');
    const upstreamFile = [...env.fake.files.keys()][0]!;
    expect(sent.json).toEqual({
      input_file_id: upstreamFile, endpoint: '/v1/chat/completions', completion_window: '24h',
      metadata: { run: 'nightly', tollgate_owner: 'user:carol', tollgate_model_id: 'dep-a' },
    });
    // The client sees its own metadata, and the gateway's ids for the batch and its file.
    expect(batch).toMatchObject({ object: 'batch', status: 'validating', input_file_id: file.id, metadata: { run: 'nightly' }, request_counts: { total: 2 } });
    const upstreamBatch = [...env.fake.batches.keys()][0]!;
    expect(decoded(batch.id, 'batch_')).toContain(`litellm:${upstreamBatch};model,batch-a;model_id,dep-a;owner,user:carol;`);

    expect((await carol.batches.retrieve(batch.id)).status).toBe('validating');
    env.fake.complete(upstreamBatch, OUTPUT);
    const done = await carol.batches.retrieve(batch.id);
    expect(done.status).toBe('completed');
    const lines = (await (await carol.files.content(done.output_file_id!)).text()).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { custom_id: string }).custom_id)).toEqual(['r1', 'r2', 'r3']);

    const row = await eventually(() => spendLogRow(env.stack.db.url, upstreamBatch));
    expect(row).toMatchObject({ call_type: 'aretrieve_batch', api_key: sha256(key), model_group: 'batch-a', model_id: 'dep-a', prompt_tokens: 200, completion_tokens: 40, user: 'carol' });
    expect(Number(row.spend)).toBeCloseTo(BATCH_COST, 10);
    // Read again, by its owner and by the master key: the limiter below shows it counted once.
    await carol.batches.retrieve(batch.id);
    await env.master.batches.retrieve(batch.id);
    await eventually(async () => (Math.abs(await keySpend(key) - BATCH_COST) < 1e-12 ? true : undefined));

    // The key's limiter counted it once, however often it was read: a second batch is within the budget.
    const second = await carol.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    env.fake.complete([...env.fake.batches.keys()][1]!, OUTPUT);
    expect((await carol.batches.retrieve(second.id)).status).toBe('completed');
    await eventually(async () => (Math.abs(await keySpend(key) - 2 * BATCH_COST) < 1e-12 ? true : undefined));
    // Two are past it: the next batch is refused before reaching the provider.
    const before = env.fake.requests.length;
    const refused = await carol.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).catch((e: unknown) => e);
    expect((refused as { status?: number }).status).toBe(429);
    expect((refused as Error).message).toContain('Budget has been exceeded!');
    expect(env.fake.requests.length).toBe(before);
  });

  it('list only the caller\'s own (every one for the master key), and cancel by the gateway\'s id', async () => {
    const dave = client(await newKey({ models: ['batch-a'], user_id: 'dave' }));
    const daveFile = await upload(dave, 'batch-a');
    const daves = await dave.batches.create({ input_file_id: daveFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const masterFile = await upload(env.master, 'batch-a');
    const masters = await env.master.batches.create({ input_file_id: masterFile.id, endpoint: '/v1/embeddings', completion_window: '24h' });

    const listed = await client((dave as unknown as { apiKey: string }).apiKey, { 'x-litellm-model': 'batch-a' }).batches.list();
    expect(listed.data.map((b) => b.id)).toEqual([daves.id]);
    expect(listed.data[0]!.metadata).toBeNull();
    const all = await client(TEST_MASTER_KEY, { 'x-litellm-model': 'batch-a' }).batches.list();
    expect(new Set(all.data.map((b) => decoded(b.id, 'batch_').split(';')[0]))).toEqual(new Set([...env.fake.batches.keys()].map((id) => `litellm:${id}`)));
    expect(all.data).toHaveLength(2);

    // Paging a page of one through an account of others' batches gives out only the caller's own ids.
    for (let i = 0; i < 3; i++) await env.master.batches.create({ input_file_id: masterFile.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    const page = await fetch(`${env.stack.url}/v1/batches?model=batch-a&limit=1`, { headers: { authorization: `Bearer ${(dave as unknown as { apiKey: string }).apiKey}` } });
    const onePage = await page.json() as { data: { id: string }[]; first_id: string; last_id: string; has_more: boolean };
    expect(onePage).toMatchObject({ data: [{ id: daves.id }], first_id: daves.id, last_id: daves.id, has_more: false });

    expect(await dave.batches.cancel(masters.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    const cancelled = await dave.batches.cancel(daves.id);
    expect(cancelled).toMatchObject({ id: daves.id, status: 'cancelling' });
    expect(lastUpstream(/cancel$/).path).toMatch(/^\/acct-a\/v1\/batches\/batch_\w+\/cancel$/);
  });

  it('are billed once over whether or not anyone reads them, cancelled part way too, and nothing for one that failed', async () => {
    const key = await newKey({ models: ['batch-a'], user_id: 'erin' });
    const erin = client(key, { 'x-litellm-model': 'batch-a' });
    const file = await upload(erin, 'batch-a');
    for (let i = 0; i < 3; i++) await erin.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const [done, cancelledPartWay, failed] = [...env.fake.batches.keys()];
    const readsBefore = env.fake.requests.length;
    env.fake.complete(done!, OUTPUT);
    // Cancelled after one line ran: the provider bills it, so the gateway does.
    env.fake.complete(cancelledPartWay!, OUTPUT.slice(0, 1));
    Object.assign(env.fake.batches.get(cancelledPartWay!)!, { status: 'cancelled' });
    Object.assign(env.fake.batches.get(failed!)!, { status: 'failed' });
    // No one reads them through the gateway: its watchers do.
    const row = await eventually(() => spendLogRow(env.stack.db.url, done!));
    expect(Number(row.spend)).toBeCloseTo(BATCH_COST, 10);
    const partial = await eventually(() => spendLogRow(env.stack.db.url, cancelledPartWay!));
    expect(partial).toMatchObject({ api_key: sha256(key), prompt_tokens: 100, completion_tokens: 20 });
    expect(Number(partial.spend)).toBeCloseTo(BATCH_COST / 2, 10);
    await eventually(async () => env.fake.requests.slice(readsBefore).find((r) => r.path.endsWith(`/batches/${failed!}`)));
    await new Promise((r) => setTimeout(r, 500));
    expect(await spendLogRow(env.stack.db.url, failed!)).toBeUndefined();
  });

  it('are listed only through the deployment they ran on, and bill the team of a key deleted since', async () => {
    const team = await (await fetch(`${env.stack.url}/team/new`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ team_alias: 'nightly' }) })).json() as { team_id: string };
    const key = await newKey({ models: ['batch-a', 'batch-a-cheap'], team_id: team.team_id });
    const gina = client(key);
    const file = await upload(gina, 'batch-a');
    const batch = await gina.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    // The same account through a free group: the batch is not there, so not billed at its price.
    expect((await client(key, { 'x-litellm-model': 'batch-a-cheap' }).batches.list()).data).toEqual([]);

    const deleted = await fetch(`${env.stack.url}/key/delete`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ keys: [key] }) });
    expect(deleted.status).toBe(200);
    env.fake.complete([...env.fake.batches.keys()][0]!, OUTPUT);
    expect((await env.master.batches.retrieve(batch.id)).status).toBe('completed');
    const row = await eventually(() => spendLogRow(env.stack.db.url, [...env.fake.batches.keys()][0]!));
    expect(row).toMatchObject({ team_id: team.team_id, api_key: sha256(key) });
    expect(Number(row.spend)).toBeCloseTo(BATCH_COST, 10);
    const teamSpend = async () => Number((await query(env.stack.db.url, 'SELECT team_spend AS spend FROM "LiteLLM_TeamTable" WHERE team_id = $1', [team.team_id]))[0]!.spend);
    await eventually(async () => (Math.abs(await teamSpend() - BATCH_COST) < 1e-12 ? true : undefined));
  });

  it('pass the provider\'s refusals on in the OpenAI envelope, and refuse bad input before anything is sent', async () => {
    const file = await upload(env.master, 'batch-a');
    env.fake.reset();
    const bad = await env.master.batches.create({ input_file_id: file.id, endpoint: '/v1/images' as '/v1/embeddings', completion_window: '24h' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('endpoint');
    expect(env.fake.requests).toEqual([]);

    env.fake.failNext(429, { error: { message: 'Enqueued token limit reached', type: 'tokens', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '7' });
    const limited = await env.master.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as Error).message).toContain('Enqueued token limit reached');
    expect((limited as Error).message).not.toContain('sk-acct-a-0001');

    // A streamed upload that is no multipart body is the client's 400, not a provider's failure.
    const broken = await fetch(`${env.stack.url}/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'x-litellm-model': 'batch-a', 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { message: string } }).error.message).toContain('Invalid multipart/form-data body');
  });
});
