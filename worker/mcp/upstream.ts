/**
 * The gateway as an MCP client of its MCP servers (config.yaml's and stored ones), over Streamable HTTP (MCP
 * 2025-03-26 and later: JSON-RPC requests POSTed with the server's own credential, answered as JSON or as an
 * SSE stream that carries the response) or the earlier HTTP+SSE transport (legacy-sse.ts). A session
 * (`Mcp-Session-Id`) is opened once per isolate and server, and opened again when the server has forgotten it (a 404, or the 400 some servers answer an unknown session with).
 * Every operation has one deadline, whatever it takes (opening a session, retrying in a new one); answers
 * are read up to MAX_ANSWER_CHARS; redirects are not followed (they would carry the server's credential).
 */
import { isObject, type Json } from '../json.ts';
import { boundedText, Deadline, type Requester, responseFromStream, resultOf, serverHeaders, timedOut } from './answers.ts';
import { GATEWAY_INFO, INTERNAL_ERROR, McpError, nextRequestId, PROTOCOL_VERSIONS } from './json-rpc.ts';
import { callOverSse } from './legacy-sse.ts';
import type { McpServer } from './schema.ts';

/**
 * The version the gateway asks servers for: 2025-11-25 lets a server close a response stream early and
 * expect the client to resume it with a GET, which the gateway does not do.
 */
const ASKED_VERSION = '2025-06-18';

interface Session {
  id: string | undefined;
  protocolVersion: string;
}

/** Sessions by server name, url and credential: a server changed in config.yaml opens its own. */
const sessions = new Map<string, Promise<Session>>();

/** One JSON-RPC request to a server, in its session (opened first when need be); its `result`, or McpError. */
export function callServer(name: string, server: McpServer, method: string, params: Json, timeoutMs: number): Promise<Json> {
  return withServer(name, server, timeoutMs, (request) => request(method, params));
}

/**
 * `work`'s requests to a server, in one session (an HTTP+SSE server's one event stream, so a listing's
 * pages share it), within `timeoutMs` in all.
 */
export async function withServer<T>(name: string, server: McpServer, timeoutMs: number, work: (request: Requester) => Promise<T>): Promise<T> {
  const deadline = new Deadline(timeoutMs);
  if (server.transport === 'sse') return callOverSse(server, deadline, work);
  const key = JSON.stringify([name, server.url, serverHeaders(server)]);
  return work(async (method, params) => {
    for (let attempt = 0; ; attempt++) {
      const opening = openSession(key, server);
      const session = await deadline.race(opening);
      try {
        return await post(server, session, { jsonrpc: '2.0', id: nextRequestId(), method, params }, deadline);
      } catch (err) {
        // A server that restarted (or expired the session) forgot it: once more, in a new one. Another call may
        // have opened that already; only the forgotten session is dropped.
        if (err instanceof SessionGone && attempt === 0) {
          if (sessions.get(key) === opening) sessions.delete(key);
          continue;
        }
        throw err instanceof SessionGone ? new McpError(INTERNAL_ERROR, 'MCP server forgot its session again') : err;
      }
    }
  });
}

class SessionGone extends Error {}

/** How long opening a session may take, whichever call opens it (the calls waiting on it keep their own deadlines). */
const OPEN_TIMEOUT_MS = 30_000;

/** Sessions an isolate keeps at most (clients' own credentials make one each): the least recently used goes first. */
const MAX_SESSIONS = 200;

function openSession(key: string, server: McpServer): Promise<Session> {
  let open = sessions.get(key);
  if (open) {
    // Least recently used goes first: a session in use moves to the back.
    sessions.delete(key);
    sessions.set(key, open);
  } else {
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
    open = initialize(server, new Deadline(OPEN_TIMEOUT_MS));
    sessions.set(key, open);
    // A failed opening is not kept: the next call tries again.
    open.catch(() => sessions.get(key) === open && sessions.delete(key));
  }
  return open;
}

async function initialize(server: McpServer, deadline: Deadline): Promise<Session> {
  const pending: Session = { id: undefined, protocolVersion: ASKED_VERSION };
  const result = await post(server, pending, {
    jsonrpc: '2.0', id: nextRequestId(), method: 'initialize',
    params: { protocolVersion: ASKED_VERSION, capabilities: {}, clientInfo: GATEWAY_INFO },
  }, deadline, (headers) => { pending.id = headers.get('mcp-session-id') ?? undefined; });
  const version = typeof result.protocolVersion === 'string' && PROTOCOL_VERSIONS.includes(result.protocolVersion) ? result.protocolVersion : undefined;
  if (!version) throw new McpError(INTERNAL_ERROR, `MCP server speaks protocol version ${String(result.protocolVersion)}, which the gateway does not`);
  pending.protocolVersion = version;
  try {
    await post(server, pending, { jsonrpc: '2.0', method: 'notifications/initialized' }, deadline);
  } catch (err) {
    throw err instanceof SessionGone ? new McpError(INTERNAL_ERROR, 'MCP server forgot the session it had just opened') : err;
  }
  return pending;
}

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
    // The session forgotten, unless the answer is an error of this very request (a 400 for a bad one).
    let reply: unknown;
    try {
      reply = JSON.parse(await boundedText(res));
    } catch {
      reply = undefined;
    }
    if ('id' in message && isObject(reply) && reply.id === message.id && isObject(reply.error)) return resultOf(reply, res.status);
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
  return resultOf(reply, res.status);
}

