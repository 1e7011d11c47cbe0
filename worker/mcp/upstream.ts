/**
 * The gateway as an MCP client of config.yaml's `mcp_servers`, over Streamable HTTP (MCP 2025-03-26 and
 * later): JSON-RPC requests POSTed with the server's own credential, answered as JSON or as an SSE stream
 * that carries the response. A session (`Mcp-Session-Id`) is opened once per isolate and server, and opened
 * again when the server has forgotten it.
 */
import { isObject, type Json } from '../json.ts';
import type { McpServer } from './schema.ts';

/** The protocol versions the gateway speaks, newest first (what it offers servers and accepts from clients). */
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

/** LiteLLM's name for its MCP server, which clients see in `initialize`. */
export const GATEWAY_INFO = { name: 'litellm-mcp-server', version: '1.0.0' };

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

interface Session {
  id: string | undefined;
  protocolVersion: string;
}

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

/** One JSON-RPC request to a server, in its session (opened first when need be); its `result`, or McpError. */
export async function callServer(name: string, server: McpServer, method: string, params: Json, timeoutMs: number): Promise<Json> {
  for (let attempt = 0; ; attempt++) {
    const session = await openSession(name, server, timeoutMs);
    try {
      return await post(server, session, { jsonrpc: '2.0', id: nextId++, method, params }, timeoutMs);
    } catch (err) {
      // A server that restarted (or expired the session) answers 404: once more, in a new session.
      if (err instanceof SessionGone && attempt === 0) {
        sessions.delete(name);
        continue;
      }
      throw err;
    }
  }
}

class SessionGone extends Error {}

function openSession(name: string, server: McpServer, timeoutMs: number): Promise<Session> {
  let open = sessions.get(name);
  if (!open) {
    open = initialize(server, timeoutMs);
    sessions.set(name, open);
    // A failed opening is not kept: the next call tries again.
    open.catch(() => sessions.get(name) === open && sessions.delete(name));
  }
  return open;
}

async function initialize(server: McpServer, timeoutMs: number): Promise<Session> {
  const pending: Session = { id: undefined, protocolVersion: PROTOCOL_VERSIONS[0]! };
  const result = await post(server, pending, {
    jsonrpc: '2.0', id: nextId++, method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSIONS[0], capabilities: {}, clientInfo: GATEWAY_INFO },
  }, timeoutMs, (headers) => { pending.id = headers.get('mcp-session-id') ?? undefined; });
  const version = typeof result.protocolVersion === 'string' && PROTOCOL_VERSIONS.includes(result.protocolVersion) ? result.protocolVersion : undefined;
  if (!version) throw new McpError(-32603, `MCP server speaks protocol version ${String(result.protocolVersion)}, which the gateway does not`);
  pending.protocolVersion = version;
  await post(server, pending, { jsonrpc: '2.0', method: 'notifications/initialized' }, timeoutMs);
  return pending;
}

/**
 * POSTs one message; for a request, reads its response from JSON or from the SSE stream (other messages the
 * server sends on it first are skipped). A notification's answer (202) is `{}`.
 */
async function post(server: McpServer, session: Session, message: Json, timeoutMs: number, onHeaders?: (headers: Headers) => void): Promise<Json> {
  const headers: Record<string, string> = {
    ...serverHeaders(server),
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': session.protocolVersion,
  };
  if (session.id) headers['mcp-session-id'] = session.id;
  let res: Response;
  try {
    res = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify(message), signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new McpError(-32603, timedOut(err) ? `MCP server did not answer within ${timeoutMs / 1000} s` : 'MCP server could not be reached');
  }
  if (res.status === 404 && session.id) {
    await res.body?.cancel();
    throw new SessionGone();
  }
  onHeaders?.(res.headers);
  if (!('id' in message)) {
    await res.body?.cancel();
    if (res.ok) return {};
    throw new McpError(-32603, `MCP server answered ${res.status}`);
  }
  const type = res.headers.get('content-type') ?? '';
  let reply: unknown;
  try {
    reply = /text\/event-stream/i.test(type) ? await responseFromStream(res, message.id) : await res.json();
  } catch (err) {
    if (err instanceof McpError) throw err;
    // The request's timeout covers reading the answer too.
    if (timedOut(err)) throw new McpError(-32603, `MCP server did not answer within ${timeoutMs / 1000} s`);
    throw new McpError(-32603, `MCP server answered ${res.status} without a JSON-RPC response`);
  }
  if (!isObject(reply)) throw new McpError(-32603, `MCP server answered ${res.status} without a JSON-RPC response`);
  if (isObject(reply.error)) {
    const { code, message: text, data } = reply.error;
    throw new McpError(typeof code === 'number' ? code : -32603, typeof text === 'string' ? text : 'MCP server error', data);
  }
  if (!isObject(reply.result)) throw new McpError(-32603, `MCP server answered ${res.status} without a result`);
  return reply.result;
}

/** The JSON-RPC response of `id` in an SSE stream; the rest of the stream is cancelled once it came. */
async function responseFromStream(res: Response, id: unknown): Promise<unknown> {
  if (!res.body) throw new McpError(-32603, 'MCP server sent an empty stream');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new McpError(-32603, 'MCP server ended its stream without a response');
      buffer += value;
      let end: number;
      while ((end = eventEnd(buffer)) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^(\r?\n){1,2}/, '');
        const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
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
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

const timedOut = (err: unknown) => err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');

/** Where the first complete event in the buffer ends (before its blank line), or -1. */
function eventEnd(buffer: string): number {
  const match = /\r?\n\r?\n/.exec(buffer);
  return match ? match.index : -1;
}
