/**
 * The loopback server skeleton the fakes share: an ephemeral port on 127.0.0.1, a handler whose throw is answered
 * (not left to take the test run down), close() that ends open connections so a suite's afterAll never waits, and
 * for fakes that look at whole bodies, the body and flattened headers read before the handler runs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fake listening on loopback. */
export interface FakeServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `serve` on an ephemeral loopback port. A throw (or rejection) is answered by `failed` when no answer has
 * begun, and drops the socket otherwise.
 */
export async function serveFake(
  serve: (req: IncomingMessage, res: ServerResponse) => unknown,
  failed: (res: ServerResponse, err: unknown) => void,
): Promise<FakeServer> {
  const server = createServer((req, res) => {
    const fail = (err: unknown) => {
      if (!res.headersSent && !res.destroyed) failed(res, err);
      else res.destroy();
    };
    try {
      void Promise.resolve(serve(req, res)).catch(fail);
    } catch (err) {
      fail(err);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A request's headers, each as one string (repeated ones joined by `, `), as the fakes record and check them. */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = [value].flat().join(', ');
  return headers;
}

/** The whole body of a request. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Serves a fake that answers once it has a request's whole body (with its headers flattened): the skeleton each
 * such fake repeated. A handler's throw is a plain-text 500 naming the fake.
 */
export function serveBodies(
  name: string,
  handle: (req: IncomingMessage, res: ServerResponse, body: Buffer, headers: Record<string, string>) => unknown,
): Promise<FakeServer> {
  return serveFake(
    async (req, res) => handle(req, res, await readBody(req), flatHeaders(req)),
    (res, err) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${name}: ${String(err)}`),
  );
}

/**
 * A request's body as the JSON intakes the fakes stand for read it: `content-type: application/json` (parameters
 * after it allowed) and one JSON value. Throws otherwise (`content-type <sent>`, prefixed by `label` when given, or
 * JSON.parse's SyntaxError), for each fake to answer its refusal as its service does (its status, body and record).
 */
export function jsonBody(headers: Record<string, string>, raw: Buffer | string, label?: string): any {
  const type = headers['content-type'];
  if (!String(type).startsWith('application/json')) throw new Error(`${label ? `${label}: ` : ''}content-type ${type}`);
  return JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
}

/**
 * Polls `items` (a fake's record, growing as requests come) until `count` of them match, and returns those; after
 * `timeoutMs` throws, naming the fake and showing what it got (through `shown`), so a failing test says why.
 */
export async function waitForMatches<T>(
  name: string, items: T[], match: (item: T) => boolean, count: number, timeoutMs: number, shown: (items: T[]) => unknown = (all) => all,
): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = items.filter(match);
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name}: ${items.filter(match).length}/${count} matching events within ${timeoutMs} ms; got ${JSON.stringify(shown(items))}`);
}
