/**
 * A fake log intake on loopback for the standard loggers: a generic webhook
 * (`POST /generic...`, a JSON array of StandardLoggingPayloads, answered 200)
 * and Datadog's Logs intake (`POST /api/v2/logs`, gzip-compressed JSON array
 * of logs, `DD-API-KEY` required, answered 202 `{}` as Datadog answers). It can
 * be told to fail the next requests to either with a status, or to answer 400
 * to any request holding an item a test marks as bad (as an intake refusing one
 * malformed log refuses the request it is in); a failure can echo the request's credentials (as a careless
 * destination's error does), after `pad` characters. It can answer slowly, and
 * counts the most requests it ever had in flight at once.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { jsonBody } from './fake-server.ts';

export interface IntakeRequest {
  path: string;
  headers: Record<string, string>;
  /** The body as text (uncompressed). */
  raw: string;
  /** The body's JSON array. */
  items: Record<string, unknown>[];
}

export interface FakeIntake {
  url: string;
  /** Requests that were taken (2xx), per kind. */
  generic: IntakeRequest[];
  datadog: IntakeRequest[];
  /** Requests answered with a failNext() status, or 400 for holding a rejectItems() item, with what they held. */
  refused: { kind: 'generic' | 'datadog'; status: number; items: Record<string, unknown>[] }[];
  /** Requests that were not what the protocol wants (content type, encoding, key, JSON). */
  malformed: string[];
  /** The next `times` requests of `kind` are answered `status`; with `echo`, the answer quotes the request's credentials. */
  failNext(kind: 'generic' | 'datadog', status: number, times?: number, options?: { echo?: boolean; pad?: number }): void;
  /** Answer 400 to every request of `kind` with an item this says is bad (until called with undefined). */
  rejectItems(kind: 'generic' | 'datadog', bad: ((item: Record<string, unknown>) => boolean) | undefined): void;
  /** Answer every request `ms` after its body arrived (0: at once). */
  delay(ms: number): void;
  /** The most requests in flight at once so far (reset by setting it to 0). */
  maxInFlight: number;
  close(): Promise<void>;
}

export async function startFakeIntake(options: { ddApiKey: string }): Promise<FakeIntake> {
  type Kind = 'generic' | 'datadog';
  const intake: Omit<FakeIntake, 'url' | 'close'> & { failing: Partial<Record<Kind, { status: number; times: number; echo?: boolean; pad?: number }>>; bad: Partial<Record<Kind, (item: Record<string, unknown>) => boolean>> } = {
    generic: [], datadog: [], refused: [], malformed: [], failing: {}, bad: {}, maxInFlight: 0,
    delay(ms) {
      delayMs = ms;
    },
    failNext(kind, status, times = 1, options = {}) {
      intake.failing[kind] = { status, times, ...options };
    },
    rejectItems(kind, bad) {
      intake.bad[kind] = bad;
    },
  };
  let delayMs = 0;
  let inFlight = 0;
  const server = createServer((req, res) => {
    inFlight++;
    intake.maxInFlight = Math.max(intake.maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        const send = () => {
          inFlight--;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (delayMs > 0) setTimeout(send, delayMs);
        else send();
      };
      const path = req.url ?? '';
      const kind = path === '/api/v2/logs' ? 'datadog' : path.startsWith('/generic') ? 'generic' : undefined;
      if (req.method !== 'POST' || !kind) return answer(404, { errors: ['not found'] });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = [value].flat().join(', ');
      let raw: string;
      try {
        if (kind === 'datadog') {
          if (headers['dd-api-key'] !== options.ddApiKey) return answer(403, { errors: ['Forbidden'] });
          if (headers['content-encoding'] !== 'gzip') throw new Error('datadog body not gzip');
          raw = gunzipSync(Buffer.concat(chunks)).toString('utf8');
        } else raw = Buffer.concat(chunks).toString('utf8');
        const items = jsonBody(headers, raw, kind) as unknown;
        if (!Array.isArray(items)) throw new Error(`${kind}: body is not a JSON array`);
        const list = items as Record<string, unknown>[];
        const failing = intake.failing[kind];
        if (failing && failing.times > 0) {
          failing.times--;
          intake.refused.push({ kind, status: failing.status, items: list });
          if (!failing.echo) return answer(failing.status, { errors: ['refused by the test'] });
          // The whole authorization value, its token alone, the API key and the query, as a careless error page quotes them.
          const auth = headers.authorization ?? '';
          const echoed = [auth, auth.split(' ').at(-1), headers['dd-api-key'], new URL(path, 'http://x').search].filter(Boolean).join(' ');
          return answer(failing.status, { errors: [`${'.'.repeat(failing.pad ?? 0)}refused by the test: you sent ${echoed}; mind-the-after-text`] });
        }
        const bad = intake.bad[kind];
        if (bad && list.some(bad)) {
          intake.refused.push({ kind, status: 400, items: list });
          return answer(400, { errors: ['a malformed item'] });
        }
        intake[kind].push({ path, headers, raw, items: list });
        return kind === 'datadog' ? answer(202, {}) : answer(200, { status: 'ok' });
      } catch (err) {
        intake.malformed.push(err instanceof Error ? err.message : String(err));
        return answer(400, { errors: ['malformed'] });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(intake, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
