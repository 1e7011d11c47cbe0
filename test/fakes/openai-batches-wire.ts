/**
 * The wire format of the fake Files and Batch APIs (openai-batches.ts): their
 * objects, OpenAI's validation of uploads and batches (unknown fields are
 * 400s), its error bodies and its cursor paging.
 */
import { randomBytes } from 'node:crypto';
import { openaiError } from './openai-format.ts';
import type { FakeJob } from './openai-fine-tuning.ts';
import type { FakeStore } from './openai-vector-stores.ts';
import type { FakeContainer } from './openai-containers.ts';

export interface FileObject {
  object: 'file';
  id: string;
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
  expires_at?: number;
}

/** A stored file: the wire object plus what the fake keeps beside it. */
export interface FakeFile extends FileObject {
  content: Buffer;
  /** The path part before `/v1` or `/openai` it was uploaded under ('' for none). */
  prefix: string;
}

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: null;
  input_file_id: string;
  completion_window: '24h';
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

/** A stored batch: mutate it in place to move it along (e.g. `status = 'in_progress'`). */
export interface FakeBatch extends BatchObject {
  prefix: string;
}

export interface BatchesRequest {
  method: string;
  /** Path without the query string, prefix included. */
  path: string;
  query: Record<string, string>;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Multipart bodies: the non-file fields (last value wins). */
  form?: Record<string, string>;
  /** JSON bodies, parsed. */
  json?: unknown;
}

export interface FakeBatches {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  requests: BatchesRequest[];
  files: Map<string, FakeFile>;
  batches: Map<string, FakeBatch>;
  /** Fine-tuning jobs (openai-fine-tuning.ts). */
  jobs: Map<string, FakeJob>;
  /** Vector stores (openai-vector-stores.ts). */
  stores: Map<string, FakeStore>;
  /** Containers (openai-containers.ts). */
  containers: Map<string, FakeContainer>;
  /** Finishes a fine-tuning job: succeeded, with a result file, a fine-tuned model and checkpoints. */
  succeedJob(jobId: string): void;
  /** Marks a batch completed: writes an output file (purpose 'batch_output', JSONL lines given) and sets output_file_id, status 'completed', request_counts, completed_at. Returns the output file id. */
  complete(batchId: string, outputLines: unknown[]): string;
  /** The next `times` (default 1) requests, any route, get this answer instead (still recorded); then normal service resumes. */
  failNext(status: number, body?: unknown, headers?: Record<string, string>, times?: number): void;
  /** Clears requests, files, batches, jobs, vector stores, containers and queued failures. */
  reset(): void;
  close(): Promise<void>;
}

export const PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];
export const UPLOAD_FIELDS = new Set(['file', 'purpose', 'expires_after[anchor]', 'expires_after[seconds]']);
export const BATCH_FIELDS = new Set(['input_file_id', 'endpoint', 'completion_window', 'metadata', 'output_expires_after']);
export const OPENAI_ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings', '/v1/completions', '/v1/responses'];
// Azure's batch docs name endpoints without the version segment as well.
export const AZURE_ENDPOINTS = [...OPENAI_ENDPOINTS, '/chat/completions', '/embeddings', '/completions', '/responses'];
/** OpenAI's bounds on `expires_after.seconds`: one hour to thirty days. */
const MIN_EXPIRY_S = 3_600;
const MAX_EXPIRY_S = 2_592_000;
// Lazy prefix: the first `/v1` or `/openai` ends the account part of the path.
export const ROUTE = /^(.*?)\/(v1|openai)\/(files|batches|fine_tuning\/jobs)(?:\/([^/]+))?(?:\/(content|cancel|events|checkpoints))?$/;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface Answer {
  status: number;
  /** A Buffer is sent raw as application/octet-stream; anything else as JSON. */
  body: unknown;
  headers?: Record<string, string>;
}

export interface Call {
  prefix: string;
  azure: boolean;
  id: string | undefined;
  query: Record<string, string>;
  form: FormData | undefined;
  json: unknown;
}

export function newId(prefix: string): string {
  return prefix + Array.from(randomBytes(24), (b) => ALNUM[b % ALNUM.length]).join('');
}

export function now(): number {
  return Math.floor(Date.now() / 1000);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function invalid(message: string, param: string | null = null, code: string | null = null, status = 400): Answer {
  return { status, body: openaiError({ message, type: 'invalid_request_error', param, code }) };
}

export const missing = (param: string) => invalid(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
export const unrecognized = (name: string) => invalid(`Unrecognized request argument supplied: ${name}`);
export const noSuchFile = (id: string) => invalid(`No such File object: ${id}`, 'id', null, 404);

export function invalidValue(param: string, value: unknown, allowed: readonly string[]): Answer {
  return invalid(`Invalid value: '${String(value)}'. Supported values are: ${allowed.map((a) => `'${a}'`).join(', ')}.`, param, 'invalid_value');
}

export function expiryError(param: string, anchor: unknown, seconds: unknown): Answer | undefined {
  if (anchor !== 'created_at') return invalidValue(`${param}.anchor`, anchor, ['created_at']);
  const s = Number(seconds);
  if (!Number.isInteger(s) || s < MIN_EXPIRY_S || s > MAX_EXPIRY_S) {
    return invalid(`Invalid '${param}.seconds': expected an integer between ${MIN_EXPIRY_S} and ${MAX_EXPIRY_S}, got ${String(seconds)}.`, `${param}.seconds`);
  }
  return undefined;
}

export function metadataError(metadata: unknown): Answer | undefined {
  if (metadata === null || metadata === undefined) return undefined;
  if (!isRecord(metadata)) return invalid("Invalid type for 'metadata': expected an object.", 'metadata', 'invalid_type');
  const entries = Object.entries(metadata);
  if (entries.length > 16) return invalid(`Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got ${entries.length} instead.`, 'metadata');
  for (const [key, value] of entries) {
    if (key.length > 64) return invalid(`Invalid 'metadata': key '${key}' is longer than 64 characters.`, 'metadata');
    if (typeof value !== 'string') return invalid(`Invalid type for 'metadata.${key}': expected a string.`, `metadata.${key}`, 'invalid_type');
    if (value.length > 512) return invalid(`Invalid 'metadata.${key}': string too long. Expected a string with maximum length 512.`, `metadata.${key}`);
  }
  return undefined;
}

export function fileView({ content: _content, prefix: _prefix, ...file }: FakeFile): FileObject {
  return file;
}

export function batchView({ prefix: _prefix, ...batch }: FakeBatch): BatchObject {
  return batch;
}

/** OpenAI's cursor paging over newest-first items. */
export function page<T extends { id: string }>(items: T[], query: Record<string, string>, defaultLimit: number, maxLimit: number, view: (item: T) => unknown): Answer {
  const limit = query.limit === undefined ? defaultLimit : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) return invalid(`Invalid 'limit': expected an integer between 1 and ${maxLimit}.`, 'limit');
  const at = query.after === undefined ? -1 : items.findIndex((i) => i.id === query.after);
  const rest = query.after !== undefined && at < 0 ? [] : items.slice(at + 1);
  const data = rest.slice(0, limit);
  return { status: 200, body: { object: 'list', data: data.map(view), first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: rest.length > limit } };
}
