/**
 * The gateway as an MCP client of config.yaml's `mcp_servers`, over Streamable HTTP (MCP 2025-03-26 and
 * later): JSON-RPC requests POSTed with the server's own credential, answered as JSON or as an SSE stream
 * that carries the response. A session (`Mcp-Session-Id`) is opened once per isolate and server, and opened
 * again when the server has forgotten it (a 404, or the 400 some servers answer an unknown session with).
 * Every operation has one deadline, whatever it takes (opening a session, retrying in a new one); answers
 * are read up to MAX_ANSWER_BYTES; redirects are not followed (they would carry the server's credential).
 */
import { isObject, type Json } from '../json.ts';
import type { McpServer } from './schema.ts';

/** The protocol versions the gateway accepts from clients and servers, newest first. */
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
/**
 * The version the gateway asks servers for: 2025-11-25 lets a server close a response stream early and
 * expect the client to resume it with a GET, which the gateway does not do.
 */
const ASKED_VERSION = '2025-06-18';

/** LiteLLM's name for its MCP server, which clients see in `initialize`. */
export const GATEWAY_INFO = { name: 'litellm-mcp-server', version: '1.0.0' };

/** The most of one answer (a JSON body, or an SSE stream up to its response) the gateway reads. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** A JSON-RPC error the server answered (or the gateway made of a failure to reach it). */
export class McpError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

const INTERNAL_ERROR = -32603;

interface Session {
  id: string | undefined;
  protocolVersion: string;
}

/** Sessions by server name, url and credential: a server changed in config.yaml opens its own. */
const sessions = new Map<string, Promise<Session>>();
let nextId = 1;

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
class Deadline {
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

/** One JSON-RPC request to a server, in its session (opened first when need be); its `result`, or McpError. */
export async function callServer(name: string, server: McpServer, method: string, params: Json, timeoutMs: number): Promise<Json> {
  const deadline = new Deadline(timeoutMs);
  const key = JSON.stringify([name, server.url, serverHeaders(server)]);
  for (let attempt = 0; ; attempt++) {
    const opening = openSession(key, server, deadline);
    const session = await deadline.race(opening);
    try {
      return await post(server, session, { jsonrpc: '2.0', id: nextId++, method, params }, deadline);
    } catch (err) {
      // A server that restarted (or expired the session) forgot it: once more, in a new one. Another call may
      // have opened that already; only the forgotten session is dropped.
      if (err instanceof SessionGone && attempt === 0) {
        if (sessions.get(key) === opening) sessions.delete(key);
        continue;
      }
      throw err;
    }
  }
}

class SessionGone extends Error {}

function openSession(key: string, server: McpServer, deadline: Deadline): Promise<Session> {
  let open = sessions.get(key);
  if (!open) {
    open = initialize(server, deadline);
    sessions.set(key, open);
    // A failed opening is not kept: the next call tries again.
    open.catch(() => sessions.get(key) === open && sessions.delete(key));
  }
  return open;
}

async function initialize(server: McpServer, deadline: Deadline): Promise<Session> {
  const pending: Session = { id: undefined, protocolVersion: ASKED_VERSION };
  const result = await post(server, pending, {
    jsonrpc: '2.0', id: nextId++, method: 'initialize',
    params: { protocolVersion: ASKED_VERSION, capabilities: {}, clientInfo: GATEWAY_INFO },
  }, deadline, (headers) => { pending.id = headers.get('mcp-session-id') ?? undefined; });
  const version = typeof result.protocolVersion === 'string' && PROTOCOL_VERSIONS.includes(result.protocolVersion) ? result.protocolVersion : undefined;
  if (!version) throw new McpError(INTERNAL_ERROR, `MCP server speaks protocol version ${String(result.protocolVersion)}, which the gateway does not`);
  pending.protocolVersion = version;
  await post(server, pending, { jsonrpc: '2.0', method: 'notifications/initialized' }, deadline);
  return pending;
}

const timedOut = (err: unknown) => err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');

/**
 * POSTs one message; for a request, reads its response from JSON or from the SSE stream (other messages the
 * server sends on it first are skipped). A notification's answer (202) is `{}`.
 */
async function post(server: McpServer, session: Session, message: Json, deadline: Deadline, onHeaders?: (headers: Headers) => void): Promise<Json> {
  const headers: Record<string, string> = {
    ...serverHeaders(server),
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': session.protocolVersion,
  };
  if (session.id) headers['mcp-session-id'] = session.id;
  let res: Response;
  try {
    res = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify(message), redirect: 'manual', signal: AbortSignal.timeout(deadline.left()) });
  } catch (err) {
    if (err instanceof McpError) throw err;
    throw timedOut(err) ? deadline.error() : new McpError(INTERNAL_ERROR, 'MCP server could not be reached');
  }
  if (session.id && (res.status === 404 || res.status === 400)) {
    await res.body?.cancel();
    throw new SessionGone();
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new McpError(INTERNAL_ERROR, `MCP server answered ${res.status} (a redirect, not followed: set its url to where it leads)`);
  }
  onHeaders?.(res.headers);
  if (!('id' in message)) {
    await res.body?.cancel();
    if (res.ok) return {};
    throw new McpError(INTERNAL_ERROR, `MCP server answered ${res.status}`);
  }
  const type = res.headers.get('content-type') ?? '';
  let reply: unknown;
  try {
    reply = /text\/event-stream/i.test(type) ? await responseFromStream(res.body, message.id) : JSON.parse(await boundedText(res));
  } catch (err) {
    if (err instanceof McpError) throw err;
    // The request's timeout covers reading the answer too.
    if (timedOut(err)) throw deadline.error();
    throw new McpError(INTERNAL_ERROR, `MCP server answered ${res.status} without a JSON-RPC response`);
  }
  if (!isObject(reply)) throw new McpError(INTERNAL_ERROR, `MCP server answered ${res.status} without a JSON-RPC response`);
  if (isObject(reply.error)) {
    const { code, message: text, data } = reply.error;
    throw new McpError(typeof code === 'number' ? code : INTERNAL_ERROR, typeof text === 'string' ? text : 'MCP server error', data);
  }
  if (!isObject(reply.result)) throw new McpError(INTERNAL_ERROR, `MCP server answered ${res.status} without a result`);
  return reply.result;
}

const tooLarge = () => new McpError(INTERNAL_ERROR, `MCP server's answer is over ${MAX_ANSWER_BYTES / 1024 / 1024} MB`);

async function boundedText(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      text += decoder.decode(value, { stream: !done });
      if (done) return text;
      if (text.length > MAX_ANSWER_BYTES) throw tooLarge();
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

/**
 * The JSON-RPC response of `id` in an SSE stream (lines ended by CRLF, LF or CR; `data:` lines joined); the
 * rest of the stream is cancelled once it came.
 */
export async function responseFromStream(body: ReadableStream<Uint8Array> | null, id: unknown): Promise<unknown> {
  if (!body) throw new McpError(INTERNAL_ERROR, 'MCP server sent an empty stream');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
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
      if (buffer.length > MAX_ANSWER_BYTES) throw tooLarge();
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        if (!data) continue;
        let message: unknown;
        try {
          message = JSON.parse(data);
        } catch {
          continue;
        }
        if (isObject(message) && message.id === id && ('result' in message || 'error' in message)) return message;
      }
    }
    throw new McpError(INTERNAL_ERROR, 'MCP server ended its stream without a response');
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}
