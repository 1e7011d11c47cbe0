import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { WebSocket as WsSocket, WebSocketServer as WsServer } from 'ws';

// `ws` resolves to its browser stub under some loaders (vitest); require gives the Node build.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws');

export interface WsProxy {
  /** `ws://127.0.0.1:PORT/v1`: the value of a Worker's DATABASE_WSPROXY. */
  url: string;
  close(): Promise<void>;
}

/** Postgres Terminate message: 'X' then length 4. The client is done; half-close so the server ends too. */
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);

/**
 * The WebSocket-to-TCP proxy that lets the Neon driver reach a plain
 * Postgres (Neon's own wsproxy speaks the same protocol: `/v1?address=host:port`).
 * Only addresses in `allow` can be reached, so it is not an open relay.
 */
export async function startWsProxy(options: { allow: string[]; port?: number; host?: string }): Promise<WsProxy> {
  const allow = new Set(options.allow);
  const http = createServer((_, res) => res.writeHead(426).end('WebSocket upgrade required'));
  const wss: WsServer = new WebSocketServer({ server: http, path: '/v1' });
  const sockets = new Set<net.Socket>();

  wss.on('connection', (ws: WsSocket, req: IncomingMessage) => {
    const address = new URL(req.url ?? '/', 'http://x').searchParams.get('address') ?? '';
    if (!allow.has(address)) {
      ws.close(1008, 'address not allowed');
      return;
    }
    const sep = address.lastIndexOf(':');
    const tcp = net.connect({ host: address.slice(0, sep), port: Number(address.slice(sep + 1)) });
    sockets.add(tcp);
    tcp.setNoDelay(true);
    const pending: Buffer[] = [];
    let connected = false;
    tcp.on('connect', () => {
      connected = true;
      for (const chunk of pending.splice(0)) tcp.write(chunk);
    });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const chunk = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (connected) tcp.write(chunk);
      else pending.push(chunk);
      if (chunk.length >= 5 && chunk.subarray(chunk.length - 5).equals(TERMINATE)) tcp.end();
    });
    tcp.on('data', (chunk) => ws.readyState === ws.OPEN && ws.send(chunk));
    tcp.on('close', () => {
      sockets.delete(tcp);
      if (ws.readyState === ws.OPEN) ws.close();
    });
    tcp.on('error', () => ws.readyState === ws.OPEN && ws.close(1011, 'upstream error'));
    ws.on('close', () => tcp.end());
    ws.on('error', () => tcp.destroy());
  });

  await new Promise<void>((resolve) => http.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = http.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}/v1`,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.close(() => resolve());
    }),
  };
}
