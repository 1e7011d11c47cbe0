/**
 * Tests of the fake Files and Batch APIs itself, with plain fetch and
 * FormData: the gateway's batch tests are only as good as its wire format.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeBatches, startFakeBatches } from './openai-batches.ts';

let fake: FakeBatches;

beforeAll(async () => {
  fake = await startFakeBatches();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const OPENAI_AUTH = { authorization: 'Bearer sk-test-fake' };
const AZURE_AUTH = { 'api-key': 'azure-test-key' };
const INPUT = [
  { custom_id: 'r1', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } },
  { custom_id: 'r2', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'bye' }] } },
];
const JSONL = INPUT.map((line) => JSON.stringify(line)).join('\n') + '\n';

function uploadForm(fields: Record<string, string> = { purpose: 'batch' }): FormData {
  const form = new FormData();
  form.append('file', new Blob([JSONL], { type: 'application/jsonl' }), 'input.jsonl');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
}

async function upload(base: string, headers: Record<string, string> = OPENAI_AUTH, query = ''): Promise<Response> {
  return fetch(`${base}/files${query}`, { method: 'POST', headers, body: uploadForm() });
}

function postJson(url: string, body: unknown, headers: Record<string, string> = OPENAI_AUTH): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('fake OpenAI Files and Batch APIs', () => {
  it('runs an upload, a batch, complete() and the output download', async () => {
    const uploaded = await upload(`${fake.url}/v1`);
    expect(uploaded.status).toBe(200);
    const file = (await uploaded.json()) as Record<string, unknown>;
    expect(file).toEqual({ object: 'file', id: expect.stringMatching(/^file-[A-Za-z0-9]{24}$/), bytes: Buffer.byteLength(JSONL), created_at: expect.any(Number), filename: 'input.jsonl', purpose: 'batch', status: 'processed' });
    expect(fake.files.get(file.id as string)?.content.toString()).toBe(JSONL);
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/v1/files', form: { purpose: 'batch' }, headers: { authorization: 'Bearer sk-test-fake' } });

    const created = await postJson(`${fake.url}/v1/batches`, { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { job: 'nightly' } });
    expect(created.status).toBe(200);
    const batch = (await created.json()) as Record<string, unknown>;
    expect(batch).toMatchObject({ id: expect.stringMatching(/^batch_[A-Za-z0-9]{24}$/), object: 'batch', status: 'validating', input_file_id: file.id, output_file_id: null, request_counts: { total: 2, completed: 0, failed: 0 }, metadata: { job: 'nightly' } });
    expect(batch.expires_at).toBe((batch.created_at as number) + 86_400);
    expect(batch).not.toHaveProperty('prefix');
    expect(fake.requests[1]?.json).toEqual({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { job: 'nightly' } });

    const output = [{ id: 'batch_req_1', custom_id: 'r1', response: { status_code: 200, body: { object: 'chat.completion' } }, error: null }];
    const outputId = fake.complete(batch.id as string, output);
    const done = (await (await fetch(`${fake.url}/v1/batches/${batch.id}`, { headers: OPENAI_AUTH })).json()) as Record<string, unknown>;
    expect(done).toMatchObject({ status: 'completed', output_file_id: outputId, completed_at: expect.any(Number), request_counts: { total: 2, completed: 1, failed: 0 } });

    const content = await fetch(`${fake.url}/v1/files/${outputId}/content`, { headers: OPENAI_AUTH });
    expect(content.headers.get('content-type')).toBe('application/octet-stream');
    expect(await content.text()).toBe(`${JSON.stringify(output[0])}\n`);

    const list = (await (await fetch(`${fake.url}/v1/files?purpose=batch_output`, { headers: OPENAI_AUTH })).json()) as Record<string, unknown>;
    expect(list).toMatchObject({ object: 'list', data: [{ id: outputId, purpose: 'batch_output', filename: `${batch.id}_output.jsonl` }], first_id: outputId, last_id: outputId, has_more: false });

    const cancelled = await fetch(`${fake.url}/v1/batches/${batch.id}/cancel`, { method: 'POST', headers: OPENAI_AUTH });
    expect(cancelled.status).toBe(400);
  });

  it('rejects a form field OpenAI does not know', async () => {
    const res = await fetch(`${fake.url}/v1/files`, { method: 'POST', headers: OPENAI_AUTH, body: uploadForm({ purpose: 'batch', custom_llm_provider: 'openai' }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { message: 'Unrecognized request argument supplied: custom_llm_provider', type: 'invalid_request_error', param: null, code: null } });
    expect(fake.files.size).toBe(0);
    expect(fake.requests[0]?.form).toEqual({ purpose: 'batch', custom_llm_provider: 'openai' });
  });

  it('validates a batch: unknown fields, endpoint, metadata', async () => {
    const file = (await (await upload(`${fake.url}/v1`)).json()) as { id: string };
    const base = { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' };
    const statusOf = async (body: unknown) => (await postJson(`${fake.url}/v1/batches`, body)).status;
    expect(await statusOf({ ...base, model: 'gpt-4o-mini' })).toBe(400);
    expect(await statusOf({ ...base, endpoint: '/v1/images/variations' })).toBe(400);
    expect(await statusOf({ ...base, completion_window: '48h' })).toBe(400);
    expect(await statusOf({ ...base, metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) })).toBe(400);
    expect(await statusOf({ ...base, metadata: { n: 1 } })).toBe(400);
    expect(await statusOf(base)).toBe(200);
    expect(fake.batches.size).toBe(1);
  });

  it('keeps accounts (path prefixes) apart', async () => {
    const file = (await (await upload(`${fake.url}/acct-a/v1`)).json()) as { id: string };
    expect(fake.files.get(file.id)?.prefix).toBe('/acct-a');
    expect((await fetch(`${fake.url}/acct-a/v1/files/${file.id}`, { headers: OPENAI_AUTH })).status).toBe(200);

    const other = await fetch(`${fake.url}/acct-b/v1/files/${file.id}`, { headers: OPENAI_AUTH });
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: { message: `No such File object: ${file.id}`, type: 'invalid_request_error', param: 'id', code: null } });
    const batch = await postJson(`${fake.url}/acct-b/v1/batches`, { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(batch.status).toBe(400);
    expect(((await batch.json()) as { error: { message: string } }).error.message).toBe(`Invalid 'input_file_id': '${file.id}'. No such file.`);
    expect((await (await fetch(`${fake.url}/acct-b/v1/files`, { headers: OPENAI_AUTH })).json()) as unknown).toMatchObject({ data: [], first_id: null });
  });

  it('serves Azure paths with api-version and api-key, and checks auth on both flavours', async () => {
    const azure = await upload(`${fake.url}/openai`, AZURE_AUTH, '?api-version=2024-10-21');
    expect(azure.status).toBe(200);

    const unversioned = await upload(`${fake.url}/openai`, AZURE_AUTH);
    expect(unversioned.status).toBe(404);
    expect(await unversioned.json()).toEqual({ error: { code: '404', message: 'Resource not found' } });

    const bearerOnAzure = await upload(`${fake.url}/openai`, OPENAI_AUTH, '?api-version=2024-10-21');
    expect(bearerOnAzure.status).toBe(401);
    const noKey = await fetch(`${fake.url}/v1/files`, { headers: AZURE_AUTH });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ error: { type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    expect(fake.files.size).toBe(1);
  });

  it('pages batches newest first', async () => {
    const file = (await (await upload(`${fake.url}/v1`)).json()) as { id: string };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${fake.url}/v1/batches`, { input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const first = (await (await fetch(`${fake.url}/v1/batches?limit=2`, { headers: OPENAI_AUTH })).json()) as { data: { id: string }[]; has_more: boolean; last_id: string };
    expect(first.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const second = (await (await fetch(`${fake.url}/v1/batches?limit=2&after=${first.last_id}`, { headers: OPENAI_AUTH })).json()) as { data: { id: string }[]; has_more: boolean };
    expect(second).toMatchObject({ data: [{ id: ids[0] }], has_more: false });
  });

  it('answers queued failures, then serves normally', async () => {
    fake.failNext(429, { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { 'Retry-After': '2' }, 2);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${fake.url}/v1/files`, { headers: OPENAI_AUTH });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('2');
      expect(await res.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    }
    expect((await fetch(`${fake.url}/v1/files`, { headers: OPENAI_AUTH })).status).toBe(200);
    expect(fake.requests).toHaveLength(3);
  });
});
