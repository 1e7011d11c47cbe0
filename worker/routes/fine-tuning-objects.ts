import { GatewayError } from '../errors.ts';
import { type OwnedObject, shownMetadata } from './owned-objects.ts';
import type { ObjectHome } from './provider-objects.ts';

/**
 * A fine-tuning job, its events and checkpoints as the client sees them: the ids of the job and of its own
 * files (training, validation, results) are replaced by the gateway's (the caller's, in the job's account),
 * in the fields that hold them and in the text of events and errors ("Validating training file: file-…").
 * No other id in the provider's text becomes the gateway's: the client writes part of it (a `suffix` is
 * echoed in "New fine-tuned model created: ft:…:<suffix>:…"), and an id the gateway gives out is a grant.
 * A provider's raw id left in text grants nothing. `fine_tuned_model` and checkpoints'
 * `fine_tuned_model_checkpoint` are model names, passed as they come: no route takes them as ids.
 */

export interface FineTuningJob extends OwnedObject {
  training_file?: unknown;
  validation_file?: unknown;
  result_files?: unknown;
  error?: unknown;
}

/** The provider's ids a job's answers may name, each with the id the client is shown for it. */
export type KnownIds = ReadonlyMap<string, string>;

/** OpenAI's ids of jobs, files, vector stores and their file batches, and containers, as its messages name them. */
const PROVIDER_ID = /(?<![\w-])(?:(?:ftjob|file)-|vs_|vsfb_|cntr_)[A-Za-z0-9]{6,}(?![\w-])/g;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const unreadable = (what: string) => new GatewayError(`The provider answered ${what} in a form the gateway does not know`, { status: 502, type: 'api_error' });

/**
 * The provider's JSON answer: one that is not JSON, or that breaks off or times out while read, is a 502 in
 * the gateway's envelope (not an unknown error), so a creation's failure is logged as any other.
 */
export async function providerJson(res: Response, what: string): Promise<unknown> {
  try {
    return JSON.parse(await res.text()) as unknown;
  } catch (err) {
    const why = err instanceof SyntaxError ? 'not JSON' : `not read to its end (${err instanceof Error ? err.name : 'error'})`;
    throw new GatewayError(`The provider's answer to ${what} was ${why}`, { status: 502, type: 'api_error' });
  }
}

/** The job's own id and its files', as the provider names them, with the gateway's ids for them. */
export function jobIds(home: ObjectHome, job: FineTuningJob): KnownIds {
  const known = new Map<string, string>();
  const add = (kind: 'file' | 'fine_tuning_job', value: unknown) => {
    if (typeof value === 'string' && value !== '') known.set(value, home.idFor(kind, value));
  };
  add('fine_tuning_job', job.id);
  add('file', job.training_file);
  add('file', job.validation_file);
  if (Array.isArray(job.result_files)) for (const id of job.result_files) add('file', id);
  return known;
}

/** A text with the known ids in it replaced; any other id stays as the provider wrote it. */
export function withKnownIds(known: KnownIds, text: unknown): unknown {
  if (typeof text !== 'string') return text;
  return text.replace(PROVIDER_ID, (id) => known.get(id) ?? id);
}

/** A provider's refusal naming the ids the request sent in the provider's form, with the client's ids instead. */
export function withClientIds(err: unknown, known: KnownIds): unknown {
  if (!(err instanceof GatewayError)) return err;
  const message = withKnownIds(known, err.message) as string;
  if (message === err.message) return err;
  return new GatewayError(message, {
    status: err.status, type: err.type, param: err.param, provider: err.provider, upstreamStatus: err.upstreamStatus, retryable: err.retryable, headers: err.headers,
  });
}

/** The provider's answer as a job: anything but an object is a 502 (nothing of the provider's is passed on unread). */
export function jobOf(answer: unknown): FineTuningJob {
  if (!isRecord(answer)) throw unreadable('a fine-tuning job');
  return answer;
}

/** A job as shown (a 502 for anything but one). */
export function shownJob(home: ObjectHome, answer: unknown): FineTuningJob {
  const job = jobOf(answer);
  const known = jobIds(home, job);
  const shownId = (value: unknown) => (typeof value === 'string' ? known.get(value) ?? value : value);
  return {
    ...job,
    id: shownId(job.id),
    training_file: shownId(job.training_file),
    validation_file: shownId(job.validation_file),
    result_files: Array.isArray(job.result_files) ? job.result_files.map(shownId) : job.result_files,
    ...(isRecord(job.error) ? { error: { ...job.error, message: withKnownIds(known, job.error.message) } } : {}),
    metadata: shownMetadata(job.metadata),
  };
}

/** A page of the provider's (`{ data: [...] }`), else a 502. */
function pageOf(list: unknown, what: string): Record<string, unknown> & { data: unknown[] } {
  if (!isRecord(list) || !Array.isArray(list.data)) throw unreadable(what);
  return list as Record<string, unknown> & { data: unknown[] };
}

/** A page of events: their messages name the job and its files (known: jobIds of the job read beside them). */
export function shownEvents(known: KnownIds, list: unknown): unknown {
  const page = pageOf(list, 'a page of fine-tuning events');
  return { ...page, data: page.data.map((event) => (isRecord(event) ? { ...event, message: withKnownIds(known, event.message) } : event)) };
}

/** A page of checkpoints: each names its job, the one the route names (any other id is left as it is). */
export function shownCheckpoints(home: ObjectHome, upstreamJobId: string, list: unknown): unknown {
  const page = pageOf(list, 'a page of fine-tuning checkpoints');
  const jobId = (value: unknown) => (value === upstreamJobId ? home.idFor('fine_tuning_job', upstreamJobId) : value);
  return { ...page, data: page.data.map((checkpoint) => (isRecord(checkpoint) ? { ...checkpoint, fine_tuning_job_id: jobId(checkpoint.fine_tuning_job_id) } : checkpoint)) };
}
