/**
 * A scriptable fake LLM provider on loopback: it speaks OpenAI's and Azure
 * OpenAI's wire formats, records every request, and can be told per request
 * to answer, stream, fail, hang, reset or drop, so the gateway is tested
 * against real sockets rather than mocked fetches.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleepFor } from 'node:timers/promises';
import {
  chatPromptTokens,
  countWords,
  DEFAULT_EMBEDDING_DIMS,
  echoWords,
  fakeId,
  type Flavor,
  openaiChatChunks,
  openaiChatCompletion,
  openaiEmbeddings,
  openaiError,
  openaiTextCompletion,
  openaiTextCompletionChunks,
  piecesOf,
  words,
} from './openai-format.ts';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. '/v1/chat/completions'. */
  path: string;
  /** Last value wins for repeated names. */
  query: Record<string, string>;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when it is not JSON ('' for no body). */
  body: unknown;
  rawBody: string;
  /** Date.now() when the request's headers arrived. */
  receivedAt: number;
  /** Date.now() when the fake finished the response; undefined until then, or forever if it never does. */
  finishedAt: number | undefined;
  /** Resolves when the client closed the connection before the response finished. Never rejects. */
  aborted: Promise<void>;
  abortedEarly: boolean;
}

export type Behaviour =
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string>; delayMs?: number }
  | {
      kind: 'sse';
      /** Objects become `data: <json>\n\n`, '[DONE]' `data: [DONE]\n\n`; other strings are written verbatim (add your own `\n\n`). */
      events: unknown[];
      /** Pause before each event after the first. */
      intervalMs?: number;
      /** Pause before anything, headers included, is sent. */
      firstByteDelayMs?: number;
      /** Pause after the headers (200 already sent) before the first event: a provider that stalls after answering. */
      firstEventDelayMs?: number;
      /** Destroy the socket after this many events, without ending the response: a dropped stream. */
      dropAfter?: number;
      status?: number;
      headers?: Record<string, string>;
    }
  | { kind: 'error'; status: number; body: unknown; headers?: Record<string, string>; delayMs?: number }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | {
      kind: 'echo';
      /** The `model` the answer names; default: the request's `model`, else the Azure deployment name. */
      model?: string;
      /** Reported as `prompt_tokens_details.cached_tokens` on chat answers. */
      cachedTokens?: number;
      /** Before the answer (or the first SSE byte). */
      delayMs?: number;
      /** Between streamed chunks. */
      intervalMs?: number;
      headers?: Record<string, string>;
    }
  /** Escape hatch: answer by hand. The request is already recorded. */
  | { kind: 'handler'; handle: (request: RecordedRequest, res: ServerResponse) => void | Promise<void> };

export interface FakeUpstream {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  requests: RecordedRequest[];
  /** Queue behaviours: each request takes the next queued one, falling back to the default. */
  enqueue(...b: Behaviour[]): void;
  setDefault(b: Behaviour): void;
  /** Clears requests and queue, restores the start-up default; in-flight (hanging) requests are left alone. */
  reset(): void;
  /** Resolves once at least `count` requests were recorded (which happens before answering). */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Stops listening and destroys every open socket, hanging ones included. */
  close(): Promise<void>;
}

const ECHO: Behaviour = { kind: 'echo' };

export async function startFakeUpstream(options?: { default?: Behaviour }): Promise<FakeUpstream> {
  const initialDefault = options?.default ?? ECHO;
  let fallback = initialDefault;
  let queue: Behaviour[] = [];
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();
  // Aborted on close() so every pending delay ends at once and no timer keeps the worker alive.
  const shutdown = new AbortController();

  const server = createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => {
      // A failing handler must not take down the test run; answer 500 if still possible.
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(openaiError({ message: `fake upstream: ${String(err)}`, type: 'server_error' })));
      } else {
        res.destroy();
      }
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    let markAborted = () => {};
    const aborted = new Promise<void>((resolve) => (markAborted = resolve));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = [value].flat().join(', ');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: parseBody(rawBody),
      rawBody,
      receivedAt,
      finishedAt: undefined,
      aborted,
      abortedEarly: false,
    };
    // Only a close we did not cause ourselves (reset, drop, shutdown) counts as the client aborting.
    let selfInflicted = false;
    res.on('finish', () => (recorded.finishedAt = Date.now()));
    res.on('close', () => {
      if (!res.writableEnded && !selfInflicted && !shutdown.signal.aborted) {
        recorded.abortedEarly = true;
        markAborted();
      }
    });
    requests.push(recorded);
    for (const wake of waiters) wake();

    const behaviour = queue.shift() ?? fallback;
    const ctx: Ctx = {
      res,
      signal: shutdown.signal,
      destroy: () => {
        selfInflicted = true;
        res.socket?.destroy();
        res.destroy();
      },
    };
    switch (behaviour.kind) {
      case 'json':
      case 'error':
        if (await pause(ctx, behaviour.delayMs)) sendJson(res, behaviour.status ?? 200, behaviour.body, behaviour.headers);
        return;
      case 'sse':
        return sendSse(ctx, behaviour);
      case 'hang': // keep the socket open; close() destroys it
        return;
      case 'reset':
        return ctx.destroy();
      case 'echo':
        return echo(ctx, recorded, behaviour);
      case 'handler':
        return behaviour.handle(recorded, res);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...b) => void queue.push(...b),
    setDefault: (b) => void (fallback = b),
    reset: () => {
      requests.length = 0;
      queue = [];
      fallback = initialDefault;
    },
    waitForRequests: (count, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake upstream: waited ${timeoutMs} ms for ${count} request(s), got ${requests.length}`));
        }, timeoutMs);
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(requests.slice());
        };
        waiters.add(check);
        check();
      }),
    close: async () => {
      shutdown.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Includes sockets with a request in flight (hang, paced SSE), which server.close() alone would wait for.
      server.closeAllConnections();
      await closed;
    },
  };
}

interface Ctx {
  res: ServerResponse;
  /** Fires on the fake's close(). */
  signal: AbortSignal;
  /** Kills the connection on purpose (not counted as a client abort). */
  destroy: () => void;
}

function parseBody(raw: string): unknown {
  try {
    return raw ? JSON.parse(raw) : '';
  } catch {
    return raw;
  }
}

/** Waits, then says whether the response is still worth writing (client still there, fake not closed). */
async function pause(ctx: Ctx, ms: number | undefined): Promise<boolean> {
  if (ms && ms > 0) {
    try {
      await sleepFor(ms, undefined, { signal: ctx.signal });
    } catch {
      return false;
    }
  }
  return !ctx.signal.aborted && !ctx.res.destroyed;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'x-request-id': fakeId('req_'), ...lower(headers) });
  res.end(text);
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function sseFrame(event: unknown): string {
  if (event === '[DONE]') return 'data: [DONE]\n\n';
  if (typeof event === 'string') return event;
  return `data: ${JSON.stringify(event)}\n\n`;
}

/** Resolves once the bytes were handed to the kernel, so a following destroy cannot swallow them. */
function writeFlushed(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    res.write(data, () => resolve());
  });
}

async function sendSse(ctx: Ctx, b: Extract<Behaviour, { kind: 'sse' }>): Promise<void> {
  const { res } = ctx;
  if (!(await pause(ctx, b.firstByteDelayMs))) return;
  // No content-length: chunked, each write goes out at once.
  const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': fakeId('req_') };
  res.writeHead(b.status ?? 200, { ...headers, ...lower(b.headers ?? {}) });
  res.flushHeaders();
  if (!(await pause(ctx, b.firstEventDelayMs))) return;
  for (let i = 0; i < b.events.length; i++) {
    if (b.dropAfter !== undefined && i >= b.dropAfter) break;
    if (i > 0 && !(await pause(ctx, b.intervalMs))) return;
    if (res.destroyed) return;
    await writeFlushed(res, sseFrame(b.events[i]));
  }
  if (b.dropAfter !== undefined && b.dropAfter <= b.events.length) ctx.destroy();
  else if (!res.destroyed) res.end();
}

const ROUTE = /^(?:\/openai\/deployments\/([^/]+))?.*?\/(chat\/completions|completions|embeddings)$/;

async function echo(ctx: Ctx, recorded: RecordedRequest, b: Extract<Behaviour, { kind: 'echo' }>): Promise<void> {
  const { res } = ctx;
  const match = ROUTE.exec(recorded.path);
  if (recorded.method !== 'POST' || !match) {
    // OpenAI's own wording for an unknown route.
    sendJson(res, 404, openaiError({ message: `Invalid URL (${recorded.method} ${recorded.path})`, type: 'invalid_request_error' }));
    return;
  }
  const req = recorded.body as Record<string, unknown>;
  if (!req || typeof req !== 'object' || Array.isArray(req)) {
    sendJson(res, 400, openaiError({ message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error' }));
    return;
  }
  const deployment = match[1];
  const flavor: Flavor = deployment !== undefined ? 'azure' : 'openai';
  const model = b.model ?? (typeof req.model === 'string' ? req.model : (deployment ?? 'unknown-model'));
  const includeUsage = (req.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const headers = b.headers ?? {};
  if (!(await pause(ctx, b.delayMs))) return;

  if (match[2] === 'embeddings') {
    const raw = req.input;
    // One string or token array is one input; a list of either is many.
    const list: unknown[] = Array.isArray(raw) && raw.length > 0 && typeof raw[0] !== 'number' ? raw : [raw];
    const inputs = list.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
    const promptTokens = list.reduce<number>((n, x) => n + (typeof x === 'string' ? countWords(x) : Array.isArray(x) ? x.length : 0), 0);
    const dims = typeof req.dimensions === 'number' ? req.dimensions : DEFAULT_EMBEDDING_DIMS;
    const encodingFormat = req.encoding_format === 'base64' ? 'base64' : 'float';
    sendJson(res, 200, openaiEmbeddings({ model, inputs, dims, promptTokens, encodingFormat }), headers);
    return;
  }

  const limit = numberOr(req.max_completion_tokens, req.max_tokens);
  const cut = (all: string[]) => (limit !== undefined && all.length > limit ? { words: all.slice(0, limit), finish: 'length' as const } : { words: all, finish: 'stop' as const });

  if (match[2] === 'chat/completions') {
    const messages = Array.isArray(req.messages) ? (req.messages as unknown[]) : [];
    const answer = cut(echoWords(messages));
    const common = { model, promptTokens: chatPromptTokens(messages), completionTokens: answer.words.length, cachedTokens: b.cachedTokens, finishReason: answer.finish, flavor };
    if (req.stream !== true) {
      sendJson(res, 200, openaiChatCompletion({ ...common, content: answer.words.join(' ') }), headers);
      return;
    }
    const events = [...openaiChatChunks({ ...common, pieces: piecesOf(answer.words), includeUsage }), '[DONE]'];
    await sendSse(ctx, { kind: 'sse', events, intervalMs: b.intervalMs, headers });
    return;
  }

  // Legacy completions: the prompt's words are the prompt tokens (no per-message overhead).
  const prompts = Array.isArray(req.prompt) ? req.prompt.map((p) => (typeof p === 'string' ? p : '')) : [typeof req.prompt === 'string' ? req.prompt : ''];
  const promptTokens = prompts.reduce((n, p) => n + countWords(p), 0);
  const answers = prompts.map((p) => cut(['echo:', ...words(p)]));
  const completionTokens = answers.reduce((n, a) => n + a.words.length, 0);
  const first = answers[0]!;
  if (req.stream !== true) {
    const text = answers.map((a) => a.words.join(' '));
    sendJson(res, 200, openaiTextCompletion({ model, text, promptTokens, completionTokens, finishReason: first.finish, flavor }), headers);
    return;
  }
  const events = [...openaiTextCompletionChunks({ model, pieces: piecesOf(first.words), promptTokens, completionTokens: first.words.length, includeUsage, finishReason: first.finish }), '[DONE]'];
  await sendSse(ctx, { kind: 'sse', events, intervalMs: b.intervalMs, headers });
}

function numberOr(...values: unknown[]): number | undefined {
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  return undefined;
}
