/**
 * A stateful fake of OpenAI's (and Azure OpenAI's) Files, Batch, fine-tuning jobs, Vector Stores and Containers APIs on
 * loopback, speaking their wire format and validating as strictly as they do
 * (openai-batches-wire.ts), so the gateway's batch pass-through is tested
 * against real sockets. Any path prefix before `/v1` or `/openai` is an
 * "account": files and batches are only visible under the prefix that made them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { azureError, openaiError } from './openai-format.ts';
import { fineTuningApi } from './openai-fine-tuning.ts';
import { fileInputsApi } from './openai-file-inputs.ts';
import { VECTOR_STORE_ROUTE, vectorStoresApi } from './openai-vector-stores.ts';
import { CONTAINER_ROUTE, containersApi } from './openai-containers.ts';
import { sendJson } from './upstream-wire.ts';
import {
  PURPOSES, UPLOAD_FIELDS, BATCH_FIELDS, OPENAI_ENDPOINTS, AZURE_ENDPOINTS, ROUTE, newId, now, isRecord, invalid, missing, unrecognized, noSuchFile, invalidValue, expiryError, metadataError, fileView, batchView, page,
  type FakeFile, type FakeBatch, type BatchesRequest, type FakeBatches, type Answer, type Call,
} from './openai-batches-wire.ts';

export type { FakeBatches } from './openai-batches-wire.ts';

/** OpenAI's Responses API (and chat completions) under an account's prefix: answered for file_search calls over the account's stores, and calls reading its files. */
const RESPONSES_ROUTE = /^(.*?)\/v1\/(responses|chat\/completions)$/;

function send(res: ServerResponse, answer: Answer): void {
  if (!Buffer.isBuffer(answer.body)) return sendJson(res, answer.status, answer.body, answer.headers);
  res.writeHead(answer.status, { 'content-type': 'application/octet-stream', 'content-length': answer.body.length, ...answer.headers });
  res.end(answer.body);
}

export async function startFakeBatches(): Promise<FakeBatches> {
  const requests: BatchesRequest[] = [];
  const files = new Map<string, FakeFile>();
  const batches = new Map<string, FakeBatch>();
  let failures: (Answer & { left: number })[] = [];

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
  const fineTuning = fineTuningApi(files, storeFile);
  const vectorStores = vectorStoresApi(files);
  const containers = containersApi(files);
  const fileInputs = fileInputsApi(files);

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

  /** Undefined for a method and path OpenAI has no route for. */
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
        return collection === 'fine_tuning/jobs' ? fineTuning.route(method, action, call) : undefined;
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = [value].flat().join(', ');
    const contentType = headers['content-type'] ?? '';
    const form = /^multipart\/form-data/i.test(contentType) ? await new Response(raw, { headers: { 'content-type': contentType } }).formData().catch(() => undefined) : undefined;
    let json: unknown;
    if (!form && raw.length) {
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        // Left undefined: the route answers 400 as OpenAI does for an unparseable body.
      }
    }
    const query = Object.fromEntries(url.searchParams);
    const recorded: BatchesRequest = { method, path: url.pathname, query, headers };
    if (form) recorded.form = Object.fromEntries([...form].filter((e): e is [string, string] => typeof e[1] === 'string'));
    if (json !== undefined) recorded.json = json;
    requests.push(recorded);

    const failure = failures[0];
    if (failure) {
      if (--failure.left === 0) failures.shift();
      return send(res, failure);
    }
    const invalidUrl = invalid(`Invalid URL (${method} ${url.pathname})`, null, null, 404);
    const responses = RESPONSES_ROUTE.exec(url.pathname);
    if (responses && method === 'POST') {
      if (!/^Bearer \S/.test(headers.authorization ?? '')) return send(res, invalid('You didn\'t provide an API key.', null, 'invalid_api_key', 401));
      const modelCall: Call = { prefix: responses[1] ?? '', azure: false, id: undefined, query, form, json };
      return send(res, responses[2] === 'chat/completions' ? fileInputs.chat(modelCall) : fileInputs.respond(modelCall) ?? containers.respond(modelCall) ?? vectorStores.respond(modelCall));
    }
    const container = CONTAINER_ROUTE.exec(url.pathname);
    if (container) {
      // Containers are under Azure's v1 API: an `api-key`, no api-version.
      const authorized = container[2] === 'openai/v1' ? Boolean(headers['api-key']) : /^Bearer \S/.test(headers.authorization ?? '');
      if (!authorized) return send(res, invalid("You didn't provide an API key.", null, 'invalid_api_key', 401));
      return send(res, (await containers.route(method, container, { prefix: container[1] ?? '', azure: container[2] !== 'v1', id: undefined, query, form, json })) ?? invalidUrl);
    }
    const vectorStore = VECTOR_STORE_ROUTE.exec(url.pathname);
    const match = vectorStore ?? ROUTE.exec(url.pathname);
    if (!match) return send(res, invalidUrl);
    const [, prefix = '', flavour, collection = '', id, action] = match;
    const azure = flavour === 'openai';
    if (azure && !query['api-version']) return send(res, { status: 404, body: azureError({ code: '404', message: 'Resource not found' }) });
    const authorized = azure ? Boolean(headers['api-key']) : /^Bearer \S/.test(headers.authorization ?? '');
    if (!authorized) {
      const where = azure ? "an 'api-key' header" : 'an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)';
      return send(res, invalid(`You didn't provide an API key. You need to provide your API key in ${where}.`, null, 'invalid_api_key', 401));
    }
    const call: Call = { prefix, azure, id: id === undefined ? undefined : decodeURIComponent(id), query, form, json };
    send(res, (vectorStore ? vectorStores.route(method, vectorStore, call) : await route(method, collection, action, call)) ?? invalidUrl);
  }

  const server = createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => {
      // A failing handler must not take down the test run; answer 500 if still possible.
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, openaiError({ message: `fake batches: ${String(err)}`, type: 'server_error' }));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    files,
    batches,
    jobs: fineTuning.jobs,
    stores: vectorStores.stores,
    containers: containers.containers,
    succeedJob: (jobId) => fineTuning.succeed(jobId),
    complete(batchId, outputLines) {
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
    },
    failNext(status, body, headers, times = 1) {
      if (times < 1) return;
      failures.push({ status, body: body ?? openaiError({ message: `fake batches: injected ${status}`, type: 'server_error' }), headers, left: times });
    },
    reset() {
      requests.length = 0;
      files.clear();
      batches.clear();
      fineTuning.jobs.clear();
      vectorStores.stores.clear();
      containers.containers.clear();
      failures = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
