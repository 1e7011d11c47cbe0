/**
 * The fake's fine-tuning jobs API (OpenAI's `/v1/fine_tuning/jobs`, Azure's
 * `/openai/fine_tuning/jobs`), served by openai-batches.ts beside its files:
 * a job's training and validation files must be `fine-tune` files of its
 * account, its events say what happened (naming the job and its files, as
 * OpenAI's do), `succeed()` finishes it with a result file, a fine-tuned
 * model and checkpoints.
 */
import { randomInt } from 'node:crypto';
import {
  type Answer, type Call, type FakeFile, invalid, isRecord, metadataError, missing, newId, now, page, unrecognized,
} from './openai-batches-wire.ts';

export type JobStatus = 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface FineTuningEvent {
  object: 'fine_tuning.job.event';
  id: string;
  created_at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  data: Record<string, unknown>;
  type: 'message' | 'metrics';
}

export interface FineTuningCheckpoint {
  object: 'fine_tuning.job.checkpoint';
  id: string;
  created_at: number;
  fine_tuned_model_checkpoint: string;
  fine_tuning_job_id: string;
  step_number: number;
  metrics: Record<string, number>;
}

/** A stored job: the wire object (jobView) plus what the fake keeps beside it. Mutate `status` to move it along. */
export interface FakeJob {
  object: 'fine_tuning.job';
  id: string;
  model: string;
  created_at: number;
  finished_at: number | null;
  fine_tuned_model: string | null;
  organization_id: string;
  result_files: string[];
  status: JobStatus;
  validation_file: string | null;
  training_file: string;
  hyperparameters: Record<string, unknown>;
  trained_tokens: number | null;
  error: { code: string; message: string; param: string | null } | null;
  integrations: unknown[];
  seed: number;
  estimated_finish: number | null;
  method: { type: string; [k: string]: unknown };
  metadata: Record<string, string> | null;
  user_provided_suffix: string | null;
  prefix: string;
  events: FineTuningEvent[];
  checkpoints: FineTuningCheckpoint[];
}

export const JOB_FIELDS = new Set(['model', 'training_file', 'validation_file', 'hyperparameters', 'method', 'suffix', 'seed', 'metadata', 'integrations']);
/** Base models OpenAI fine-tunes (a fine-tuned `ft:` model may be tuned further). */
export const FINE_TUNABLE = ['gpt-4o-mini-2024-07-18', 'gpt-4o-2024-08-06', 'gpt-4.1-2025-04-14', 'gpt-4.1-mini-2025-04-14', 'gpt-4o-mini', 'gpt-3.5-turbo', 'babbage-002', 'davinci-002'];
const ACTIVE: JobStatus[] = ['validating_files', 'queued', 'running'];

export function jobView({ prefix: _prefix, events: _events, checkpoints: _checkpoints, ...job }: FakeJob): Omit<FakeJob, 'prefix' | 'events' | 'checkpoints'> {
  return job;
}

export interface FineTuningApi {
  jobs: Map<string, FakeJob>;
  /** Undefined for a method and path the API has no route for. */
  route(method: string, action: string | undefined, call: Call): Answer | undefined;
  /** Finishes a job: `succeeded`, a `fine-tune-results` file, a fine-tuned model, two checkpoints and their events. */
  succeed(jobId: string): void;
}

type StoreFile = (prefix: string, filename: string, purpose: string, content: Buffer) => FakeFile;

export function fineTuningApi(files: Map<string, FakeFile>, storeFile: StoreFile): FineTuningApi {
  const jobs = new Map<string, FakeJob>();
  const event = (job: FakeJob, message: string, type: FineTuningEvent['type'] = 'message', data: Record<string, unknown> = {}) => {
    job.events.push({ object: 'fine_tuning.job.event', id: newId('ftevent-'), created_at: now(), level: 'info', message, data, type });
  };
  const visible = (call: Call) => {
    const job = call.id === undefined ? undefined : jobs.get(call.id);
    return job?.prefix === call.prefix ? job : undefined;
  };
  const notFound = (id: unknown) => invalid(`Could not find fine tune: ${String(id)}`, 'fine_tuning_job_id', 'fine_tune_not_found', 404);

  function fileError(param: string, id: unknown, prefix: string): Answer | undefined {
    const file = typeof id === 'string' ? files.get(id) : undefined;
    if (!file || file.prefix !== prefix) return invalid(`invalid ${param}: ${String(id)}`, param, 'invalid_file');
    if (file.purpose !== 'fine-tune') return invalid(`File ${file.id} has purpose '${file.purpose}'; a ${param} must have purpose 'fine-tune'.`, param, 'invalid_file_purpose');
    return undefined;
  }

  function create(call: Call): Answer {
    const body = call.json;
    if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
    for (const name of Object.keys(body)) if (!JOB_FIELDS.has(name)) return unrecognized(name);
    for (const name of ['model', 'training_file']) if (body[name] === undefined) return missing(name);
    const model = body.model;
    if (typeof model !== 'string' || !(FINE_TUNABLE.includes(model) || model.startsWith('ft:'))) {
      return invalid(`Model ${String(model)} is not available for fine-tuning or does not exist.`, 'model', 'model_not_available');
    }
    const bad =
      fileError('training_file', body.training_file, call.prefix) ??
      (body.validation_file === undefined || body.validation_file === null ? undefined : fileError('validation_file', body.validation_file, call.prefix)) ??
      metadataError(body.metadata) ??
      (body.suffix !== undefined && body.suffix !== null && (typeof body.suffix !== 'string' || body.suffix.length > 64)
        ? invalid("Invalid 'suffix': expected a string of at most 64 characters.", 'suffix') : undefined) ??
      (body.seed !== undefined && body.seed !== null && !Number.isInteger(body.seed) ? invalid("Invalid type for 'seed': expected an integer.", 'seed', 'invalid_type') : undefined);
    if (bad) return bad;
    const hyperparameters = { batch_size: 'auto', learning_rate_multiplier: 'auto', n_epochs: 'auto', ...(isRecord(body.hyperparameters) ? body.hyperparameters : {}) };
    const job: FakeJob = {
      object: 'fine_tuning.job',
      id: newId('ftjob-'),
      model,
      created_at: now(),
      finished_at: null,
      fine_tuned_model: null,
      organization_id: 'org-fakeorganization',
      result_files: [],
      status: 'validating_files',
      validation_file: typeof body.validation_file === 'string' ? body.validation_file : null,
      training_file: body.training_file as string,
      hyperparameters,
      trained_tokens: null,
      error: null,
      integrations: Array.isArray(body.integrations) ? body.integrations : [],
      seed: typeof body.seed === 'number' ? body.seed : randomInt(1, 2 ** 31 - 1),
      estimated_finish: null,
      method: isRecord(body.method) ? (body.method as FakeJob['method']) : { type: 'supervised', supervised: { hyperparameters } },
      metadata: (body.metadata as Record<string, string> | null | undefined) ?? null,
      user_provided_suffix: typeof body.suffix === 'string' ? body.suffix : null,
      prefix: call.prefix,
      events: [],
      checkpoints: [],
    };
    jobs.set(job.id, job);
    event(job, `Created fine-tuning job: ${job.id}`);
    event(job, `Validating training file: ${job.training_file}${job.validation_file ? ` and validation file: ${job.validation_file}` : ''}`);
    return { status: 200, body: jobView(job) };
  }

  function list(call: Call): Answer {
    // OpenAI filters by `metadata[key]=value`.
    const filters = Object.entries(call.query).flatMap(([name, value]) => {
      const key = /^metadata\[(.+)\]$/.exec(name)?.[1];
      return key === undefined ? [] : [[key, value] as const];
    });
    const all = [...jobs.values()].filter((j) => j.prefix === call.prefix && filters.every(([k, v]) => j.metadata?.[k] === v)).reverse();
    return page(all, call.query, 20, 100, jobView);
  }

  function cancel(call: Call): Answer {
    const job = visible(call);
    if (!job) return notFound(call.id);
    if (!ACTIVE.includes(job.status)) return invalid(`Job has already completed: ${job.id} (status '${job.status}').`, 'fine_tuning_job_id');
    job.status = 'cancelled';
    job.finished_at = now();
    event(job, 'Fine-tuning job cancelled');
    return { status: 200, body: jobView(job) };
  }

  return {
    jobs,
    route(method, action, call) {
      switch (`${method} ${call.id === undefined ? '' : '{id}'}${action ? `/${action}` : ''}`) {
        case 'POST ':
          return create(call);
        case 'GET ':
          return list(call);
        case 'GET {id}': {
          const job = visible(call);
          return job ? { status: 200, body: jobView(job) } : notFound(call.id);
        }
        case 'POST {id}/cancel':
          return cancel(call);
        case 'GET {id}/events': {
          const job = visible(call);
          return job ? page([...job.events].reverse(), call.query, 20, 100, (e) => e) : notFound(call.id);
        }
        case 'GET {id}/checkpoints': {
          const job = visible(call);
          return job ? page([...job.checkpoints].reverse(), call.query, 10, 100, (c) => c) : notFound(call.id);
        }
        default:
          return undefined;
      }
    },
    succeed(jobId) {
      const job = jobs.get(jobId);
      if (!job) throw new Error(`fake fine-tuning: no job ${jobId}`);
      const model = `ft:${job.model}:fakeorganization:${job.user_provided_suffix ?? ''}:${newId('').slice(0, 8)}`;
      for (const step of [10, 20]) {
        job.checkpoints.push({
          object: 'fine_tuning.job.checkpoint', id: newId('ftckpt_'), created_at: now(), fine_tuned_model_checkpoint: `${model}:ckpt-step-${step}`,
          fine_tuning_job_id: job.id, step_number: step, metrics: { step, train_loss: 1 / step, train_mean_token_accuracy: 0.9 },
        });
        event(job, `Step ${step}/20: training loss=${(1 / step).toFixed(4)}`, 'metrics', { step, train_loss: 1 / step });
      }
      const results = storeFile(job.prefix, 'step_metrics.csv', 'fine-tune-results', Buffer.from('step,train_loss\n10,0.1\n20,0.05\n'));
      Object.assign(job, { status: 'succeeded', finished_at: now(), fine_tuned_model: model, result_files: [results.id], trained_tokens: 4_096 });
      event(job, `New fine-tuned model created: ${model}`);
      event(job, 'The job has successfully completed');
    },
  };
}
