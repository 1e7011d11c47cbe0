import type { Json } from '../json.ts';
import { type Deadline, type Requester, responseAmong, resultOf, serverHeaders, sseEvents, timedOut } from './answers.ts';
import { GATEWAY_INFO, INTERNAL_ERROR, McpError, nextRequestId, PROTOCOL_VERSIONS } from './json-rpc.ts';
import type { McpServer } from './schema.ts';

/**
 * MCP's earlier HTTP+SSE transport (2024-11-05; LiteLLM's `transport: sse`): a GET opens the server's event
 * stream, whose `endpoint` event names where messages are POSTed; answers come on the stream. One stream an
 * operation: opened, initialized, its requests answered, closed. The endpoint must be on the server's own
 * origin (the credential goes there).
 */
export async function callOverSse<T>(server: McpServer, deadline: Deadline, work: (request: Requester) => Promise<T>): Promise<T> {
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
      const id = nextRequestId();
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

