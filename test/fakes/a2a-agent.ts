/**
 * A fake A2A agent on loopback speaking A2A's JSON-RPC binding (protocol 0.3 wire names): `message/send`
 * answers one Message echoing the text; `message/stream` answers an SSE stream (a working status, the
 * message, a final completed status; with "break", cut after the first); `tasks/get` a Task; `tasks/resubscribe` the
 * task's status updates as SSE. A text with "explode"
 * gets a JSON-RPC error; "crash" an HTTP 500 page; "redirect" a 307 to /elsewhere; "huge" a 17 MB JSON answer. For
 * `message/stream`, "slow" spaces its events 800 ms apart (3.2 s in all) and "sse-error" answers one JSON-RPC error
 * event. Requests without the agent's own bearer token are refused (401). Every request is recorded, with its path.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AgentRequest {
  url: string;
  headers: IncomingHttpHeaders;
  body: { jsonrpc?: string; id?: unknown; method?: string; params?: { message?: { parts?: { kind?: string; text?: string }[]; contextId?: string } } };
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
      const contextId = body.params?.message?.contextId ?? 'ctx-1';
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
      if (body.method === 'message/send') return reply({ result: message });
      if (body.method === 'tasks/get') return reply({ result: { kind: 'task', id: (body.params as { id?: string }).id, contextId, status: { state: 'completed' } } });
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
        const events = [
          { kind: 'status-update', taskId: 't-1', contextId, status: { state: 'working' }, final: false },
          { ...message, taskId: 't-1' },
          { kind: 'status-update', taskId: 't-1', contextId, status: { state: 'completed' }, final: true },
        ];
        let i = 0;
        if (text.includes('sse-error')) {
          return void res.end(`data: ${JSON.stringify({ jsonrpc: '2.0', id: body.id, error: { code: -32603, message: 'the stream exploded' } })}\n\n`);
        }
        const gap = text.includes('slow') ? 800 : 20;
        if (text.includes('slow')) events.push({ kind: 'status-update', taskId: 't-1', contextId, status: { state: 'completed' }, final: true });
        // "break": one event, then the connection is cut mid-stream.
        if (text.includes('break')) {
          res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: body.id, result: events[0] })}\n\n`);
          return void setTimeout(() => res.destroy(), 50);
        }
        const next = () => {
          if (i === events.length) return void res.end();
          res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: body.id, result: events[i++] })}\n\n`);
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
