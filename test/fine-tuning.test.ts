import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { eventually, sha256, spendLogRow } from './support/keys.ts';
import { query } from './support/pg-client.ts';
import { apiKeyOf, decoded, uploadTraining, useBatchesStack } from './support/provider-objects.ts';
import { TEST_MASTER_KEY } from './support/stack.ts';

/**
 * OpenAI's fine-tuning jobs API through the gateway, with the official openai client: a job is made in
 * its training file's account from the caller's own files, is the caller's alone to read, list, cancel and
 * follow (events, checkpoints), names only the gateway's ids, and counts as a request at no cost.
 */

const { env, admin, client, newKey, lastUpstream } = useBatchesStack();

/** Every provider id the fake holds (jobs, files): none may reach a client. */
const providerIds = () => [...env.fake.jobs.keys(), ...env.fake.files.keys()];

describe('Fine-tuning jobs', () => {
  it('are made in the training file\'s account, the group\'s model sent, and read back, followed and finished under the gateway\'s ids only', async () => {
    const key = await newKey({ models: ['batch-a'], user_id: 'carol', tags: ['tuning'] });
    const carol = client(key);
    const training = await uploadTraining(carol, 'batch-a');
    const validation = await uploadTraining(carol, 'batch-a', 'valid.jsonl');
    const [upstreamTraining, upstreamValidation] = [...env.fake.files.keys()];
    const job = await carol.fineTuning.jobs.create({
      model: 'batch-a', training_file: training.id, validation_file: validation.id, suffix: 'clippy', seed: 7, hyperparameters: { n_epochs: 2 }, metadata: { run: 'one' },
    });
    const sent = lastUpstream(/fine_tuning\/jobs$/);
    expect(sent.path).toBe('/acct-a/v1/fine_tuning/jobs');
    expect(sent.headers.authorization).toBe('Bearer sk-acct-a-0001');
    // The group's deployment model, the provider's file ids, and the gateway's metadata beside the client's.
    expect(sent.json).toEqual({
      model: 'gpt-4o-mini', training_file: upstreamTraining, validation_file: upstreamValidation, suffix: 'clippy', seed: 7, hyperparameters: { n_epochs: 2 },
      metadata: { run: 'one', tollgate_owner: 'user:carol', tollgate_model_id: 'dep-a' },
    });
    const upstreamJob = [...env.fake.jobs.keys()][0]!;
    expect(job).toMatchObject({ object: 'fine_tuning.job', status: 'validating_files', model: 'gpt-4o-mini', training_file: training.id, validation_file: validation.id, metadata: { run: 'one' }, user_provided_suffix: 'clippy' });
    expect(decoded(job.id, 'ftjob-')).toMatch(new RegExp(`^litellm:${upstreamJob};model,batch-a;model_id,dep-a;owner,user:carol;sig,[\\w-]{32}$`));

    const read = await carol.fineTuning.jobs.retrieve(job.id);
    expect(read).toMatchObject({ id: job.id, status: 'validating_files', training_file: training.id });
    expect(lastUpstream(/fine_tuning\/jobs\/[^/]+$/).path).toBe(`/acct-a/v1/fine_tuning/jobs/${upstreamJob}`);

    env.fake.succeedJob(upstreamJob);
    const done = await carol.fineTuning.jobs.retrieve(job.id);
    expect(done).toMatchObject({ status: 'succeeded', trained_tokens: 4096, fine_tuned_model: expect.stringMatching(/^ft:gpt-4o-mini:fakeorganization:clippy:/) });
    expect(done.result_files).toHaveLength(1);
    expect(decoded(done.result_files[0]!, 'file-')).toMatch(/^litellm:file-\w+;model,batch-a;model_id,dep-a;owner,user:carol;/);
    expect(await (await carol.files.content(done.result_files[0]!)).text()).toContain('step,train_loss');

    // Events name the job and its files, as OpenAI's do: by the gateway's ids.
    const events = await carol.fineTuning.jobs.listEvents(job.id, { limit: 50 });
    const messages = events.data.map((e) => e.message);
    expect(messages).toContain(`Created fine-tuning job: ${job.id}`);
    expect(messages).toContain(`Validating training file: ${training.id} and validation file: ${validation.id}`);
    expect(lastUpstream(/events$/).query).toEqual({ limit: '50' });
    const checkpoints = await carol.fineTuning.jobs.checkpoints.list(job.id);
    expect(checkpoints.data.map((c) => [c.step_number, c.fine_tuning_job_id])).toEqual([[20, job.id], [10, job.id]]);
    expect(checkpoints.data[0]!.fine_tuned_model_checkpoint).toBe(`${done.fine_tuned_model}:ckpt-step-20`);

    const shown = JSON.stringify([job, read, done, events.data, checkpoints.data]);
    for (const id of providerIds()) expect(shown).not.toContain(id);

    // Counted as a request at no cost: one spend row, the provider's job id its request_id.
    const row = await eventually(() => spendLogRow(env.stack.db.url, upstreamJob));
    expect(row).toMatchObject({ call_type: 'acreate_fine_tuning_job', api_key: sha256(key), model: 'gpt-4o-mini', model_group: 'batch-a', model_id: 'dep-a', user: 'carol', status: 'success' });
    expect(Number(row.spend)).toBe(0);
    expect(row.request_tags).toEqual(['tuning']);
  });

  it('are the caller\'s own: listed, read, cancelled and followed by their owner only; another\'s file is not found', async () => {
    const dave = client(await newKey({ models: ['batch-a'], user_id: 'dave' }));
    const erin = client(await newKey({ models: ['batch-a'], user_id: 'erin' }));
    const davesFile = await uploadTraining(dave, 'batch-a');
    const daves = await dave.fineTuning.jobs.create({ model: 'batch-a', training_file: davesFile.id });
    // The master key names a base model: sent as given.
    const mastersFile = await uploadTraining(env.master, 'batch-a');
    const masters = await env.master.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: mastersFile.id });
    expect((lastUpstream(/fine_tuning\/jobs$/).json as { model: string }).model).toBe('gpt-4o-mini-2024-07-18');

    const listed = await client(apiKeyOf(dave), { 'x-litellm-model': 'batch-a' }).fineTuning.jobs.list();
    expect(listed.data.map((j) => j.id)).toEqual([daves.id]);
    expect(listed.data[0]!.metadata).toBeNull();
    // LiteLLM's form: target_model_names, on the route without /v1.
    const litellmForm = await fetch(`${env.stack.url}/fine_tuning/jobs?target_model_names=batch-a`, { headers: { authorization: `Bearer ${apiKeyOf(dave)}` } });
    expect(((await litellmForm.json()) as { data: { id: string }[] }).data.map((j) => j.id)).toEqual([daves.id]);
    expect(lastUpstream(/fine_tuning\/jobs$/).query).toEqual({ limit: '100' });
    const all = await client(TEST_MASTER_KEY, { 'x-litellm-model': 'batch-a' }).fineTuning.jobs.list();
    // The master key sees every one, under ids of its own.
    const upstreamOf = (id: string) => decoded(id, 'ftjob-').split(';')[0];
    expect(all.data.map((j) => upstreamOf(j.id))).toEqual([masters.id, daves.id].map(upstreamOf));
    expect(all.data[0]!.id).toBe(masters.id);
    for (const id of providerIds()) expect(JSON.stringify([listed.data, all.data])).not.toContain(id);

    // Another key gets the 404 of an unknown id, before anything reaches the provider.
    const before = env.fake.requests.length;
    for (const attempt of [
      () => erin.fineTuning.jobs.retrieve(daves.id), () => erin.fineTuning.jobs.cancel(daves.id),
      () => erin.fineTuning.jobs.listEvents(daves.id), () => erin.fineTuning.jobs.checkpoints.list(daves.id),
      () => dave.fineTuning.jobs.retrieve(masters.id), () => erin.fineTuning.jobs.retrieve([...env.fake.jobs.keys()][0]!),
      () => erin.fineTuning.jobs.create({ model: 'batch-a', training_file: davesFile.id }),
      () => erin.fineTuning.jobs.create({ model: 'batch-a', training_file: (env.fake.files.keys().next().value)! }),
    ]) {
      expect(await (attempt as () => Promise<unknown>)().catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    }
    expect(env.fake.requests.length).toBe(before);

    // Its owner cancels it, through the /openai/v1 form too.
    const cancelled = await new OpenAI({ baseURL: `${env.stack.url}/openai/v1`, apiKey: apiKeyOf(dave), maxRetries: 0 }).fineTuning.jobs.cancel(daves.id);
    expect(cancelled).toMatchObject({ id: daves.id, status: 'cancelled', training_file: davesFile.id });
    expect(lastUpstream(/cancel$/).path).toMatch(/^\/acct-a\/v1\/fine_tuning\/jobs\/ftjob-\w+\/cancel$/);
    expect((await dave.fineTuning.jobs.listEvents(daves.id)).data[0]!.message).toBe('Fine-tuning job cancelled');
  });

  it('of a provider that keeps no metadata are in no key\'s list (the master key\'s only), and still read by their ids', async () => {
    const hank = client(await newKey({ models: ['batch-a'], user_id: 'hank' }), { 'x-litellm-model': 'batch-a' });
    const job = await hank.fineTuning.jobs.create({ model: 'batch-a', training_file: (await uploadTraining(hank, 'batch-a')).id });
    env.fake.jobs.get([...env.fake.jobs.keys()][0]!)!.metadata = null;
    expect((await hank.fineTuning.jobs.list()).data).toEqual([]);
    expect((await client(TEST_MASTER_KEY, { 'x-litellm-model': 'batch-a' }).fineTuning.jobs.list()).data).toHaveLength(1);
    expect((await hank.fineTuning.jobs.retrieve(job.id)).metadata).toBeNull();
  });

  it('reach Azure OpenAI\'s resource-level fine-tuning API, naming the base model (a group would send its deployment\'s name)', async () => {
    const file = await uploadTraining(env.master, 'azure-batch');
    const job = await env.master.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: file.id });
    const sent = lastUpstream(/fine_tuning\/jobs$/);
    expect(sent.path).toBe('/az/openai/fine_tuning/jobs');
    expect(sent.query['api-version']).toBe('2024-10-21');
    expect(sent.headers['api-key']).toBe('azure-upstream-0003');
    expect(decoded(job.id, 'ftjob-')).toContain(';model,azure-batch;model_id,dep-az;owner,master;');
    const byGroup = await env.master.fineTuning.jobs.create({ model: 'azure-batch', training_file: file.id }).catch((e: unknown) => e);
    expect((byGroup as Error).message).toContain('Model my-batch-deployment is not available for fine-tuning');
  });

  it('go through another group of the account its model names, and refuse a model the key may not call or a validation file of another account', async () => {
    const frank = client(await newKey({ models: ['batch-a', 'batch-a-cheap', 'batch-b'], user_id: 'frank' }));
    const trainA = await uploadTraining(frank, 'batch-a');
    const job = await frank.fineTuning.jobs.create({ model: 'batch-a-cheap', training_file: trainA.id });
    // Made through the group named, whose deployment shares the file's account: read and listed through it.
    expect(decoded(job.id, 'ftjob-')).toContain(';model,batch-a-cheap;model_id,dep-a-cheap;owner,user:frank;');
    expect(decoded(job.training_file, 'file-')).toContain(';model_id,dep-a-cheap;');
    expect((await client(apiKeyOf(frank), { 'x-litellm-model': 'batch-a-cheap' }).fineTuning.jobs.list()).data.map((j) => j.id)).toEqual([job.id]);
    expect((await client(apiKeyOf(frank), { 'x-litellm-model': 'batch-a' }).fineTuning.jobs.list()).data).toEqual([]);

    const validB = await uploadTraining(frank, 'batch-b');
    const before = env.fake.requests.length;
    const otherAccount = await frank.fineTuning.jobs.create({ model: 'batch-a', training_file: trainA.id, validation_file: validB.id }).catch((e: unknown) => e);
    expect(otherAccount).toBeInstanceOf(OpenAI.BadRequestError);
    expect((otherAccount as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('validation_file');
    const groupElsewhere = await frank.fineTuning.jobs.create({ model: 'batch-b', training_file: trainA.id }).catch((e: unknown) => e);
    expect(groupElsewhere).toBeInstanceOf(OpenAI.BadRequestError);
    expect((groupElsewhere as Error).message).toContain('no deployment in the provider account of training_file');
    // A key held to model groups names only those (LiteLLM's auth reads the body's model).
    const baseModel = await frank.fineTuning.jobs.create({ model: 'gpt-4o-mini-2024-07-18', training_file: trainA.id }).catch((e: unknown) => e);
    expect((baseModel as { status?: number }).status).toBe(401);
    expect(env.fake.requests.length).toBe(before);
  });

  it('are refused to a blocked key or one over its budget before anything is sent, and a provider\'s refusal is passed on and logged as a failure', async () => {
    const key = await newKey({ models: ['batch-a'], user_id: 'gina' });
    const gina = client(key);
    const file = await uploadTraining(gina, 'batch-a');

    const unrestricted = client(await newKey({ user_id: 'gina' }));
    const unknownModel = await unrestricted.fineTuning.jobs.create({ model: 'gpt-9-turbo', training_file: file.id }).catch((e: unknown) => e);
    expect(unknownModel).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unknownModel as Error).message).toContain('Model gpt-9-turbo is not available for fine-tuning');
    const failed = await eventually(async () => (await query(env.stack.db.url, 'SELECT * FROM "LiteLLM_SpendLogs" WHERE call_type = $1 AND model = $2', ['acreate_fine_tuning_job', 'gpt-9-turbo']))[0]);
    expect(failed).toMatchObject({ status: 'failure', user: 'gina', model_group: 'batch-a' });

    await admin.ok('/key/block', { key });
    const before = env.fake.requests.length;
    const blocked = await gina.fineTuning.jobs.create({ model: 'batch-a', training_file: file.id }).catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((blocked as Error).message).toContain('Key is blocked');
    const broke = await client(await newKey({ user_id: 'gina', max_budget: 0.5, spend: 1 })).fineTuning.jobs.create({ model: 'batch-a', training_file: file.id }).catch((e: unknown) => e);
    // Over a budget: refused by admission, as a call is.
    expect((broke as { status?: number }).status).toBe(429);
    expect((broke as Error).message).toContain('Budget has been exceeded!');
    expect(env.fake.requests.length).toBe(before);
    expect(env.fake.jobs.size).toBe(0);
  });
});
