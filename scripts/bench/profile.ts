import { createRequire } from 'node:module';
import { loadTest, type Target } from './measure.ts';

const { WebSocket: WebSocketImpl } = createRequire(import.meta.url)('ws') as { WebSocket: typeof import('ws').WebSocket };

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Samples that are not this isolate running JavaScript (or collecting its garbage). */
const NOT_BUSY = new Set(['(idle)', '(program)', '(root)']);
const SAMPLE_US = 100;

/**
 * Where the gateway's CPU time goes: V8 CPU profiles of every isolate in the
 * workerd process (gateway, admin Worker, the bundled Queues and cron Workers),
 * taken through workerd's inspector at once while the gateway serves load.
 * workerd runs them all on one thread, so each isolate's busy share is its
 * part of the process's CPU. Then the gateway's own time by function.
 */
export async function profileUnderLoad(workerd: { inspectorUrl?: string }, target: Target, seconds = 8): Promise<string> {
  if (!workerd.inspectorUrl) return 'no inspector: profile skipped';
  const list = await (await fetch(`${workerd.inspectorUrl.replace(/^ws/, 'http')}/json/list`)).json() as { webSocketDebuggerUrl: string; title?: string; id?: string }[];
  if (!list.length) return 'inspector lists no targets: profile skipped';
  const sessions = await Promise.all(list.map(async (t) => ({ name: t.title ?? t.id ?? t.webSocketDebuggerUrl, session: await inspect(t.webSocketDebuggerUrl) })));
  for (const { session } of sessions) {
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval: SAMPLE_US });
  }
  for (const { session } of sessions) await session.send('Profiler.start');
  const load = await loadTest(target, 50, seconds);
  const profiles = await Promise.all(sessions.map(async ({ name, session }) => {
    const { profile } = await session.send('Profiler.stop') as { profile: CpuProfile };
    session.close();
    return { name, ...summarise(profile) };
  }));
  const gateway = profiles.find((p) => /tollgate(?!-admin)/.test(p.name)) ?? profiles[0];
  const ms = (us: number) => `${(us / 1000 / Math.max(1, load.requests)).toFixed(3)} ms`;
  const pct = (part: number, whole: number) => `${((part / Math.max(1, whole)) * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `CPU profiles of the workerd process: ${load.requests} requests at c=50 for ${seconds} s (${load.rps.toFixed(0)} req/s).`,
    'busy time per request by isolate (JavaScript and its garbage collection; the rest is workerd itself and idle):',
    ...profiles.sort((a, b) => b.busyUs - a.busyUs).map((p) => `  ${ms(p.busyUs).padStart(9)}  ${p.name}  (GC ${ms(p.gcUs)}; in workerd's native code for it ${ms(p.selfUs.get('(program)') ?? 0)})`),
  ];
  const top = (map: Map<string, number>, n: number) => [...map.entries()].filter(([name]) => !NOT_BUSY.has(name)).sort((a, b) => b[1] - a[1]).slice(0, n);
  for (const p of profiles) {
    if (p === gateway || p.busyUs === 0) continue;
    lines.push(`${p.name}: self time by function (share of its busy time):`, ...top(p.selfUs, 10).map(([name, us]) => `  ${pct(us, p.busyUs)}  ${name}`));
  }
  if (gateway) {
    lines.push(
      `${gateway.name}: self time by function (share of its busy time):`,
      ...top(gateway.selfUs, 25).map(([name, us]) => `  ${pct(us, gateway.busyUs)}  ${name}`),
      `${gateway.name}: total time (self and callees) by function:`,
      ...top(gateway.totalUs, 30).map(([name, us]) => `  ${pct(us, gateway.busyUs)}  ${name}`),
    );
  }
  return lines.join('\n');
}

async function inspect(url: string) {
  const ws = new WebSocketImpl(url);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)?.(msg.result);
  });
  return {
    send: (method: string, params: Record<string, unknown> = {}) => new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    }),
    close: () => ws.close(),
  };
}

/** Self and inclusive time (µs) per function, from the sample timeline. */
function summarise(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const label = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.split('/').pop()}:${lineNumber + 1}` : '';
    return `${functionName || '(anonymous)'} ${where}`.trim();
  };
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<string, number>();
  const totalUs = new Map<string, number>();
  let busyUs = 0;
  let gcUs = 0;
  profile.samples.forEach((id) => {
    // One sample per interval while this isolate is the one running; the gaps between
    // samples hold the other isolates' turns, so each sample counts as one interval.
    const us = SAMPLE_US;
    const node = byId.get(id);
    if (!node) return;
    const name = label(node);
    selfUs.set(name, (selfUs.get(name) ?? 0) + us);
    if (NOT_BUSY.has(name)) return;
    busyUs += us;
    if (name === '(garbage collector)') gcUs += us;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at);
      if (!n) break;
      const l = label(n);
      if (seen.has(l)) continue;
      seen.add(l);
      totalUs.set(l, (totalUs.get(l) ?? 0) + us);
    }
  });
  return { selfUs, totalUs, busyUs, gcUs };
}
