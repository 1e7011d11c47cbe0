/**
 * A scriptable fake LLM provider on loopback: it speaks OpenAI's and Azure
 * OpenAI's wire formats, records every request, and can be told per request
 * to answer, stream, fail, hang, reset or drop, so the gateway is tested
 * against real sockets rather than mocked fetches.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openaiError } from './openai-format.ts';
import { echo } from './upstream-echo.ts';
import { type Ctx, parseBody, pause, sendJson, sendSse } from './upstream-wire.ts';

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
  /** Requests whose response has not finished or closed yet. */
  readonly inFlight: number;
  /** The most requests in flight at once since start or reset(). */
  readonly peakInFlight: number;
}

const ECHO: Behaviour = { kind: 'echo' };

export async function startFakeUpstream(options?: { default?: Behaviour }): Promise<FakeUpstream> {
  const initialDefault = options?.default ?? ECHO;
  let fallback = initialDefault;
  let queue: Behaviour[] = [];
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();
  let inFlight = 0;
  let peakInFlight = 0;
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
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    res.once('close', () => inFlight--);
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
    get inFlight() {
      return inFlight;
    },
    get peakInFlight() {
      return peakInFlight;
    },
    reset: () => {
      peakInFlight = inFlight;
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
