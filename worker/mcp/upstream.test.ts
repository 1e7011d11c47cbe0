import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { McpError } from './json-rpc.ts';
import { responseFromStream } from './answers.ts';
import { callServer } from './upstream.ts';

/** An SSE body delivered in the given pieces. */
function stream(...pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

const response = { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'ok\nwith a line' }] } };

describe('responseFromStream (an SSE answer to one JSON-RPC request)', () => {
  it('finds the response among other messages, whatever the line endings and chunking', async () => {
    const notification = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } });
    const other = JSON.stringify({ jsonrpc: '2.0', id: 8, result: {} });
    const text = JSON.stringify(response);
    for (const eol of ['\n', '\r\n', '\r']) {
      const body = `: keep-alive${eol}${eol}event: message${eol}data: ${notification}${eol}${eol}data: ${other}${eol}${eol}id: 1${eol}data: ${text}${eol}${eol}`;
      // Whole, and cut every 3 characters (a CRLF split across chunks included).
      expect(await responseFromStream(stream(body), 7)).toEqual(response);
      const pieces = body.match(/[\s\S]{1,3}/g)!;
      expect(await responseFromStream(stream(...pieces), 7)).toEqual(response);
    }
  });

  it('joins multi-line data and matches string ids exactly', async () => {
    const [head, tail] = [JSON.stringify({ jsonrpc: '2.0', id: 'a', result: {} }).slice(0, 10), JSON.stringify({ jsonrpc: '2.0', id: 'a', result: {} }).slice(10)];
    expect(await responseFromStream(stream(`data: ${head}\ndata:${tail}\n\n`), 'a')).toEqual({ jsonrpc: '2.0', id: 'a', result: {} });
    await expect(responseFromStream(stream(`data: ${JSON.stringify({ jsonrpc: '2.0', id: '7', result: {} })}\n\n`), 7)).rejects.toThrow(McpError);
  });

  it('fails clearly when the stream ends without the response', async () => {
    await expect(responseFromStream(stream('data: {"jsonrpc":"2.0","method":"x"}\n\n'), 1)).rejects.toThrow('MCP server ended its stream without a response');
    await expect(responseFromStream(null, 1)).rejects.toThrow('MCP server sent an empty stream');
  });
});

describe('the HTTP+SSE transport (transport: sse)', () => {
  it("does not send the server's credential to a message endpoint on another origin", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: endpoint\ndata: http://elsewhere.invalid/messages?sessionId=1\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sse`;
      await expect(callServer('evil', { url, transport: 'sse', auth_type: 'bearer_token', auth_value: 'secret' }, 'tools/list', {}, 5000))
        .rejects.toThrow('MCP server named a message endpoint on another origin (not used: the credential would go there)');
      expect(seen).toEqual(['GET /sse']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

/** A Streamable HTTP server by hand: `answer` gets each JSON-RPC message and writes the reply. */
async function handServer(answer: (message: { id?: number; method: string }, res: import('node:http').ServerResponse) => void) {
  const seen: string[] = [];
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const message = JSON.parse(text) as { id?: number; method: string };
    seen.push(message.method);
    answer(message, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  return { url, seen, close: () => { server.closeAllConnections(); server.close(); } };
}

const initialized = (message: { id?: number; method: string }, res: import('node:http').ServerResponse) => {
  if (message.method === 'initialize') {
    res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' })
      .end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'x', version: '1' } } }));
    return true;
  }
  if (message.method === 'notifications/initialized') {
    res.writeHead(202).end();
    return true;
  }
  return false;
};

describe('Streamable HTTP answers the gateway does not take as they come', () => {
  it('a 400 carrying the error of the very request is that error, not a forgotten session', async () => {
    const s = await handServer((message, res) => {
      if (initialized(message, res)) return;
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32602, message: 'bad arguments' } }));
    });
    try {
      await expect(callServer('hand400', { url: s.url, transport: 'http' }, 'tools/call', { name: 'x' }, 5000)).rejects.toThrow('bad arguments');
      expect(s.seen).toEqual(['initialize', 'notifications/initialized', 'tools/call']);
    } finally {
      s.close();
    }
  });

  it('does not follow a redirect (it would carry the credential)', async () => {
    const elsewhere = await handServer((_, res) => res.writeHead(200).end('{}'));
    const s = await handServer((_, res) => res.writeHead(307, { location: elsewhere.url }).end());
    try {
      await expect(callServer('redirects', { url: s.url, transport: 'http', auth_type: 'bearer_token', auth_value: 'secret' }, 'tools/list', {}, 5000))
        .rejects.toThrow('MCP server answered 307 (a redirect, not followed: set its url to where it leads)');
      expect(elsewhere.seen).toEqual([]);
    } finally {
      s.close();
      elsewhere.close();
    }
  });
});
