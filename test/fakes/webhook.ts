/**
 * A fake generic alerting webhook (`alerting: ["webhook"]`, WEBHOOK_URL) on
 * loopback: records every JSON body posted to it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeWebhook {
  url: string;
  events: Record<string, unknown>[];
  /** Resolves once `count` events match, or rejects after `timeoutMs`. */
  waitFor(match: (e: Record<string, unknown>) => boolean, count?: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function startFakeWebhook(): Promise<FakeWebhook> {
  const events: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        res.writeHead(200).end('ok');
      } catch {
        res.writeHead(400).end('not json');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    events,
    async waitFor(match, count = 1, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = events.filter(match);
        if (found.length >= count) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`fake webhook: ${events.filter(match).length}/${count} matching events within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
