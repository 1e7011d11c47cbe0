/**
 * A fake A2A agent on loopback speaking A2A's JSON-RPC binding (protocol 0.3 wire names): `message/send`
 * answers one Message echoing the text (a Task holding it when the text has "task", or the message names a `taskId`);
 * `message/stream` answers an SSE stream (a working status, the message, a final completed status, of a new task
 * `t-<n>` or the one named; with "break", cut after the first); `tasks/get` a Task; `tasks/cancel` it canceled;
 * `tasks/resubscribe` the task's status updates as SSE. A message without a `contextId` gets a new one (`ctx-<n>`). A text with "explode"
 * gets a JSON-RPC error; "crash" an HTTP 500 page; "redirect" a 307 to /elsewhere; "huge" a 17 MB JSON answer. For
 * `message/stream`, "slow" spaces its events 800 ms apart (3.2 s in all) and "sse-error" answers one JSON-RPC error
 * event. As the a2a-python SDK does, a message's `task_id` / `context_id` are read as `taskId` / `contextId`. An
 * agent naming ids it was not given: "adopt:<id>" continues task <id> (its Task or stream, with its history);
 * "long-context" answers a context id of 2,000 characters. Stream starts: "ping-first" opens with a `: ping`
 * comment and a `retry:` block; "late-task" sends a Message naming no task first, the task in later events;
 * "big-first" pads the first event past 64 KB; "crlf" ends events with CRLF. Requests without the agent's own bearer token are refused (401).
 * Every request is recorded, with its path.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AgentRequest {
  url: string;
  headers: IncomingHttpHeaders;
  body: { jsonrpc?: string; id?: unknown; method?: string; params?: { id?: string; message?: { parts?: { kind?: string; text?: string }[]; contextId?: string; context_id?: string; taskId?: string; task_id?: string; referenceTaskIds?: string[] } } };
}

export interface FakeA2aAgent {
  url: string;
  requests: AgentRequest[];
  close(): Promise<void>;
}

const textOf = (req: AgentRequest['body']) => (req.params?.message?.parts ?? []).map((p) => p.text ?? '').join('');

export async function startFakeA2aAgent(options: { name: string; bearer: string }): Promise<FakeA2aAgent> {
  const requests: AgentRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: AgentRequest['body'];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AgentRequest['body'];
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
        return;
      }
      requests.push({ url: req.url ?? '', headers: req.headers, body });
      const reply = (payload: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, ...payload as object }));
      if (req.headers.authorization !== `Bearer ${options.bearer}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthorized' }));
        return;
      }
      const text = textOf(body);
      const sent = body.params?.message;
      const contextId = text.includes('long-context') ? 'c'.repeat(2000) : sent?.contextId ?? sent?.context_id ?? `ctx-${requests.length}`;
      const namedTask = /adopt:(\S+)/.exec(text)?.[1] ?? sent?.taskId ?? sent?.task_id;
      const message = { kind: 'message', role: 'agent', messageId: `m-${requests.length}`, contextId, parts: [{ kind: 'text', text: `${options.name} says: ${text}` }] };
      if (text.includes('crash')) {
        res.writeHead(500, { 'content-type': 'text/html' }).end('<html>internal trace at /srv/agent.py line 12</html>');
        return;
      }
      if (text.includes('redirect') && req.url !== '/elsewhere') {
        res.writeHead(307, { location: '/elsewhere' }).end();
        return;
      }
      if (text.includes('huge')) {
        return reply({ result: { ...message, parts: [{ kind: 'text', text: 'x'.repeat(17 * 1024 * 1024) }] } });
      }
      if (text.includes('explode')) return reply({ error: { code: -32603, message: 'the agent exploded' } });
      if (body.method === 'message/send' && (text.includes('task') || namedTask)) {
        const id = namedTask ?? `task-${requests.length}`;
        return reply({ result: { kind: 'task', id, contextId, status: { state: 'input-required' }, history: [{ ...body.params?.message, taskId: id, contextId }, { ...message, taskId: id }] } });
      }
      if (body.method === 'message/send') return reply({ result: message });
      if (body.method === 'tasks/get') return reply({ result: { kind: 'task', id: body.params?.id, contextId, status: { state: 'completed' }, artifacts: [{ artifactId: 'a-1', parts: [{ kind: 'text', text: `the secret result of ${body.params?.id}` }] }] } });
      if (body.method === 'tasks/cancel') return reply({ result: { kind: 'task', id: body.params?.id, contextId, status: { state: 'canceled' } } });
      if (body.method === 'tasks/resubscribe') {
        // The task's events from now on, as SSE: one working update, then the final one.
        const taskId = (body.params as { id?: string }).id;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const [state, final] of [['working', false], ['completed', true]] as const) {
          res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: body.id, result: { kind: 'status-update', taskId, contextId, status: { state }, final } })}\n\n`);
        }
        return void res.end();
      }
      if (body.method === 'message/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const taskId = namedTask ?? `t-${requests.length}`;
        const events: Record<string, unknown>[] = [
          { kind: 'status-update', taskId, contextId, status: { state: 'working' }, final: false },
          { ...message, taskId },
          { kind: 'status-update', taskId, contextId, status: { state: 'completed' }, final: true },
        ];
        let i = 0;
        if (text.includes('sse-error')) {
          return void res.end(`data: ${JSON.stringify({ jsonrpc: '2.0', id: body.id, error: { code: -32603, message: 'the stream exploded' } })}\n\n`);
        }
        const gap = text.includes('slow') ? 800 : 20;
        if (text.includes('slow')) events.push({ kind: 'status-update', taskId, contextId, status: { state: 'completed' }, final: true });
        if (text.includes('late-task')) events.unshift({ ...message, messageId: 'm-first' });
        if (text.includes('big-first')) events[0] = { ...events[0], metadata: { pad: 'p'.repeat(100 * 1024) } };
        if (text.includes('ping-first')) res.write(': ping\n\nretry: 1000\n\n');
        // "break": one event, then the connection is cut mid-stream.
        if (text.includes('break')) {
          res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: body.id, result: events[0] })}\n\n`);
          return void setTimeout(() => res.destroy(), 50);
        }
        const next = () => {
          if (i === events.length) return void res.end();
          // "crlf": events ended as sse-starlette (behind the a2a-python SDK) ends them.
          const end = text.includes('crlf') ? '\r\n\r\n' : '\n\n';
          res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: body.id, result: events[i++] })}${end}`);
          setTimeout(next, gap);
        };
        return next();
      }
      reply({ error: { code: -32601, message: 'Method not found' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
