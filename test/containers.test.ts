import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually, sha256 } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { apiKeyOf, decoded, useBatchesStack } from './support/provider-objects.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * OpenAI's Containers API (code interpreter sessions) through the gateway with the official openai client: a
 * container is made in a model group's account from the caller's own files, billed its session, and only its
 * owner reaches it, its files and their content (containers-in-calls.test.ts: named in model calls). Every
 * container id a key sees is the gateway's signed one.
 */

const { env, client, newKey, upload } = useBatchesStack();

const keyClient = async (user: string, models = ['batch-a'], extra: Record<string, unknown> = {}) =>
  client(await newKey({ models, user_id: user, ...extra }), { 'x-litellm-model': models[0]! });
const status = (attempt: Promise<unknown>) => attempt.then(() => 200, (e: unknown) => (e as { status?: number }).status);
const error = (attempt: Promise<unknown>) => attempt.then(() => undefined, (e: unknown) => e as { status: number; message: string; param?: string });
const rawIds = () => [...env.fake.containers.keys()];
const containerRows = (key: string, count: number) => eventually(async () => {
  const found = await query(env.stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1 AND call_type = $2 ORDER BY "startTime"', [sha256(key), 'acreate_container']);
  return found.length === count ? found : undefined;
});
const doc = async (openai: OpenAI, model: string, name = 'data.csv', content = 'a,b\n1,2\n') =>
  openai.files.create({ file: await toFile(Buffer.from(content), name), purpose: 'user_data', model } as unknown as OpenAI.FileCreateParams);

describe('Containers', () => {
  it('are made from the caller\'s files, billed their session, and their files added, read, downloaded and deleted by their owner', async () => {
    const dave = await keyClient('cntr-dave');
    const file = await doc(dave, 'batch-a');
    const container = await dave.containers.create({ name: 'analysis', file_ids: [file.id], expires_after: { anchor: 'last_active_at', minutes: 10 } });
    expect(container).toMatchObject({ object: 'container', name: 'analysis', status: 'running', memory_limit: '1g', expires_after: { anchor: 'last_active_at', minutes: 10 } });
    expect(decoded(container.id, 'cntr_')).toContain(';model,batch-a;model_id,dep-a;owner,user:cntr-dave;sig,');
    const created = env.fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/containers'))!;
    expect(created.path).toBe('/acct-a/v1/containers');
    // The provider's file id, and nothing of the gateway's (no model).
    expect(created.json).toEqual({ name: 'analysis', file_ids: [[...env.fake.files.keys()][0]], expires_after: { anchor: 'last_active_at', minutes: 10 } });
    expect(await dave.containers.retrieve(container.id)).toMatchObject({ id: container.id, name: 'analysis' });

    const copied = await dave.containers.files.list(container.id);
    expect(copied.data).toEqual([expect.objectContaining({ object: 'container.file', container_id: container.id, path: '/mnt/data/data.csv', bytes: 8 })]);
    const second = await doc(dave, 'batch-a', 'more.csv', 'c\n3\n');
    const byId = await dave.containers.files.create(container.id, { file_id: second.id });
    expect(byId).toMatchObject({ container_id: container.id, path: '/mnt/data/more.csv' });
    const uploaded = await dave.containers.files.create(container.id, { file: await toFile(Buffer.from('print(1)\n'), 'run.py') });
    expect(uploaded).toMatchObject({ container_id: container.id, path: '/mnt/data/run.py', bytes: 9 });
    expect(env.fake.requests.at(-1)!.form).toEqual({});
    expect(await dave.containers.files.retrieve(uploaded.id, { container_id: container.id })).toMatchObject({ id: uploaded.id, container_id: container.id });
    const content = await dave.containers.files.content.retrieve(uploaded.id, { container_id: container.id });
    expect(await content.text()).toBe('print(1)\n');
    await dave.containers.files.delete(byId.id, { container_id: container.id });
    expect((await dave.containers.files.list(container.id)).data.map((f) => f.id)).toEqual([uploaded.id, copied.data[0]!.id]);

    const big = await dave.containers.create({ name: 'big', memory_limit: '4g' });
    const shown = JSON.stringify([container, big, copied, byId, uploaded]);
    for (const id of rawIds()) expect(shown).not.toContain(id);
    // Billed at once, at LiteLLM's session price, times the memory's sessions.
    const spent = await containerRows(apiKeyOf(dave), 2);
    expect(spent.map((r) => [Number(r.spend), r.model_group, r.model_id, r.status])).toEqual([[0.03, 'batch-a', 'dep-a', 'success'], [0.12, 'batch-a', 'dep-a', 'success']]);
    expect(rawIds()).toContain(spent[0]!.request_id);

    await dave.containers.delete(container.id);
    expect(await status(dave.containers.retrieve(container.id))).toBe(404);
  });

  it('are the 404 of an unknown id to anyone but their owner, listed for the master key only, and refuse another owner\'s or account\'s files', async () => {
    const dave = await keyClient('cntr-dave2');
    const erin = await keyClient('cntr-erin');
    const mine = await dave.containers.create({ name: 'mine' });
    const file = (await dave.containers.files.create(mine.id, { file: await toFile(Buffer.from('x'), 'x.txt') })).id;
    const before = env.fake.requests.length;
    for (const attempt of [
      () => erin.containers.retrieve(mine.id), () => erin.containers.delete(mine.id), () => erin.containers.files.list(mine.id),
      () => erin.containers.files.create(mine.id, { file_id: 'file-x' }), () => erin.containers.files.retrieve(file, { container_id: mine.id }),
      () => erin.containers.files.content.retrieve(file, { container_id: mine.id }), () => erin.containers.files.delete(file, { container_id: mine.id }),
    ]) expect(await status(attempt())).toBe(404);
    // The provider's own id is no key's to name; a forged id (another owner, unsigned) neither.
    const raw = rawIds()[0]!;
    expect(await status(dave.containers.retrieve(raw))).toBe(404);
    const forged = `cntr_${Buffer.from(decoded(mine.id, 'cntr_').replace('user:cntr-dave2', 'user:cntr-erin')).toString('base64url')}`;
    expect(await status(erin.containers.retrieve(forged))).toBe(404);
    expect(env.fake.requests.length).toBe(before);
    // The master key may name the raw id, with the group.
    expect((await client(TEST_MASTER_KEY, { 'x-litellm-model': 'batch-a' }).containers.retrieve(raw)).name).toBe('mine');

    expect(await status(dave.containers.list())).toBe(403);
    await erin.containers.create({ name: 'hers' });
    const everyone = await client(TEST_MASTER_KEY, { 'x-litellm-model': 'batch-a' }).containers.list();
    expect(everyone.data.map((c) => c.name)).toEqual(['hers', 'mine']);
    for (const id of rawIds()) expect(JSON.stringify(everyone.data)).not.toContain(id);

    const sent = env.fake.requests.length;
    const erinsFile = await doc(erin, 'batch-a');
    expect(await status(dave.containers.create({ name: 'x', file_ids: [erinsFile.id] }))).toBe(404);
    expect(await status(dave.containers.create({ name: 'x', file_ids: [[...env.fake.files.keys()][0]!] }))).toBe(404);
    const both = await keyClient('cntr-dave2', ['batch-a', 'batch-b']);
    const inB = await doc(client(apiKeyOf(both), { 'x-litellm-model': 'batch-b' }), 'batch-b');
    const otherAccount = await error(both.containers.create({ name: 'x', file_ids: [inB.id] }));
    expect(otherAccount).toMatchObject({ status: 400, message: expect.stringContaining('another provider account') });
    // A skill by id is the account's; a group without an OpenAI deployment keeps no containers; no group at all is a 400.
    expect(await status(dave.containers.create({ name: 'x', skills: [{ type: 'skill_reference', skill_id: 'skill_1' }] }))).toBe(400);
    expect(await status(client(TEST_MASTER_KEY, { 'x-litellm-model': 'local-llama' }).containers.create({ name: 'x' }))).toBe(400);
    expect(await status(client(TEST_MASTER_KEY).containers.create({ name: 'x' }))).toBe(400);
    expect(env.fake.requests.slice(sent).filter((r) => r.path.includes('/containers'))).toEqual([]);
  });

  it('pass a provider\'s refusal on as a failure at no cost, refuse a key over its budget, and reach Azure\'s v1 API', async () => {
    const dave = await keyClient('cntr-poor', ['batch-a', 'azure-batch'], { max_budget: 0.05 });
    env.fake.failNext(400, { error: { message: 'Invalid \'name\': string too long.', type: 'invalid_request_error', param: 'name', code: null } });
    const refused = await error(dave.containers.create({ name: 'x'.repeat(300) }));
    expect(refused).toMatchObject({ status: 400, message: expect.stringContaining('string too long') });
    await dave.containers.create({ name: 'ok' });
    const logged = await containerRows(apiKeyOf(dave), 2);
    expect(logged.map((r) => [r.status, Number(r.spend)])).toEqual([['failure', 0], ['success', 0.03]]);
    // Concurrent creates are held at their session's price: of three at 0.03 under a budget of 0.05, one is made.
    const carol = await keyClient('cntr-poor2', ['batch-a'], { max_budget: 0.05 });
    const made = env.fake.containers.size;
    const codes = await Promise.all([1, 2, 3].map((i) => status(carol.containers.create({ name: `race ${i}` }))));
    expect(codes.sort()).toEqual([200, 429, 429]);
    expect(env.fake.containers.size).toBe(made + 1);
    const billed = await containerRows(apiKeyOf(carol), 1);
    expect(billed.map((r) => [r.status, Number(r.spend)])).toEqual([['success', 0.03]]);

    const az = await client(TEST_MASTER_KEY, { 'x-litellm-model': 'azure-batch' }).containers.create({ name: 'on azure' });
    const sent = env.fake.requests.at(-1)!;
    expect(sent.path).toBe('/az/openai/v1/containers');
    expect(sent.query).toEqual({});
    expect(sent.headers['api-key']).toBe('azure-upstream-0003');
    expect(decoded(az.id, 'cntr_')).toContain(';model_id,dep-az;');
    expect((await client(TEST_MASTER_KEY).containers.retrieve(az.id)).name).toBe('on azure');
    // LiteLLM's paths without `/v1`, and under `/openai/v1`, serve the same.
    for (const path of [`/containers/${az.id}`, `/openai/v1/containers/${az.id}`]) {
      const res = await fetch(`${env.stack.url}${path}`, { headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
      expect(await res.json()).toMatchObject({ id: az.id, name: 'on azure' });
    }
  });

  it('answer a file upload refused while the client is still sending it with the refusal, not a reset connection', async () => {
    // The key's one request a minute went on the container: the 900 KB upload is refused (429) before it is sent
    // on, and read to its end first, so the client sees the answer.
    const erin = await keyClient('cntr-limited', ['batch-a'], { rpm_limit: 1 });
    const container = await erin.containers.create({ name: 'limited' });
    const sent = env.fake.requests.length;
    const refused = await error(erin.containers.files.create(container.id, { file: await toFile(Buffer.alloc(900_000, 97), 'big.txt') }));
    expect(refused).toMatchObject({ status: 429 });
    expect(env.fake.requests.length).toBe(sent);
  });
});
