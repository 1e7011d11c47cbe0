/**
 * A stateful fake of OpenAI's (and Azure OpenAI's) Files, Batch, fine-tuning jobs, Vector Stores and Containers
 * APIs on loopback, speaking their wire format and validating as strictly as they do (openai-batches-wire.ts),
 * so the gateway's batch pass-through is tested against real sockets. Any path prefix before `/v1` or `/openai`
 * is an "account": files and batches are only visible under the prefix that made them. This module is the
 * server: it records requests, injects failures and dispatches to each API's module (files and batches in
 * openai-files-batches.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { azureError, openaiError } from './openai-format.ts';
import { serveOpenAiFake } from './openai-fake-server.ts';
import { fineTuningApi } from './openai-fine-tuning.ts';
import { fileInputsApi } from './openai-file-inputs.ts';
import { VECTOR_STORE_ROUTE, vectorStoresApi } from './openai-vector-stores.ts';
import { CONTAINER_ROUTE, containersApi } from './openai-containers.ts';
import { sendJson } from './upstream-wire.ts';
import { filesBatchesApi } from './openai-files-batches.ts';
import { ROUTE, invalid, type BatchesRequest, type FakeBatches, type Answer, type Call } from './openai-batches-wire.ts';

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
  let failures: (Answer & { left: number })[] = [];

  const { files, batches, storeFile, route: filesBatchesRoute, complete } = filesBatchesApi();
  const fineTuning = fineTuningApi(files, storeFile);
  const vectorStores = vectorStoresApi(files);
  const containers = containersApi(files);
  const fileInputs = fileInputsApi(files);

  /** Undefined for a method and path OpenAI has no route for. */
  async function route(method: string, collection: string, action: string | undefined, call: Call): Promise<Answer | undefined> {
    return collection === 'fine_tuning/jobs' ? fineTuning.route(method, action, call) : filesBatchesRoute(method, collection, action, call);
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

  const server = await serveOpenAiFake('fake batches', serve);

  return {
    url: server.url,
    requests,
    files,
    batches,
    jobs: fineTuning.jobs,
    stores: vectorStores.stores,
    containers: containers.containers,
    succeedJob: (jobId) => fineTuning.succeed(jobId),
    complete,
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
    close: server.close,
  };
}
