import { type OwnedObject, shownMetadata } from './owned-objects.ts';
import type { ObjectHome } from './provider-objects.ts';

/**
 * A fine-tuning job, its events and checkpoints as the client sees them: every id of a job or file the
 * provider gives is replaced by the gateway's (the caller's, in the job's account), in the fields that
 * hold one and in the text of events and errors, which name them too ("Validating training file: file-…").
 * `fine_tuned_model` and checkpoints' `fine_tuned_model_checkpoint` are model names, passed as they come:
 * no route takes them as ids (calling one takes a deployment of it in model_list).
 */

export interface FineTuningJob extends OwnedObject {
  training_file?: unknown;
  validation_file?: unknown;
  result_files?: unknown;
  error?: unknown;
}

/** OpenAI's ids of jobs and files, as its messages name them. */
const PROVIDER_ID = /(?<![\w-])(ftjob|file)-[A-Za-z0-9]{6,}(?![\w-])/g;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A text with the provider's job and file ids in it replaced by the gateway's. */
function withGatewayIds(home: ObjectHome, text: unknown): unknown {
  if (typeof text !== 'string') return text;
  return text.replace(PROVIDER_ID, (id, kind: string) => home.idFor(kind === 'ftjob' ? 'fine_tuning_job' : 'file', id));
}

function fileId(home: ObjectHome, value: unknown): unknown {
  return typeof value === 'string' && value !== '' ? home.idFor('file', value) : value;
}

export function shownJob(home: ObjectHome, job: FineTuningJob): FineTuningJob {
  if (!job || typeof job !== 'object') return job;
  return {
    ...job,
    ...(typeof job.id === 'string' ? { id: home.idFor('fine_tuning_job', job.id) } : {}),
    training_file: fileId(home, job.training_file),
    validation_file: fileId(home, job.validation_file),
    result_files: Array.isArray(job.result_files) ? job.result_files.map((id) => fileId(home, id)) : job.result_files,
    ...(isRecord(job.error) ? { error: { ...job.error, message: withGatewayIds(home, job.error.message) } } : {}),
    metadata: shownMetadata(job.metadata),
  };
}

/** A page of events: their messages name the job and its files. */
export function shownEvents(home: ObjectHome, list: unknown): unknown {
  if (!isRecord(list) || !Array.isArray(list.data)) return list;
  return { ...list, data: list.data.map((event: unknown) => (isRecord(event) ? { ...event, message: withGatewayIds(home, event.message) } : event)) };
}

/** A page of checkpoints: each names its job. */
export function shownCheckpoints(home: ObjectHome, list: unknown): unknown {
  if (!isRecord(list) || !Array.isArray(list.data)) return list;
  const jobId = (value: unknown) => (typeof value === 'string' && value !== '' ? home.idFor('fine_tuning_job', value) : value);
  return { ...list, data: list.data.map((checkpoint: unknown) => (isRecord(checkpoint) ? { ...checkpoint, fine_tuning_job_id: jobId(checkpoint.fine_tuning_job_id) } : checkpoint)) };
}
