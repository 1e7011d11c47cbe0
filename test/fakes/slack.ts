/**
 * A fake Slack incoming webhook on loopback: records every message posted
 * (`{"text": "..."}`), and can be told to fail the next N posts (with a
 * status) to exercise the sender's retries.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackMessage {
  text: string;
  receivedAt: number;
}

export interface FakeSlack {
  /** The webhook URL, e.g. http://127.0.0.1:PORT/services/T000/B000/XXXX. */
  url: string;
  /** Messages accepted (2xx), in arrival order. */
  messages: SlackMessage[];
  /** Every POST, failed ones included. */
  attempts: number;
  /** The next `count` posts get `status` (default 500) and are not recorded as messages. */
  failNext(count: number, status?: number): void;
  /** Messages whose text matches. */
  matching(pattern: RegExp): SlackMessage[];
  /** Resolves once `count` messages match `pattern`, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, count?: number, timeoutMs?: number): Promise<SlackMessage[]>;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const messages: SlackMessage[] = [];
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  const state = { attempts: 0 };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.attempts++;
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      if (failures.count > 0) {
        failures.count--;
        res.writeHead(failures.status, { 'content-type': 'text/plain' }).end('fake slack failure');
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
        return;
      }
      const text = (body as { text?: unknown } | null)?.text;
      if (typeof text !== 'string' || !text) {
        // Slack answers a payload without text this way.
        res.writeHead(400, { 'content-type': 'text/plain' }).end('no_text');
        return;
      }
      messages.push({ text, receivedAt: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const matching = (pattern: RegExp) => messages.filter((m) => pattern.test(m.text));
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/fake`,
    messages,
    get attempts() {
      return state.attempts;
    },
    failNext(count, status = 500) {
      failures = { count, status };
    },
    matching,
    async waitFor(pattern, count = 1, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = matching(pattern);
        if (found.length >= count) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`fake slack: ${matching(pattern).length}/${count} messages matching ${pattern} within ${timeoutMs} ms; got: ${JSON.stringify(messages.map((m) => m.text.split('\n')[0]))}`);
    },
    reset() {
      messages.length = 0;
      failures = { count: 0, status: 500 };
      state.attempts = 0;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
