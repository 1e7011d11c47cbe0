/**
 * A fake Opik API (`POST /v1/private/traces/batch` `{traces}`, `/v1/private/spans/batch` `{spans}`, 204 on
 * success, `authorization: <key>` and `Comet-Workspace` checked) and a fake Sentry envelope intake
 * (`POST /api/<project>/envelope/`, X-Sentry-Auth's sentry_key checked, the envelope's header / item header / event
 * lines parsed), on loopback. Each can be told to fail its next requests (`failNext`), or refuse with 400 the
 * requests holding a marker text (`refuseHolding`), either only on Opik's spans requests (`only: 'spans'`, so traces are
 * taken and the spans half fails), echoing the credential it was sent so a test sees it scrubbed.
 */
import { type FakeServer, serveBodies } from './fake-server.ts';

type Json = Record<string, any>;
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

interface Failing { status: number; left: number; echo?: boolean; only?: 'spans' }

export interface FakeOpik extends FakeServer {
  traces: Json[];
  spans: Json[];
  requests: { path: string; headers: Record<string, string> }[];
  refused: number[];
  failNext(status: number, times: number, options?: { echo?: boolean; only?: 'spans' }): void;
  refuseHolding(marker: string | undefined, options?: { only?: 'spans' }): void;
}

/** Answers what `failNext` / `refuseHolding` say, else undefined (then the request is taken). */
function failure(failing: Failing | undefined, marker: string | undefined, text: string, credential: string): { status: number; body: string } | undefined {
  if (marker && text.includes(marker)) return { status: 400, body: JSON.stringify({ errors: ['refused by the test: bad payload'] }) };
  if (failing && failing.left > 0) {
    failing.left--;
    return { status: failing.status, body: JSON.stringify({ errors: [`refused by the test${failing.echo ? `: ${credential}` : ''}`] }) };
  }
  return undefined;
}

export async function startFakeOpik(options: { apiKey: string; workspace: string }): Promise<FakeOpik> {
  let failing: Failing | undefined;
  let marker: string | undefined;
  let markerOnly: 'spans' | undefined;
  const fake = {
    traces: [] as Json[], spans: [] as Json[], requests: [] as FakeOpik['requests'], refused: [] as number[],
    failNext: (status: number, times: number, o?: { echo?: boolean; only?: 'spans' }) => void (failing = { status, left: times, echo: o?.echo, only: o?.only }),
    refuseHolding: (m: string | undefined, o?: { only?: 'spans' }) => void ((marker = m), (markerOnly = o?.only)),
  };
  const server = await serveBodies('fake opik', (req, res, body, headers) => {
    const path = req.url ?? '';
    fake.requests.push({ path, headers });
    if (req.method !== 'POST' || !/^\/opik\/api\/v1\/private\/(traces|spans)\/batch$/.test(path)) return res.writeHead(404).end();
    if (headers.authorization !== options.apiKey || headers['comet-workspace'] !== options.workspace) return res.writeHead(401).end('{"errors":["bad key"]}');
    const text = body.toString('utf8');
    const spans = path.includes('/spans/');
    const fail = failure(failing?.only && !spans ? undefined : failing, markerOnly && !spans ? undefined : marker, text, headers.authorization ?? '');
    if (fail) {
      fake.refused.push(fail.status);
      return res.writeHead(fail.status, { 'content-type': 'application/json' }).end(fail.body);
    }
    const parsed = JSON.parse(text) as Json;
    // As Opik: any id that is not a UUIDv7 gets the whole batch refused.
    const rows = ((parsed.traces ?? parsed.spans ?? []) as Json[]);
    const ids = rows.flatMap((r) => [r.id, r.trace_id, r.parent_span_id].filter((v) => v !== undefined));
    if (ids.some((id) => typeof id !== 'string' || !UUID7.test(id))) {
      fake.refused.push(400);
      return res.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":["id must be a UUID v7"]}');
    }
    if (path.includes('/traces/')) fake.traces.push(...(parsed.traces as Json[]));
    else fake.spans.push(...(parsed.spans as Json[]));
    res.writeHead(204).end();
  });
  return Object.assign(fake, server);
}

export interface SentryEnvelope { headers: Record<string, string>; header: Json; item: Json; event: Json }

export interface FakeSentry extends FakeServer {
  /** The DSN that points at this fake. */
  dsn: string;
  envelopes: SentryEnvelope[];
  refused: number[];
  failNext(status: number, times: number, options?: { echo?: boolean }): void;
  refuseHolding(marker: string | undefined): void;
}

export async function startFakeSentry(options: { publicKey: string; projectId: string }): Promise<FakeSentry> {
  let failing: Failing | undefined;
  let marker: string | undefined;
  const fake = {
    envelopes: [] as SentryEnvelope[], refused: [] as number[],
    failNext: (status: number, times: number, o?: { echo?: boolean }) => void (failing = { status, left: times, echo: o?.echo }),
    refuseHolding: (m: string | undefined) => void (marker = m),
  };
  const server = await serveBodies('fake sentry', (req, res, body, headers) => {
    if (req.method !== 'POST' || req.url !== `/api/${options.projectId}/envelope/`) return res.writeHead(404).end();
    const auth = headers['x-sentry-auth'] ?? '';
    if (!auth.startsWith('Sentry ') || !auth.includes('sentry_version=7') || !auth.includes(`sentry_key=${options.publicKey}`)) return res.writeHead(401).end('{"detail":"bad auth"}');
    const text = body.toString('utf8');
    const fail = failure(failing, marker, text, options.publicKey);
    if (fail) {
      fake.refused.push(fail.status);
      return res.writeHead(fail.status, { 'content-type': 'application/json' }).end(fail.body);
    }
    const [header, item, event] = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json);
    fake.envelopes.push({ headers, header: header!, item: item!, event: event! });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: header!.event_id }));
  });
  const { port } = new URL(server.url);
  return Object.assign(fake, server, { dsn: `http://${options.publicKey}@127.0.0.1:${port}/${options.projectId}` });
}
