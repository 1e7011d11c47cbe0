/**
 * What both MCP transports share (upstream.ts: Streamable HTTP; legacy-sse.ts: HTTP+SSE): a server's own
 * credential as headers, an operation's deadline, reading answers (bounded JSON bodies, SSE events) and the
 * JSON-RPC result in them.
 */
import { isObject, type Json } from '../json.ts';
import { INTERNAL_ERROR, McpError } from './json-rpc.ts';
import type { McpServer } from './schema.ts';

/** The most of one answer (a JSON body, or one event of an SSE stream) the gateway reads, in characters. */
const MAX_ANSWER_CHARS = 16 * 1024 * 1024;


/** Requests of one session: each one's `result`, or McpError. */
export type Requester = (method: string, params: Json) => Promise<Json>;

/** The headers the server's own credential and `static_headers` make. */
export function serverHeaders(server: McpServer): Record<string, string> {
  const out: Record<string, string> = { ...server.static_headers };
  const value = server.auth_value;
  if (value) {
    switch (server.auth_type) {
      case 'api_key': out['x-api-key'] = value; break;
      case 'bearer_token': out.authorization = `Bearer ${value}`; break;
      case 'basic': out.authorization = `Basic ${value}`; break;
      case 'authorization': out.authorization = value; break;
      case 'token': out.authorization = `token ${value}`; break;
      default: break;
    }
  }
  return out;
}

/** One operation's deadline: what is left of it, and a timeout error naming the whole. */
export class Deadline {
  readonly at: number;
  readonly ms: number;
  constructor(ms: number) {
    this.ms = ms;
    this.at = Date.now() + ms;
  }
  left(): number {
    const left = this.at - Date.now();
    if (left <= 0) throw this.error();
    return left;
  }
  error(): McpError {
    return new McpError(INTERNAL_ERROR, `MCP server did not answer within ${this.ms / 1000} s`);
  }
  /** `p`, or the timeout error once the deadline passes. */
  race<T>(p: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(this.error()), this.left())));
    return Promise.race([p, expired]).finally(() => timer !== undefined && clearTimeout(timer));
  }
}

export const timedOut = (err: unknown) => err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');

/** A JSON-RPC response's result; its error as McpError. */
export function resultOf(reply: unknown, status: number): Json {
  if (!isObject(reply)) throw new McpError(INTERNAL_ERROR, `MCP server answered ${status} without a JSON-RPC response`);
  if (isObject(reply.error)) {
    const { code, message: text, data } = reply.error;
    throw new McpError(typeof code === 'number' ? code : INTERNAL_ERROR, typeof text === 'string' ? text : 'MCP server error', data);
  }
  if (!isObject(reply.result)) throw new McpError(INTERNAL_ERROR, `MCP server answered ${status} without a result`);
  return reply.result;
}

const tooLarge = () => new McpError(INTERNAL_ERROR, `MCP server's answer is over ${MAX_ANSWER_CHARS / 1024 / 1024} MB`);

export async function boundedText(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      text += decoder.decode(value, { stream: !done });
      if (done) return text;
      if (text.length > MAX_ANSWER_CHARS) throw tooLarge();
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

/** One server-sent event: its `event` name ('message' when unnamed) and its `data` lines joined. */
interface SseEvent {
  event: string;
  data: string;
}

/**
 * The events of an SSE stream as they come (lines ended by CRLF, LF or CR), up to MAX_ANSWER_CHARS of any one
 * event; the stream is cancelled when the reader stops.
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  // Where the search for an event's end goes on from: what was searched already holds none.
  let searched = 0;
  // A CR at the end of a chunk may be the first half of a CRLF: held until the next chunk says.
  let heldCr = false;
  try {
    for (let ended = false; !ended;) {
      const { done, value } = await reader.read();
      ended = done;
      // At the end, a held CR ends its line after all.
      let text: string = (heldCr ? '\r' : '') + decoder.decode(value, { stream: !done });
      heldCr = !done && text.endsWith('\r');
      if (heldCr) text = text.slice(0, -1);
      buffer += text.replace(/\r\n?/g, '\n');
      if (buffer.length > MAX_ANSWER_CHARS) throw tooLarge();
      let end: number;
      while ((end = buffer.indexOf('\n\n', searched)) >= 0) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        searched = 0;
        const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        const name = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
        if (data) yield { event: name || 'message', data };
      }
      searched = Math.max(0, buffer.length - 1);
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

/** The JSON-RPC response of `id` among an SSE stream's message events; the rest of the stream is cancelled once it came. */
export async function responseFromStream(body: ReadableStream<Uint8Array> | null, id: unknown): Promise<unknown> {
  if (!body) throw new McpError(INTERNAL_ERROR, 'MCP server sent an empty stream');
  const events = sseEvents(body);
  try {
    return await responseAmong(events, id);
  } finally {
    await events.return(undefined);
  }
}

/** The response of `id` among the events still to come (the stream is left open for more). */
export async function responseAmong(events: AsyncGenerator<SseEvent>, id: unknown): Promise<unknown> {
  for (let next = await events.next(); !next.done; next = await events.next()) {
    const { event, data } = next.value;
    if (event !== 'message') continue;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      continue;
    }
    if (isObject(message) && message.id === id && ('result' in message || 'error' in message)) return message;
  }
  throw new McpError(INTERNAL_ERROR, 'MCP server ended its stream without a response');
}
