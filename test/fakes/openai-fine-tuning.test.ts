/**
 * Tests of the fake fine-tuning jobs API itself, with plain fetch: the gateway's fine-tuning tests are
 * only as good as its wire format.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeBatches, startFakeBatches } from './openai-batches.ts';

let fake: FakeBatches;

beforeAll(async () => {
  fake = await startFakeBatches();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const AUTH = { authorization: 'Bearer sk-test-fake' };
const TRAINING = `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\n`;

async function upload(base: string, purpose = 'fine-tune'): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([TRAINING]), 'train.jsonl');
  form.append('purpose', purpose);
  return ((await (await fetch(`${base}/files`, { method: 'POST', headers: AUTH, body: form })).json()) as { id: string }).id;
}

const post = (url: string, body?: unknown) => fetch(url, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
const get = async (url: string) => (await fetch(url, { headers: AUTH })).json() as Promise<Record<string, unknown>>;

describe('fake OpenAI fine-tuning jobs API', () => {
  it('runs a job: create, read, events naming the job and its file, succeed(), checkpoints, list', async () => {
    const file = await upload(`${fake.url}/v1`);
    const created = await post(`${fake.url}/v1/fine_tuning/jobs`, { model: 'gpt-4o-mini-2024-07-18', training_file: file, suffix: 'mine', metadata: { run: 'a' } });
    expect(created.status).toBe(200);
    const job = (await created.json()) as Record<string, unknown>;
    expect(job).toMatchObject({
      object: 'fine_tuning.job', id: expect.stringMatching(/^ftjob-[A-Za-z0-9]{24}$/), model: 'gpt-4o-mini-2024-07-18', status: 'validating_files',
      training_file: file, validation_file: null, result_files: [], fine_tuned_model: null, metadata: { run: 'a' }, user_provided_suffix: 'mine',
      hyperparameters: { n_epochs: 'auto' }, method: { type: 'supervised' },
    });
    expect(job).not.toHaveProperty('prefix');
    expect(job).not.toHaveProperty('events');
    expect(await get(`${fake.url}/v1/fine_tuning/jobs/${job.id as string}`)).toEqual(job);

    const events = await get(`${fake.url}/v1/fine_tuning/jobs/${job.id as string}/events`);
    expect((events.data as { message: string }[]).map((e) => e.message)).toEqual([`Validating training file: ${file}`, `Created fine-tuning job: ${job.id as string}`]);

    fake.succeedJob(job.id as string);
    const done = await get(`${fake.url}/v1/fine_tuning/jobs/${job.id as string}`);
    expect(done).toMatchObject({ status: 'succeeded', fine_tuned_model: expect.stringMatching(/^ft:gpt-4o-mini-2024-07-18:fakeorganization:mine:/), result_files: [expect.stringMatching(/^file-/)] });
    expect(fake.files.get((done.result_files as string[])[0]!)?.purpose).toBe('fine-tune-results');
    const checkpoints = await get(`${fake.url}/v1/fine_tuning/jobs/${job.id as string}/checkpoints?limit=1`);
    expect(checkpoints).toMatchObject({ object: 'list', data: [{ object: 'fine_tuning.job.checkpoint', step_number: 20, fine_tuning_job_id: job.id }], has_more: true });

    await post(`${fake.url}/v1/fine_tuning/jobs`, { model: 'gpt-4o-mini', training_file: file, metadata: { run: 'b' } });
    expect(((await get(`${fake.url}/v1/fine_tuning/jobs`)).data as unknown[]).length).toBe(2);
    const filtered = await get(`${fake.url}/v1/fine_tuning/jobs?metadata[run]=a`);
    expect((filtered.data as { id: string }[]).map((j) => j.id)).toEqual([job.id]);
  });

  it('validates a job as OpenAI does: fields, model, the files\' purpose and account, metadata', async () => {
    const file = await upload(`${fake.url}/acct-a/v1`);
    const batchFile = await upload(`${fake.url}/acct-a/v1`, 'batch');
    const base = { model: 'gpt-4o-mini', training_file: file };
    const answer = async (body: unknown, account = 'acct-a') => {
      const res = await post(`${fake.url}/${account}/v1/fine_tuning/jobs`, body);
      return { status: res.status, error: ((await res.json()) as { error?: { param: string | null; message: string } }).error };
    };
    expect(await answer({ ...base, custom_llm_provider: 'openai' })).toMatchObject({ status: 400, error: { message: 'Unrecognized request argument supplied: custom_llm_provider' } });
    expect(await answer({ training_file: file })).toMatchObject({ status: 400, error: { param: 'model' } });
    expect(await answer({ ...base, model: 'gpt-9' })).toMatchObject({ status: 400, error: { param: 'model', message: 'Model gpt-9 is not available for fine-tuning or does not exist.' } });
    expect(await answer({ ...base, training_file: batchFile })).toMatchObject({ status: 400, error: { param: 'training_file' } });
    expect(await answer({ ...base, validation_file: 'file-nope' })).toMatchObject({ status: 400, error: { param: 'validation_file' } });
    expect(await answer(base, 'acct-b')).toMatchObject({ status: 400, error: { param: 'training_file' } });
    expect(await answer({ ...base, metadata: { n: 1 } })).toMatchObject({ status: 400 });
    expect(await answer({ ...base, suffix: 'x'.repeat(65) })).toMatchObject({ status: 400, error: { param: 'suffix' } });
    expect(fake.jobs.size).toBe(0);
    expect((await answer({ ...base, model: 'ft:gpt-4o-mini:org::abc123' })).status).toBe(200);
  });

  it('cancels an active job only, and keeps accounts apart', async () => {
    const file = await upload(`${fake.url}/acct-a/v1`);
    const job = (await (await post(`${fake.url}/acct-a/v1/fine_tuning/jobs`, { model: 'gpt-4o-mini', training_file: file })).json()) as { id: string };
    expect((await fetch(`${fake.url}/acct-b/v1/fine_tuning/jobs/${job.id}`, { headers: AUTH })).status).toBe(404);
    expect((await post(`${fake.url}/acct-b/v1/fine_tuning/jobs/${job.id}/cancel`)).status).toBe(404);
    const cancelled = await post(`${fake.url}/acct-a/v1/fine_tuning/jobs/${job.id}/cancel`);
    expect(await cancelled.json()).toMatchObject({ id: job.id, status: 'cancelled', finished_at: expect.any(Number) });
    expect((await post(`${fake.url}/acct-a/v1/fine_tuning/jobs/${job.id}/cancel`)).status).toBe(400);
  });
});
