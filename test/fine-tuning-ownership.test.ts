import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { apiKeyOf, decoded, uploadTraining, useBatchesStack } from './support/provider-objects.ts';

/**
 * What a key cannot reach through fine-tuning jobs: another owner's files and jobs, whether it names them
 * in text the provider echoes (a suffix), claims them in metadata, forges their ids or names them as a
 * validation file. Only ids the gateway signed for the caller open anything, and it signs only a job's own.
 */

const { env, client, newKey, upload, lastUpstream } = useBatchesStack();

const SECRET = `${JSON.stringify({ messages: [{ role: 'user', content: 'payroll' }, { role: 'assistant', content: 'the secret numbers' }] })}\n`;
/** Every job or file id in a text, the gateway's or the provider's. */
const idsIn = (text: string) => [...new Set(text.match(/(?:file|ftjob)-[A-Za-z0-9_-]{6,}/g) ?? [])];
/** The provider's id behind one the gateway gave out; undefined for any other. */
const upstreamOf = (id: string) => {
  const text = decoded(id, id.startsWith('file-') ? 'file-' : 'ftjob-');
  return text.startsWith('litellm:') ? text.slice('litellm:'.length).split(';')[0] : undefined;
};
const notFound = (attempt: Promise<unknown>) => attempt.then(() => 'answered', (e: unknown) => e);

describe('Fine-tuning jobs\' ids', () => {
  it('are signed only for the job and its own files: another owner\'s raw ids echoed in events, errors or checkpoints stay raw and open nothing', async () => {
    const dave = client(await newKey({ models: ['batch-a'], user_id: 'dave-ft' }));
    await uploadTraining(dave, 'batch-a', 'payroll.jsonl', SECRET);
    const davesFile = [...env.fake.files.keys()][0]!;
    await dave.fineTuning.jobs.create({ model: 'batch-a', training_file: (await uploadTraining(dave, 'batch-a')).id });
    const davesJob = [...env.fake.jobs.keys()][0]!;

    const erin = client(await newKey({ models: ['batch-a'], user_id: 'erin-ft' }));
    const training = await uploadTraining(erin, 'batch-a');
    const erinsFile = [...env.fake.files.keys()].at(-1)!;
    // The suffix is echoed in the fine-tuned model's name, and so in an event's message.
    const job = await erin.fineTuning.jobs.create({ model: 'batch-a', training_file: training.id, suffix: davesFile });
    const erinsJob = [...env.fake.jobs.keys()][1]!;
    env.fake.succeedJob(erinsJob);
    const stored = env.fake.jobs.get(erinsJob)!;
    stored.error = { code: 'invalid_training_file', message: `Training file ${erinsFile} repeats ${davesFile} of job ${davesJob}`, param: 'training_file' };
    stored.events.push({ object: 'fine_tuning.job.event', id: 'ftevent-planted', created_at: 1, level: 'info', message: `Compare ${davesJob} with ${erinsJob}`, data: {}, type: 'message' });
    stored.checkpoints[0]!.fine_tuning_job_id = davesJob;

    const read = await erin.fineTuning.jobs.retrieve(job.id);
    const events = await erin.fineTuning.jobs.listEvents(job.id, { limit: 50 });
    const checkpoints = await erin.fineTuning.jobs.checkpoints.list(job.id);
    const listed = await client(apiKeyOf(erin), { 'x-litellm-model': 'batch-a' }).fineTuning.jobs.list();
    const shown = JSON.stringify([job, read, events.data, checkpoints.data, listed.data]);

    // No id the gateway gave out names dave's file or job.
    const given = idsIn(shown).filter((id) => upstreamOf(id) !== undefined);
    expect(given.length).toBeGreaterThan(0);
    for (const id of given) expect([davesFile, davesJob]).not.toContain(upstreamOf(id));
    // And nothing in the answers opens them.
    const before = env.fake.requests.length;
    for (const id of idsIn(shown).filter((i) => i.startsWith('file-'))) {
      const content = await erin.files.content(id).then((r) => r.text(), () => '');
      expect(content).not.toContain('the secret numbers');
    }
    for (const id of idsIn(shown).filter((i) => i.startsWith('ftjob-'))) await erin.fineTuning.jobs.cancel(id).catch(() => undefined);
    expect(env.fake.jobs.get(davesJob)!.status).toBe('validating_files');
    expect(env.fake.requests.slice(before).map((r) => r.path).filter((p) => p.includes(davesFile) || p.includes(davesJob))).toEqual([]);
    // The job's own ids are the gateway's; another's stay as the provider wrote them.
    expect(read.error?.message).toBe(`Training file ${training.id} repeats ${davesFile} of job ${davesJob}`);
    expect(events.data.map((e) => e.message)).toContain(`Compare ${davesJob} with ${job.id}`);
    expect(events.data.map((e) => e.message)).toContain(`New fine-tuned model created: ${read.fine_tuned_model}`);
    expect(read.fine_tuned_model).toContain(`:${davesFile}:`);
    expect(checkpoints.data.map((c) => c.fine_tuning_job_id).sort()).toEqual([davesJob, job.id].sort());
  });

  it('of another owner are not claimed through metadata, for jobs and batches alike: the gateway\'s owner is written over the client\'s', async () => {
    const dave = client(await newKey({ models: ['batch-a'], user_id: 'dave-md' }), { 'x-litellm-model': 'batch-a' });
    const erin = client(await newKey({ models: ['batch-a'], user_id: 'erin-md' }), { 'x-litellm-model': 'batch-a' });
    const claim = { tollgate_owner: 'user:dave-md', tollgate_model_id: 'dep-a', run: 'mine' };

    const job = await erin.fineTuning.jobs.create({ model: 'batch-a', training_file: (await uploadTraining(erin, 'batch-a')).id, metadata: claim });
    expect((lastUpstream(/fine_tuning\/jobs$/).json as { metadata: unknown }).metadata).toEqual({ run: 'mine', tollgate_owner: 'user:erin-md', tollgate_model_id: 'dep-a' });
    expect((await dave.fineTuning.jobs.list()).data).toEqual([]);
    expect((await erin.fineTuning.jobs.list()).data.map((j) => j.id)).toEqual([job.id]);
    expect(await notFound(dave.fineTuning.jobs.retrieve(job.id))).toBeInstanceOf(OpenAI.NotFoundError);

    const batch = await erin.batches.create({ input_file_id: (await upload(erin, 'batch-a')).id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: claim });
    expect((lastUpstream(/\/batches$/).json as { metadata: unknown }).metadata).toEqual({ run: 'mine', tollgate_owner: 'user:erin-md', tollgate_model_id: 'dep-a' });
    expect((await dave.batches.list()).data).toEqual([]);
    expect((await erin.batches.list()).data.map((b) => b.id)).toEqual([batch.id]);
  });

  it('unsigned, re-signed for another owner or in LiteLLM\'s unsigned form are not found, before anything reaches the provider', async () => {
    const dave = client(await newKey({ models: ['batch-a'], user_id: 'dave-sig' }));
    const erin = client(await newKey({ models: ['batch-a'], user_id: 'erin-sig' }));
    const job = await dave.fineTuning.jobs.create({ model: 'batch-a', training_file: (await uploadTraining(dave, 'batch-a')).id });
    const text = decoded(job.id, 'ftjob-');
    const upstream = upstreamOf(job.id)!;
    const forge = (t: string) => `ftjob-${Buffer.from(t).toString('base64url')}`;
    const forged = [
      forge(text.replace(/;sig,.*$/, '').replace('owner,user:dave-sig', 'owner,user:erin-sig')),
      forge(text.replace('owner,user:dave-sig', 'owner,user:erin-sig')),
      forge(`litellm:${upstream};model,batch-a`),
      `${job.id.slice(0, -2)}${job.id.endsWith('AA') ? 'BB' : 'AA'}`,
    ];
    // Fine-tuning requests only: the batches of earlier tests are polled in the background meanwhile.
    const jobRequests = () => env.fake.requests.filter((r) => r.path.includes('fine_tuning')).length;
    const before = jobRequests();
    for (const id of forged) {
      for (const attempt of [() => erin.fineTuning.jobs.retrieve(id), () => erin.fineTuning.jobs.cancel(id), () => erin.fineTuning.jobs.listEvents(id), () => erin.fineTuning.jobs.checkpoints.list(id)]) {
        expect(await notFound(attempt())).toBeInstanceOf(OpenAI.NotFoundError);
      }
    }
    expect(jobRequests()).toBe(before);
    expect((await dave.fineTuning.jobs.retrieve(job.id)).id).toBe(job.id);
  });

  it('take another owner\'s validation_file as the 404 of an unknown file, before anything reaches the provider', async () => {
    const dave = client(await newKey({ models: ['batch-a'], user_id: 'dave-val' }));
    const erin = client(await newKey({ models: ['batch-a'], user_id: 'erin-val' }));
    const davesValidation = await uploadTraining(dave, 'batch-a', 'valid.jsonl');
    const training = await uploadTraining(erin, 'batch-a');
    const before = env.fake.requests.length;
    const refused = await notFound(erin.fineTuning.jobs.create({ model: 'batch-a', training_file: training.id, validation_file: davesValidation.id }));
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    expect((refused as Error).message).toContain('No such File object');
    expect(env.fake.requests.length).toBe(before);
    expect(env.fake.jobs.size).toBe(0);
  });
});
