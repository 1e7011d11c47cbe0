import { createServer } from 'node:http';
import { telemetryDrained } from './gateway-state.ts';
import { cpuMs, loadTest, type Target } from './measure.ts';

/**
 * Where the gateway's throughput goes, layer by layer, measured side by side
 * in one phase of the benchmark: c=50 load alternating between the paths in
 * short rounds (as bench:ab does), so a slow spell of the host falls on all.
 *
 *   floor                the pass-through Worker
 *   least gateway        the least any usage-counting gateway must add to it
 *                        (least-gateway-worker.js: parse, re-serialise, parse the answer, LiteLLM's headers)
 *   queue elsewhere      Tollgate with its Queue messages leaving the process
 *                        (as on Cloudflare, where the Queue and its consumers run
 *                        elsewhere): the producer still builds, compresses and sends
 *                        every message; a sink on loopback takes them
 *   gateway              Tollgate as deployed in-region: the Queue and its
 *                        consumers (Postgres, Langfuse) share the gateway's thread
 */
export interface BreakdownPath {
  name: string;
  target: Target;
  pid: number;
}

export interface BreakdownResult {
  name: string;
  rps: number;
  cpuPerRequestMs: number;
}

/**
 * Rounds of `seconds` at c=50 per path, alternating order; CPU a request counted until the telemetry
 * is written. Each round starts once the last one's telemetry is written, unless `drainEachRound` is
 * false (bench:ab, whose two gateways both write telemetry and are judged on the total). Errors under
 * load throw: a run that served errors measured something else.
 */
export async function throughputBreakdown(paths: BreakdownPath[], dbUrl: string, rounds = 4, seconds = 3, drainEachRound = true): Promise<BreakdownResult[]> {
  for (const p of paths) await loadTest(p.target, 50, 2);
  await telemetryDrained(dbUrl);
  const totals = paths.map((p) => ({ ...p, requests: 0, seconds: 0, cpuStart: cpuMs(p.pid) }));
  for (let i = 0; i < rounds; i++) {
    for (const t of i % 2 === 0 ? totals : [...totals].reverse()) {
      const result = await loadTest(t.target, 50, seconds);
      if (result.errors || result.non2xx) throw new Error(`${t.name}: ${result.errors} errors, ${result.non2xx} non-2xx under load`);
      t.requests += result.requests;
      t.seconds += seconds;
      // The in-region gateway writes its telemetry after its round: let it finish before the next path's
      // round, so that work neither slows the next path nor escapes this one's clock.
      if (drainEachRound) await telemetryDrained(dbUrl);
    }
  }
  await telemetryDrained(dbUrl);
  return totals.map((t) => ({ name: t.name, rps: t.requests / t.seconds, cpuPerRequestMs: (cpuMs(t.pid) - t.cpuStart) / t.requests }));
}

/** The Markdown table of a breakdown: each path's throughput as a share of the floor's, and CPU a request. */
export function renderBreakdown(results: BreakdownResult[]): string {
  const floor = results[0];
  return [
    '| path (c=50, alternating rounds) | req/s | share of floor | CPU per request (ms) |',
    '|---|---:|---:|---:|',
    ...results.map((r) => `| ${r.name} | ${r.rps.toFixed(0)} | ${floor ? `${((r.rps / floor.rps) * 100).toFixed(0)}%` : '–'} | ${r.cpuPerRequestMs.toFixed(3)} |`),
  ].join('\n');
}

/**
 * A stand-in for a Queue that lives outside the gateway's process: it speaks
 * the protocol of workerd's `queue` binding (POST /message, POST /batch), takes
 * every message and keeps none. Counts messages and bytes.
 */
export async function startQueueSink(): Promise<{ url: string; address: string; messages: () => number; close(): Promise<void> }> {
  let messages = 0;
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      if (req.method !== 'POST' || (req.url !== '/message' && req.url !== '/batch')) {
        res.writeHead(404).end();
        return;
      }
      messages++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  const address = `127.0.0.1:${a && typeof a === 'object' ? a.port : 0}`;
  return {
    url: `http://${address}`,
    address,
    messages: () => messages,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The gateway's generated workerd config with its producer Queues (spend logs, callbacks) pointing at an external service. */
export function queuesElsewhere(capnp: string, sinkAddress: string): string {
  let out = capnp;
  for (const queue of ['tollgate-spend-logs', 'tollgate-callbacks']) {
    const binding = `queue = (name = "queues", props = (json = "{\\"queue\\":\\"${queue}\\"}"))`;
    const at = out.indexOf(binding);
    // The first such binding is the gateway's (the admin Worker's DLQ producer comes later and stays local).
    if (at < 0) throw new Error(`the generated config has no producer binding for ${queue}: the breakdown needs updating`);
    out = out.slice(0, at) + 'queue = "queue-elsewhere"' + out.slice(at + binding.length);
  }
  return out.replace('services = [', `services = [(name = "queue-elsewhere", external = (address = "${sinkAddress}", http = ())), `);
}
