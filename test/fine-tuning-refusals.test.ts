import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { apiKeyOf, uploadTraining, useBatchesStack } from './support/provider-objects.ts';

/**
 * What fine-tuning jobs refuse, and how a refusal reads: a method that runs models beyond the key's,
 * the provider's refusals under the ids the client sent, and a provider answer the gateway cannot read
 * as a 502 in its envelope (logged as a failure when it was a creation).
 */

const { env, client, newKey, upload, lastUpstream } = useBatchesStack();

/** Reinforcement fine-tuning: its graders name models of their own. */
const REINFORCEMENT = {
  type: 'reinforcement',
  reinforcement: { grader: { type: 'multi', graders: { judge: { type: 'score_model', name: 'judge', model: 'o3-2025-04-16', input: [] } }, calculate_output: 'judge' } },
};
const failure = (e: unknown) => e as InstanceType<typeof OpenAI.APIError>;

describe('Fine-tuning jobs', () => {
  it('with graders (reinforcement, or any method but supervised and dpo) are the master key\'s only', async () => {
    const ivy = client(await newKey({ models: ['batch-a'], user_id: 'ivy' }));
    const training = await uploadTraining(ivy, 'batch-a');
    const before = env.fake.requests.length;
    for (const method of [REINFORCEMENT, { type: 'supervised', reinforcement: REINFORCEMENT.reinforcement }, { type: 'graded' }, {}]) {
      const refused = failure(await ivy.fineTuning.jobs.create({ model: 'batch-a', training_file: training.id, method: method as never }).catch((e: unknown) => e));
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect(refused.param).toBe('method');
      expect(refused.message).toContain('is for the master key only');
    }
    expect(env.fake.requests.length).toBe(before);

    const dpo = { type: 'dpo', dpo: { hyperparameters: { beta: 0.1 } } } as const;
    await ivy.fineTuning.jobs.create({ model: 'batch-a', training_file: training.id, method: dpo });
    expect((lastUpstream(/fine_tuning\/jobs$/).json as { method: unknown }).method).toEqual(dpo);
    const mastersFile = await uploadTraining(env.master, 'batch-a');
    await env.master.fineTuning.jobs.create({ model: 'batch-a', training_file: mastersFile.id, method: REINFORCEMENT as never });
    expect((lastUpstream(/fine_tuning\/jobs$/).json as { method: unknown }).method).toEqual(REINFORCEMENT);
  });

  it('refused by the provider name the ids the client sent, not the provider\'s', async () => {
    const jay = client(await newKey({ models: ['batch-a'], user_id: 'jay' }));
    const batchFile = await upload(jay, 'batch-a');
    const rawBatchFile = [...env.fake.files.keys()][0]!;
    const wrongPurpose = failure(await jay.fineTuning.jobs.create({ model: 'batch-a', training_file: batchFile.id }).catch((e: unknown) => e));
    expect(wrongPurpose.status).toBe(400);
    expect(wrongPurpose.message).toContain(`File ${batchFile.id} has purpose 'batch'`);
    expect(wrongPurpose.message).not.toContain(rawBatchFile);
    const training = await uploadTraining(jay, 'batch-a');
    const badValidation = failure(await jay.fineTuning.jobs.create({ model: 'batch-a', training_file: training.id, validation_file: batchFile.id }).catch((e: unknown) => e));
    expect(badValidation.message).toContain(`File ${batchFile.id} has purpose 'batch'; a validation_file`);

    const job = await jay.fineTuning.jobs.create({ model: 'batch-a', training_file: training.id });
    const rawJob = [...env.fake.jobs.keys()][0]!;
    env.fake.succeedJob(rawJob);
    const done = failure(await jay.fineTuning.jobs.cancel(job.id).catch((e: unknown) => e));
    expect(done.message).toContain(`Job has already completed: ${job.id} (status 'succeeded')`);
    // A job the provider no longer has, by every route.
    env.fake.jobs.delete(rawJob);
    for (const attempt of [() => jay.fineTuning.jobs.retrieve(job.id), () => jay.fineTuning.jobs.cancel(job.id), () => jay.fineTuning.jobs.listEvents(job.id), () => jay.fineTuning.jobs.checkpoints.list(job.id)]) {
      const gone = failure(await attempt().catch((e: unknown) => e));
      expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
      expect(gone.message).toContain(`Could not find fine tune: ${job.id}`);
      expect(gone.message).not.toContain(rawJob);
    }
  });

  it('whose creation the provider answers with no JSON are a 502 in the gateway\'s envelope, logged as a failure', async () => {
    const key = await newKey({ models: ['batch-a'], user_id: 'kim' });
    const training = await uploadTraining(client(key), 'batch-a');
    env.fake.failNext(200, Buffer.from('<html>upstream hiccup</html>'));
    const res = await fetch(`${env.stack.url}/v1/fine_tuning/jobs`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'batch-a', training_file: training.id }),
    });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: { message: 'The provider\'s answer to a new fine-tuning job was not JSON', type: 'api_error', param: null, code: '502' } });
    const row = await eventually(async () => (await query(env.stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE call_type = $1 AND "user" = $2', ['acreate_fine_tuning_job', 'kim']))[0]);
    expect(row).toMatchObject({ status: 'failure', error_type: 'api_error', model_group: 'batch-a', model: 'gpt-4o-mini' });
    expect(Number(row.spend)).toBe(0);
  });

  it('answered by the provider in a form the gateway does not know (a job that is no object, a page without data) are a 502, nothing passed on', async () => {
    const lee = client(await newKey({ models: ['batch-a'], user_id: 'lee' }));
    const job = await lee.fineTuning.jobs.create({ model: 'batch-a', training_file: (await uploadTraining(lee, 'batch-a')).id });
    const cases: [unknown, number, () => Promise<unknown>, string][] = [
      [['ftjob-notanobject'], 1, () => lee.fineTuning.jobs.retrieve(job.id), 'a fine-tuning job'],
      // Events are read beside the job: both answers are the odd one.
      [{ object: 'list', data: { message: 'ftjob-unshown' } }, 2, () => lee.fineTuning.jobs.listEvents(job.id), 'a page of fine-tuning events'],
      [{ object: 'list', data: null, note: 'file-unshown' }, 1, () => lee.fineTuning.jobs.checkpoints.list(job.id), 'a page of fine-tuning checkpoints'],
    ];
    for (const [body, times, attempt, what] of cases) {
      env.fake.failNext(200, body, undefined, times);
      const odd = failure(await attempt().catch((e: unknown) => e));
      expect(odd.status).toBe(502);
      expect(odd.error).toEqual({ message: `The provider answered ${what} in a form the gateway does not know`, type: 'api_error', param: null, code: '502' });
    }
    expect((await client(apiKeyOf(lee)).fineTuning.jobs.retrieve(job.id)).id).toBe(job.id);
  });
});
