import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/**
 * An MCP server on loopback, built with the official SDK's Streamable HTTP transport (sessions, SSE or JSON
 * answers as the SDK sends them): `add`, `echo_headers`, `slow` and `fail` tools, optionally behind a bearer token.
 */
export interface FakeMcpServer {
  url: string;
  /** Every request's headers and JSON body, in order. */
  requests: { headers: IncomingMessage['headers']; body: unknown }[];
  /** Forgets every session, as a restarted server does: their requests get 404. */
  forgetSessions(): void;
  /** HTTP+SSE event streams open now. */
  openStreams(): number;
  close(): Promise<void>;
}

export async function startFakeMcpServer(options: { name: string; bearer?: string; json?: boolean; sse?: boolean }): Promise<FakeMcpServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const sseSessions = new Map<string, SSEServerTransport>();
  const requests: FakeMcpServer['requests'] = [];

  const newServer = () => {
    const server = new McpServer({ name: options.name, version: '1.0.0' });
    server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
      async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));
    server.registerTool('slow', { description: 'Answers after ms milliseconds', inputSchema: { ms: z.number() } },
      async ({ ms }) => {
        await new Promise((r) => setTimeout(r, ms));
        return { content: [{ type: 'text', text: 'done' }] };
      });
    server.registerTool('fail', { description: 'Always fails' }, async () => {
      throw new Error('the tool broke');
    });
    server.registerTool('admin_only', { description: 'Not for the gateway\'s users' }, async () => ({ content: [{ type: 'text', text: 'secret' }] }));
    server.registerPrompt('greet', { description: 'A greeting', argsSchema: { who: z.string() } }, ({ who }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Say hello to ${who} from ${options.name}` } }],
    }));
    server.registerResource('readme', `memo://${options.name}/readme`, { description: 'The readme', mimeType: 'text/plain' }, async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: `${options.name} readme` }],
    }));
    return server;
  };

  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    requests.push({ headers: req.headers, body });
    if (options.bearer && req.headers.authorization !== `Bearer ${options.bearer}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthorized' }));
      return;
    }
    if (options.sse) {
      // MCP's earlier HTTP+SSE transport: GET /sse opens the stream (its first event names /messages), POSTs carry the messages.
      if (req.method === 'GET') {
        const transport = new SSEServerTransport('/messages', res);
        sseSessions.set(transport.sessionId, transport);
        res.on('close', () => sseSessions.delete(transport.sessionId));
        await newServer().connect(transport);
        return;
      }
      const transport = sseSessions.get(new URL(req.url ?? '', 'http://x').searchParams.get('sessionId') ?? '');
      if (!transport) {
        res.writeHead(404).end('no such session');
        return;
      }
      await transport.handlePostMessage(req, res, body);
      return;
    }
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (!transport) {
      if (typeof sessionId === 'string') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
        return;
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: options.json === true,
        onsessioninitialized: (id) => void sessions.set(id, created),
      });
      transport = created;
      await newServer().connect(created);
    }
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${options.sse ? 'sse' : 'mcp'}`,
    requests,
    forgetSessions: () => sessions.clear(),
    openStreams: () => sseSessions.size,
    close: () => new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }),
  };
}
