import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FakeServer, serveFake } from './fake-server.ts';
import { openaiError } from './openai-format.ts';
import { sendJson } from './upstream-wire.ts';

/** A fake OpenAI API listening on loopback. */
export type OpenAiFakeServer = FakeServer;

/**
 * Serves a fake OpenAI API's handler on an ephemeral loopback port (fake-server.ts), as each such fake did on its
 * own: a handler that throws answers 500 in OpenAI's error shape, naming the fake, rather than taking the test run
 * down (or drops the socket when its answer had already begun), and close() ends open connections so a suite's
 * afterAll never waits.
 */
export function serveOpenAiFake(name: string, serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<OpenAiFakeServer> {
  return serveFake(serve, (res, err) => sendJson(res, 500, openaiError({ message: `${name}: ${String(err)}`, type: 'server_error' })));
}
