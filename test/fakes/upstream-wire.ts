/** The fake upstream's wire: writing JSON and server-sent events, pausing, parsing what came in. */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { fakeId } from './openai-format.ts';
import type { Behaviour } from './upstream.ts';

export interface Ctx {
  res: ServerResponse;
  /** Fires on the fake's close(). */
  signal: AbortSignal;
  /** Kills the connection on purpose (not counted as a client abort). */
  destroy: () => void;
}

export function parseBody(raw: string): unknown {
  try {
    return raw ? JSON.parse(raw) : '';
  } catch {
    return raw;
  }
}

/** Waits, then says whether the response is still worth writing (client still there, fake not closed). */
export async function pause(ctx: Ctx, ms: number | undefined): Promise<boolean> {
  if (ms && ms > 0) {
    try {
      await sleepFor(ms, undefined, { signal: ctx.signal });
    } catch {
      return false;
    }
  }
  return !ctx.signal.aborted && !ctx.res.destroyed;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
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

export async function sendSse(ctx: Ctx, b: Extract<Behaviour, { kind: 'sse' }>): Promise<void> {
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
