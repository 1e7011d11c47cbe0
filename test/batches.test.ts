import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeBatches, startFakeBatches } from './fakes/openai-batches.ts';
import { eventually, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { startTestStack, TEST_MASTER_KEY, type TestStack } from './support/stack.ts';

/**
 * The Files and Batch APIs through the gateway, with the official openai client, as LiteLLM's model-based
 * routing serves them: a model group names the provider account (OpenAI, Azure), the ids given out carry
 * it and their owner, a key reaches only its own, and a finished batch is billed once, at batch prices, to
 * the key that created it (its spend row, its budget).
 */

let fake: FakeBatches;
let stack: TestStack;
let master: OpenAI;

const INPUT = [1, 2].map((i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `q${i}` }] } })).join('\n');
/** Two answered lines of 100 prompt and 20 completion tokens, and one the provider failed (not billed). */
const OUTPUT = [
  ...[1, 2].map((i) => ({ id: `req_${i}`, custom_id: `r${i}`, response: { status_code: 200, request_id: `rq${i}`, body: { id: `chatcmpl-${i}`, object: 'chat.completion', model: 'gpt-4o-mini', usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } } }, error: null })),
  { id: 'req_3', custom_id: 'r3', response: { status_code: 500, request_id: 'rq3', body: { error: { message: 'boom' } } }, error: null },
];
/** At the deployment's prices (2e-6 and 8e-6 a token), halved for a batch. */
const BATCH_COST = (200 * 2e-6 + 40 * 8e-6) / 2;

beforeAll(async () => {
  fake = await startFakeBatches();
  stack = await startTestStack({
    configYaml: `
model_list:
  - model_name: batch-a
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/acct-a/v1", api_key: sk-acct-a-0001}
    model_info: {id: dep-a, input_cost_per_token: 0.000002, output_cost_per_token: 0.000008}
  - model_name: batch-a-cheap
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/acct-a/v1", api_key: sk-acct-a-0001}
    model_info: {id: dep-a-cheap, input_cost_per_token: 0, output_cost_per_token: 0}
  - model_name: batch-b
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${fake.url}/acct-b/v1", api_key: sk-acct-b-0002}
    model_info: {id: dep-b}
  - model_name: azure-batch
    litellm_params: {model: azure/my-batch-deployment, api_base: "${fake.url}/az", api_key: azure-upstream-0003, api_version: "2024-10-21"}
    model_info: {id: dep-az, base_model: gpt-4o-mini}
  - model_name: local-llama
    litellm_params: {model: hosted_vllm/llama, api_base: "${fake.url}/vllm/v1"}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`,
  });
  master = client(TEST_MASTER_KEY);
});
afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});
beforeEach(() => fake.reset());

function client(apiKey: string, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: headers });
}

async function newKey(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${stack.url}/key/generate`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json() as { key: string }).key;
}

/** Uploads the input through the gateway into a model group's account. */
async function upload(openai: OpenAI, model: string) {
  // The SDK sends every field of the body as a form field: `model` routes, as LiteLLM's extra_body does.
  return openai.files.create({ file: await toFile(Buffer.from(INPUT), 'input.jsonl'), purpose: 'batch', model } as unknown as OpenAI.FileCreateParams);
}

const decoded = (id: string, prefix: string) => Buffer.from(id.slice(prefix.length), 'base64url').toString('utf8');
const lastUpstream = (path: RegExp) => fake.requests.filter((r) => path.test(r.path)).at(-1)!;

describe('Files', () => {
  it('go to the account of the model group named, with its credentials, and come back under the gateway\'s id', async () => {
    const file = await upload(master, 'batch-a');
    const upload0 = lastUpstream(/\/files$/);
    expect(upload0.path).toBe('/acct-a/v1/files');
    expect(upload0.headers.authorization).toBe('Bearer sk-acct-a-0001');
    // The gateway's own field stays with it (OpenAI refuses fields it does not know).
    expect(upload0.form).toEqual({ purpose: 'batch' });
    const upstreamId = [...fake.files.keys()][0]!;
    expect(decoded(file.id, 'file-')).toMatch(new RegExp(`^litellm:${upstreamId};model,batch-a;model_id,dep-a;owner,master;sig,[\\w-]{32}$`));
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', bytes: INPUT.length, filename: 'input.jsonl' });

    expect((await master.files.retrieve(file.id)).id).toBe(file.id);
    expect(await (await master.files.content(file.id)).text()).toBe(INPUT);
    expect(lastUpstream(/content$/).path).toBe(`/acct-a/v1/files/${upstreamId}/content`);
    expect(await master.files.delete(file.id)).toMatchObject({ id: file.id, deleted: true });
    expect(fake.files.size).toBe(0);
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
    expect(await (await master.files.content(file.id)).text()).toBe(INPUT.replaceAll('"model":"gpt-4o-mini"', '"model":"my-batch-deployment"'));
  });

  it('are refused with a clear 400 when no group is named or the group\'s provider keeps none, before anything is sent', async () => {
    const none = await master.files.create({ file: await toFile(Buffer.from(INPUT), 'input.jsonl'), purpose: 'batch' }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(OpenAI.BadRequestError);
    expect((none as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('x-litellm-model');
    const vllm = await upload(master, 'local-llama').catch((e: unknown) => e);
    expect(vllm).toBeInstanceOf(OpenAI.BadRequestError);
    expect((vllm as Error).message).toContain('has no deployment whose provider keeps files and batches');
    expect(fake.requests).toEqual([]);
  });

  it('are a key\'s own: another owner\'s id, a forged one or a group it may not call is not found or refused, and listing is the master key\'s', async () => {
    const alice = await newKey({ models: ['batch-a'], user_id: 'alice' });
    const bob = await newKey({ models: ['batch-a'], user_id: 'bob' });
    const mine = await upload(client(alice), 'batch-a');
    expect(decoded(mine.id, 'file-')).toContain(';owner,user:alice;');
    expect(await (await client(alice).files.content(mine.id)).text()).toBe(INPUT);

    const upstreamId = [...fake.files.keys()][0]!;
    const forged = `file-${Buffer.from(`litellm:${upstreamId};model,batch-a;model_id,dep-a;owner,user:bob`).toString('base64url')}`;
    for (const id of [mine.id, forged, upstreamId]) {
      const err = await client(bob).files.retrieve(id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    }
    expect(await client(bob).files.delete(mine.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(fake.files.has(upstreamId)).toBe(true);

    const refused = await upload(client(alice), 'batch-b').catch((e: unknown) => e);
    expect((refused as { status?: number }).status).toBe(401);
    expect((refused as Error).message).toContain('batch-b');

    expect(await client(alice).files.list({ model: 'batch-a' } as OpenAI.FileListParams).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.PermissionDeniedError);
    await upload(master, 'batch-b');
    const listed = await master.files.list({ model: 'batch-a' } as OpenAI.FileListParams);
    // Account a's file only, under ids the master key can use.
    expect(listed.data.map((f) => decoded(f.id, 'file-'))).toEqual([expect.stringMatching(new RegExp(`^litellm:${upstreamId};model,batch-a;`))]);
    expect((await master.files.retrieve(listed.data[0]!.id)).bytes).toBe(INPUT.length);
  });
});

describe('Batch files', () => {
  it('name only the group\'s model: each line is set to the deployment\'s, and a batch of a line that escaped it is refused', async () => {
    const frank = client(await newKey({ models: ['batch-a'], user_id: 'frank' }), { 'x-litellm-model': 'batch-a' });
    const asked = [{ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'batch-a', messages: [] } }, { custom_id: 'b', method: 'POST', url: '/v1/chat/completions', body: { model: 'o1-pro', messages: [] } }];
    const file = await frank.files.create({ file: await toFile(Buffer.from(asked.map((l) => JSON.stringify(l)).join('\n')), 'in.jsonl'), purpose: 'batch' });
    const stored = [...fake.files.values()][0]!.content.toString().split('\n').map((l) => (JSON.parse(l) as { body: { model: string } }).body.model);
    expect(stored).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);
    await frank.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });

    // A line the gateway cannot read strictly passes the upload as it is, so the batch is refused.
    const sly = '{"custom_id":"c","method":"POST","url":"/v1/chat/completions","body":{"model":"o1-pro","n":NaN}}';
    const bad = await frank.files.create({ file: await toFile(Buffer.from(sly), 'in.jsonl'), purpose: 'batch' });
    const batches = fake.batches.size;
    const refused = await frank.batches.create({ input_file_id: bad.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toContain('line 1 is not JSON');
    expect(fake.batches.size).toBe(batches);
  });
});

describe('Batches', () => {
  it('run on the file\'s account and are billed once, at batch prices, to the key that created them, however often they are read', async () => {
    // A budget between one batch's cost and two.
    const key = await newKey({ models: ['batch-a'], user_id: 'carol', max_budget: 0.0005 });
    const carol = client(key);
    const file = await upload(carol, 'batch-a');
    const batch = await carol.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: 'nightly' } });
    const sent = lastUpstream(/\/batches$/);
    expect(sent.path).toBe('/acct-a/v1/batches');
    const upstreamFile = [...fake.files.keys()][0]!;
    expect(sent.json).toEqual({
      input_file_id: upstreamFile, endpoint: '/v1/chat/completions', completion_window: '24h',
      metadata: { run: 'nightly', tollgate_owner: 'user:carol', tollgate_key: sha256(key), tollgate_model_id: 'dep-a' },
    });
    // The client sees its own metadata, and the gateway's ids for the batch and its file.
    expect(batch).toMatchObject({ object: 'batch', status: 'validating', input_file_id: file.id, metadata: { run: 'nightly' }, request_counts: { total: 2 } });
    const upstreamBatch = [...fake.batches.keys()][0]!;
    expect(decoded(batch.id, 'batch_')).toContain(`litellm:${upstreamBatch};model,batch-a;model_id,dep-a;owner,user:carol;`);

    expect((await carol.batches.retrieve(batch.id)).status).toBe('validating');
    fake.complete(upstreamBatch, OUTPUT);
    const done = await carol.batches.retrieve(batch.id);
    expect(done.status).toBe('completed');
    const lines = (await (await carol.files.content(done.output_file_id!)).text()).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { custom_id: string }).custom_id)).toEqual(['r1', 'r2', 'r3']);

    const row = await eventually(() => spendLogRow(stack.db.url, upstreamBatch));
    expect(row).toMatchObject({ call_type: 'aretrieve_batch', api_key: sha256(key), model_group: 'batch-a', model_id: 'dep-a', prompt_tokens: 200, completion_tokens: 40, user: 'carol' });
    expect(Number(row.spend)).toBeCloseTo(BATCH_COST, 10);
    await carol.batches.retrieve(batch.id);
    await master.batches.retrieve(batch.id);
    const keySpend = async () => Number((await query(stack.db.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [sha256(key)]))[0]!.spend);
    await eventually(async () => (Math.abs(await keySpend() - BATCH_COST) < 1e-12 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await keySpend()).toBeCloseTo(BATCH_COST, 12);
    expect(await query(stack.db.url, 'SELECT 1 FROM "LiteLLM_SpendLogs" WHERE request_id = $1', [upstreamBatch])).toHaveLength(1);

    // The key's limiter counted it once, however often it was read: a second batch is within the budget.
    const second = await carol.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    fake.complete([...fake.batches.keys()][1]!, OUTPUT);
    expect((await carol.batches.retrieve(second.id)).status).toBe('completed');
    await eventually(async () => (Math.abs(await keySpend() - 2 * BATCH_COST) < 1e-12 ? true : undefined));
    // Two are past it: the next batch is refused before reaching the provider.
    const before = fake.requests.length;
    const refused = await carol.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).catch((e: unknown) => e);
    expect((refused as { status?: number }).status).toBe(429);
    expect((refused as Error).message).toContain('Budget has been exceeded!');
    expect(fake.requests.length).toBe(before);
  });

  it('list only the caller\'s own (every one for the master key), and cancel by the gateway\'s id', async () => {
    const dave = client(await newKey({ models: ['batch-a'], user_id: 'dave' }));
    const daveFile = await upload(dave, 'batch-a');
    const daves = await dave.batches.create({ input_file_id: daveFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const masterFile = await upload(master, 'batch-a');
    const masters = await master.batches.create({ input_file_id: masterFile.id, endpoint: '/v1/embeddings', completion_window: '24h' });

    const listed = await client((dave as unknown as { apiKey: string }).apiKey, { 'x-litellm-model': 'batch-a' }).batches.list();
    expect(listed.data.map((b) => b.id)).toEqual([daves.id]);
    expect(listed.data[0]!.metadata).toBeNull();
    const all = await client(TEST_MASTER_KEY, { 'x-litellm-model': 'batch-a' }).batches.list();
    expect(new Set(all.data.map((b) => decoded(b.id, 'batch_').split(';')[0]))).toEqual(new Set([...fake.batches.keys()].map((id) => `litellm:${id}`)));
    expect(all.data).toHaveLength(2);

    // Paging a page of one through an account of others' batches gives out only the caller's own ids.
    for (let i = 0; i < 3; i++) await master.batches.create({ input_file_id: masterFile.id, endpoint: '/v1/embeddings', completion_window: '24h' });
    const page = await fetch(`${stack.url}/v1/batches?model=batch-a&limit=1`, { headers: { authorization: `Bearer ${(dave as unknown as { apiKey: string }).apiKey}` } });
    const onePage = await page.json() as { data: { id: string }[]; first_id: string; last_id: string; has_more: boolean };
    expect(onePage).toMatchObject({ data: [{ id: daves.id }], first_id: daves.id, last_id: daves.id, has_more: false });

    expect(await dave.batches.cancel(masters.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    const cancelled = await dave.batches.cancel(daves.id);
    expect(cancelled).toMatchObject({ id: daves.id, status: 'cancelling' });
    expect(lastUpstream(/cancel$/).path).toMatch(/^\/acct-a\/v1\/batches\/batch_\w+\/cancel$/);
  });

  it('are billed when a list shows them done, or cancelled part way with an output, as when read alone', async () => {
    const key = await newKey({ models: ['batch-a'], user_id: 'erin' });
    const erin = client(key, { 'x-litellm-model': 'batch-a' });
    const file = await upload(erin, 'batch-a');
    await erin.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await erin.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const [listedDone, cancelledPartWay] = [...fake.batches.keys()];
    fake.complete(listedDone!, OUTPUT);
    // Cancelled after one line ran: the provider bills it, so the gateway does.
    fake.complete(cancelledPartWay!, OUTPUT.slice(0, 1));
    Object.assign(fake.batches.get(cancelledPartWay!)!, { status: 'cancelled' });
    const listed = await erin.batches.list();
    expect(listed.data.map((b) => b.status).sort()).toEqual(['cancelled', 'completed']);
    const done = await eventually(() => spendLogRow(stack.db.url, listedDone!));
    expect(Number(done.spend)).toBeCloseTo(BATCH_COST, 10);
    const partial = await eventually(() => spendLogRow(stack.db.url, cancelledPartWay!));
    expect(partial).toMatchObject({ api_key: sha256(key), prompt_tokens: 100, completion_tokens: 20 });
    expect(Number(partial.spend)).toBeCloseTo(BATCH_COST / 2, 10);
  });

  it('are listed and billed only through the deployment they ran on, and bill the team of a key deleted since', async () => {
    const team = await (await fetch(`${stack.url}/team/new`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ team_alias: 'nightly' }) })).json() as { team_id: string };
    const key = await newKey({ models: ['batch-a', 'batch-a-cheap'], team_id: team.team_id });
    const gina = client(key);
    const file = await upload(gina, 'batch-a');
    const batch = await gina.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    fake.complete([...fake.batches.keys()][0]!, OUTPUT);
    // The same account through a free group: the batch is not there, so not billed at its price.
    expect((await client(key, { 'x-litellm-model': 'batch-a-cheap' }).batches.list()).data).toEqual([]);

    const deleted = await fetch(`${stack.url}/key/delete`, { method: 'POST', headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ keys: [key] }) });
    expect(deleted.status).toBe(200);
    expect((await master.batches.retrieve(batch.id)).status).toBe('completed');
    const row = await eventually(() => spendLogRow(stack.db.url, [...fake.batches.keys()][0]!));
    expect(row).toMatchObject({ team_id: team.team_id, api_key: sha256(key) });
    expect(Number(row.spend)).toBeCloseTo(BATCH_COST, 10);
    const teamSpend = async () => Number((await query(stack.db.url, 'SELECT team_spend AS spend FROM "LiteLLM_TeamTable" WHERE team_id = $1', [team.team_id]))[0]!.spend);
    await eventually(async () => (Math.abs(await teamSpend() - BATCH_COST) < 1e-12 ? true : undefined));
  });

  it('pass the provider\'s refusals on in the OpenAI envelope, and refuse bad input before anything is sent', async () => {
    const file = await upload(master, 'batch-a');
    fake.reset();
    const bad = await master.batches.create({ input_file_id: file.id, endpoint: '/v1/images' as '/v1/embeddings', completion_window: '24h' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('endpoint');
    expect(fake.requests).toEqual([]);

    fake.failNext(429, { error: { message: 'Enqueued token limit reached', type: 'tokens', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '7' });
    const limited = await master.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as Error).message).toContain('Enqueued token limit reached');
    expect((limited as Error).message).not.toContain('sk-acct-a-0001');

    // A streamed upload that is no multipart body is the client's 400, not a provider's failure.
    const broken = await fetch(`${stack.url}/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'x-litellm-model': 'batch-a', 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { message: string } }).error.message).toContain('Invalid multipart/form-data body');
  });
});
