/**
 * The gateway as an MCP client of its MCP servers (config.yaml's and stored ones), over Streamable HTTP (MCP
 * 2025-03-26 and later: JSON-RPC requests POSTed with the server's own credential, answered as JSON or as an
 * SSE stream that carries the response) or the earlier HTTP+SSE transport (callOverSse). A session (`Mcp-Session-Id`) is opened once per isolate and server, and opened
 * again when the server has forgotten it (a 404, or the 400 some servers answer an unknown session with).
 * Every operation has one deadline, whatever it takes (opening a session, retrying in a new one); answers
 * are read up to MAX_ANSWER_CHARS; redirects are not followed (they would carry the server's credential).
 */
import { isObject, type Json } from '../json.ts';
import { GATEWAY_INFO, INTERNAL_ERROR, McpError, PROTOCOL_VERSIONS } from './json-rpc.ts';
import type { McpServer } from './schema.ts';

/**
 * The version the gateway asks servers for: 2025-11-25 lets a server close a response stream early and
 * expect the client to resume it with a GET, which the gateway does not do.
 */
const ASKED_VERSION = '2025-06-18';

/** The most of one answer (a JSON body, or one event of an SSE stream) the gateway reads, in characters. */
const MAX_ANSWER_CHARS = 16 * 1024 * 1024;


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

/** Requests of one session: each one's `result`, or McpError. */
export type Requester = (method: string, params: Json) => Promise<Json>;

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
        return await post(server, session, { jsonrpc: '2.0', id: nextId++, method, params }, deadline);
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
    jsonrpc: '2.0', id: nextId++, method: 'initialize',
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

/** A JSON-RPC response's result; its error as McpError. */
function resultOf(reply: unknown, status: number): Json {
  if (!isObject(reply)) throw new McpError(INTERNAL_ERROR, `MCP server answered ${status} without a JSON-RPC response`);
  if (isObject(reply.error)) {
    const { code, message: text, data } = reply.error;
    throw new McpError(typeof code === 'number' ? code : INTERNAL_ERROR, typeof text === 'string' ? text : 'MCP server error', data);
  }
  if (!isObject(reply.result)) throw new McpError(INTERNAL_ERROR, `MCP server answered ${status} without a result`);
  return reply.result;
}

/**
 * MCP's earlier HTTP+SSE transport (2024-11-05; LiteLLM's `transport: sse`): a GET opens the server's event
 * stream, whose `endpoint` event names where messages are POSTed; answers come on the stream. One stream an
 * operation: opened, initialized, its requests answered, closed. The endpoint must be on the server's own
 * origin (the credential goes there).
 */
async function callOverSse<T>(server: McpServer, deadline: Deadline, work: (request: Requester) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(deadline.left());
  const failed = (err: unknown) => (err instanceof McpError ? err : timedOut(err) ? deadline.error() : new McpError(INTERNAL_ERROR, 'MCP server could not be reached'));
  let res: Response;
  try {
    res = await fetch(server.url, { headers: { ...serverHeaders(server), accept: 'text/event-stream' }, redirect: 'manual', signal });
  } catch (err) {
    throw failed(err);
  }
  if (!res.ok || !res.body || !/text\/event-stream/i.test(res.headers.get('content-type') ?? '')) {
    await res.body?.cancel();
    throw new McpError(INTERNAL_ERROR, `MCP server answered ${res.status} to the GET that opens its event stream`);
  }
  const events = sseEvents(res.body);
  try {
    let endpoint: string | undefined;
    while (endpoint === undefined) {
      const next = await events.next();
      if (next.done) throw new McpError(INTERNAL_ERROR, 'MCP server ended its event stream without naming its message endpoint');
      if (next.value.event === 'endpoint') endpoint = next.value.data.trim();
    }
    const target = new URL(endpoint, server.url);
    if (target.origin !== new URL(server.url).origin) throw new McpError(INTERNAL_ERROR, 'MCP server named a message endpoint on another origin (not used: the credential would go there)');
    const send = async (message: Json) => {
      const posted = await fetch(target, { method: 'POST', headers: { ...serverHeaders(server), 'content-type': 'application/json' }, body: JSON.stringify(message), redirect: 'manual', signal });
      await posted.body?.cancel();
      if (!posted.ok) throw new McpError(INTERNAL_ERROR, `MCP server answered ${posted.status} to a message`);
    };
    const request = async (name: string, args: Json) => {
      const id = nextId++;
      await send({ jsonrpc: '2.0', id, method: name, params: args });
      return resultOf(await responseAmong(events, id), 200);
    };
    const init = await request('initialize', { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: GATEWAY_INFO });
    if (typeof init.protocolVersion !== 'string' || !PROTOCOL_VERSIONS.includes(init.protocolVersion)) {
      throw new McpError(INTERNAL_ERROR, `MCP server speaks protocol version ${String(init.protocolVersion)}, which the gateway does not`);
    }
    await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return await work(request);
  } catch (err) {
    throw failed(err);
  } finally {
    await events.return(undefined);
  }
}

const tooLarge = () => new McpError(INTERNAL_ERROR, `MCP server's answer is over ${MAX_ANSWER_CHARS / 1024 / 1024} MB`);

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
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
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
async function responseAmong(events: AsyncGenerator<SseEvent>, id: unknown): Promise<unknown> {
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
