import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openaiError } from './openai-format.ts';
import { sendJson } from './upstream-wire.ts';

/** A fake OpenAI API listening on loopback. */
export interface OpenAiFakeServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a fake OpenAI API's handler on an ephemeral loopback port, as each such fake did on its own: a handler that
 * throws answers 500 in OpenAI's error shape, naming the fake, rather than taking the test run down (or drops the
 * socket when its answer had already begun), and close() ends open connections so a suite's afterAll never waits.
 */
export async function serveOpenAiFake(name: string, serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<OpenAiFakeServer> {
  const server = createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, openaiError({ message: `${name}: ${String(err)}`, type: 'server_error' }));
      else res.destroy();
    });
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
