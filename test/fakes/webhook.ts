/**
 * A fake generic alerting webhook (`alerting: ["webhook"]`, WEBHOOK_URL) on
 * loopback: records every JSON body posted to it.
 */
import { serveBodies, waitForMatches } from './fake-server.ts';

export interface FakeWebhook {
  url: string;
  events: Record<string, unknown>[];
  /** Resolves once `count` events match, or rejects after `timeoutMs`. */
  waitFor(match: (e: Record<string, unknown>) => boolean, count?: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function startFakeWebhook(): Promise<FakeWebhook> {
  const events: Record<string, unknown>[] = [];
  const server = await serveBodies('fake webhook', (_req, res, body) => {
    try {
      events.push(JSON.parse(body.toString('utf8')) as Record<string, unknown>);
      res.writeHead(200).end('ok');
    } catch {
      res.writeHead(400).end('not json');
    }
  });
  return {
    url: `${server.url}/alerts`,
    events,
    waitFor: (match, count = 1, timeoutMs = 15_000) => waitForMatches('fake webhook', events, match, count, timeoutMs),
    close: server.close,
  };
}
