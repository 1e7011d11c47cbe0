/**
 * The fake's Files and Batch APIs (OpenAI's `/v1/files`, `/v1/batches`, Azure's under `/openai`), served by
 * openai-batches.ts: files and batches are kept per account (the path prefix that made them), uploads and new
 * batches validated as strictly as OpenAI does (openai-batches-wire.ts); `complete()` finishes a batch with an
 * output file.
 */
import {
  PURPOSES, UPLOAD_FIELDS, BATCH_FIELDS, OPENAI_ENDPOINTS, AZURE_ENDPOINTS, newId, now, isRecord, invalid, missing, unrecognized, noSuchFile, invalidValue, expiryError, metadataError, fileView, batchView, page,
  type FakeFile, type FakeBatch, type Answer, type Call,
} from './openai-batches-wire.ts';

export function filesBatchesApi() {
  const files = new Map<string, FakeFile>();
  const batches = new Map<string, FakeBatch>();

  const visibleFile = (call: Call) => {
    const file = call.id === undefined ? undefined : files.get(call.id);
    return file?.prefix === call.prefix ? file : undefined;
  };
  const visibleBatch = (call: Call) => {
    const batch = call.id === undefined ? undefined : batches.get(call.id);
    return batch?.prefix === call.prefix ? batch : undefined;
  };
  const newestFirst = <T extends { prefix: string }>(items: Map<string, T>, prefix: string) => [...items.values()].filter((i) => i.prefix === prefix).reverse();

  function storeFile(prefix: string, filename: string, purpose: string, content: Buffer, expiresIn?: number): FakeFile {
    const created = now();
    const file: FakeFile = { object: 'file', id: newId('file-'), bytes: content.length, created_at: created, filename, purpose, status: 'processed', content, prefix };
    if (expiresIn !== undefined) file.expires_at = created + expiresIn;
    files.set(file.id, file);
    return file;
  }

  async function uploadFile(call: Call): Promise<Answer> {
    const form = call.form;
    if (!form) return invalid('Invalid Content-Type header, expected multipart/form-data.');
    for (const name of form.keys()) if (!UPLOAD_FIELDS.has(name)) return unrecognized(name);
    const file = form.get('file');
    const purpose = form.get('purpose');
    if (file === null || typeof file === 'string') return missing('file');
    if (typeof purpose !== 'string') return missing('purpose');
    if (!PURPOSES.includes(purpose)) return invalidValue('purpose', purpose, PURPOSES);
    const anchor = form.get('expires_after[anchor]');
    const seconds = form.get('expires_after[seconds]');
    const expiring = anchor !== null || seconds !== null;
    const bad = expiring ? expiryError('expires_after', anchor, seconds) : undefined;
    if (bad) return bad;
    const stored = storeFile(call.prefix, file.name, purpose, Buffer.from(await file.arrayBuffer()), expiring ? Number(seconds) : undefined);
    return { status: 200, body: fileView(stored) };
  }

  function createBatch(call: Call): Answer {
    const body = call.json;
    if (!isRecord(body)) return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
    for (const name of Object.keys(body)) if (!BATCH_FIELDS.has(name)) return unrecognized(name);
    for (const name of ['input_file_id', 'endpoint', 'completion_window']) if (body[name] === undefined) return missing(name);
    const endpoints = call.azure ? AZURE_ENDPOINTS : OPENAI_ENDPOINTS;
    if (typeof body.endpoint !== 'string' || !endpoints.includes(body.endpoint)) return invalidValue('endpoint', body.endpoint, endpoints);
    if (body.completion_window !== '24h') return invalidValue('completion_window', body.completion_window, ['24h']);
    const input = typeof body.input_file_id === 'string' ? files.get(body.input_file_id) : undefined;
    if (!input || input.prefix !== call.prefix) return invalid(`Invalid 'input_file_id': '${String(body.input_file_id)}'. No such file.`, 'input_file_id');
    if (input.purpose !== 'batch') return invalid(`Invalid 'input_file_id': '${input.id}'. The file must have purpose 'batch', not '${input.purpose}'.`, 'input_file_id');
    const bad =
      metadataError(body.metadata) ??
      (body.output_expires_after === undefined
        ? undefined
        : isRecord(body.output_expires_after)
          ? expiryError('output_expires_after', body.output_expires_after.anchor, body.output_expires_after.seconds)
          : invalid("Invalid type for 'output_expires_after': expected an object.", 'output_expires_after', 'invalid_type'));
    if (bad) return bad;
    const created = now();
    const total = input.content.toString('utf8').split('\n').filter((line) => line.trim()).length;
    const batch: FakeBatch = {
      id: newId('batch_'),
      object: 'batch',
      endpoint: body.endpoint,
      errors: null,
      input_file_id: input.id,
      completion_window: '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: created,
      in_progress_at: null,
      expires_at: created + 86_400,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total, completed: 0, failed: 0 },
      metadata: (body.metadata as Record<string, string> | null | undefined) ?? null,
      prefix: call.prefix,
    };
    batches.set(batch.id, batch);
    return { status: 200, body: batchView(batch) };
  }

  function cancelBatch(call: Call): Answer {
    const batch = visibleBatch(call);
    if (!batch) return invalid(`No such batch: ${call.id}`, 'id', null, 404);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) return invalid(`Cannot cancel a batch with status '${batch.status}'.`);
    if (batch.status !== 'cancelling') {
      batch.status = 'cancelling';
      batch.cancelling_at = now();
    }
    return { status: 200, body: batchView(batch) };
  }

  /** Undefined for a method and path of neither API. */
  async function route(method: string, collection: string, action: string | undefined, call: Call): Promise<Answer | undefined> {
    switch (`${method} ${collection}${call.id === undefined ? '' : '/{id}'}${action ? `/${action}` : ''}`) {
      case 'POST files':
        return uploadFile(call);
      case 'GET files': {
        const all = newestFirst(files, call.prefix).filter((f) => call.query.purpose === undefined || f.purpose === call.query.purpose);
        return page(all, call.query, 10_000, 10_000, fileView);
      }
      case 'GET files/{id}': {
        const file = visibleFile(call);
        return file ? { status: 200, body: fileView(file) } : noSuchFile(String(call.id));
      }
      case 'DELETE files/{id}': {
        const file = visibleFile(call);
        if (!file) return noSuchFile(String(call.id));
        files.delete(file.id);
        return { status: 200, body: { object: 'file', id: file.id, deleted: true } };
      }
      case 'GET files/{id}/content': {
        const file = visibleFile(call);
        return file ? { status: 200, body: file.content } : noSuchFile(String(call.id));
      }
      case 'POST batches':
        return createBatch(call);
      case 'GET batches':
        return page(newestFirst(batches, call.prefix), call.query, 20, 100, batchView);
      case 'GET batches/{id}': {
        const batch = visibleBatch(call);
        return batch ? { status: 200, body: batchView(batch) } : invalid(`No such batch: ${call.id}`, 'id', null, 404);
      }
      case 'POST batches/{id}/cancel':
        return cancelBatch(call);
      default:
        return undefined;
    }
  }

  /** Finishes a batch with an output file of these lines, as if every request succeeded; the output file's id. */
  function complete(batchId: string, outputLines: unknown[]): string {
    const batch = batches.get(batchId);
    if (!batch) throw new Error(`fake batches: no batch ${batchId}`);
    const content = Buffer.from(outputLines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    const output = storeFile(batch.prefix, `${batchId}_output.jsonl`, 'batch_output', content);
    const at = now();
    batch.in_progress_at ??= at;
    batch.finalizing_at ??= at;
    batch.completed_at = at;
    batch.status = 'completed';
    batch.output_file_id = output.id;
    batch.request_counts = { total: batch.request_counts.total, completed: outputLines.length, failed: 0 };
    return output.id;
  }

  return { files, batches, storeFile, route, complete };
}
