import { createRequire } from 'node:module';
import { loadTest, type Target } from './measure.ts';

const { WebSocket: WebSocketImpl } = createRequire(import.meta.url)('ws') as { WebSocket: typeof import('ws').WebSocket };

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }

/**
 * Where the gateway's CPU time goes: a V8 CPU profile of the gateway Worker
 * taken through workerd's inspector while it serves load, summarised as self
 * time per function.
 */
export async function profileUnderLoad(workerd: { inspectorUrl?: string }, target: Target, seconds = 8): Promise<string> {
  if (!workerd.inspectorUrl) return 'no inspector: profile skipped';
  const list = await (await fetch(`${workerd.inspectorUrl.replace(/^ws/, 'http')}/json/list`)).json() as { webSocketDebuggerUrl: string; title?: string; id?: string }[];
  const entry = list.find((t) => /tollgate(?!-admin)/.test(`${t.title ?? ''} ${t.id ?? ''} ${t.webSocketDebuggerUrl}`)) ?? list[0];
  if (!entry) return 'inspector lists no targets: profile skipped';
  const ws = new WebSocketImpl(entry.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)?.(msg.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}) => new Promise<unknown>((resolve) => {
    const id = nextId++;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 100 });
  await send('Profiler.start');
  const load = await loadTest(target, 50, seconds);
  const { profile } = await send('Profiler.stop') as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
  ws.close();

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const label = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.split('/').pop()}:${lineNumber + 1}` : '';
    return `${functionName || '(anonymous)'} ${where}`.trim();
  };
  const selfHits = new Map<string, number>();
  const totalHits = new Map<string, number>();
  let total = 0;
  // Inclusive time: a node's hits plus its subtree's, counted once per function on each path.
  const walk = (node: ProfileNode, onPath: Set<string>): number => {
    const name = label(node);
    const hits = node.hitCount ?? 0;
    total += hits;
    selfHits.set(name, (selfHits.get(name) ?? 0) + hits);
    const fresh = !onPath.has(name);
    if (fresh) onPath.add(name);
    let subtree = hits;
    for (const child of node.children ?? []) {
      const c = byId.get(child);
      if (c) subtree += walk(c, onPath);
    }
    if (fresh) {
      onPath.delete(name);
      totalHits.set(name, (totalHits.get(name) ?? 0) + subtree);
    }
    return subtree;
  };
  const root = profile.nodes[0];
  if (root) walk(root, new Set());
  const pct = (hits: number) => `${((hits / Math.max(1, total)) * 100).toFixed(1).padStart(5)}%`;
  const top = (map: Map<string, number>, n: number) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `CPU profile of the gateway Worker: ${load.requests} requests at c=50 for ${seconds} s (${load.rps.toFixed(0)} req/s), ${total} samples.`,
    'self time by function:',
    ...top(selfHits, 25).map(([name, hits]) => `  ${pct(hits)}  ${name}`),
    'total time (self and callees) by function:',
    ...top(totalHits, 30).filter(([name]) => name !== '(root)').map(([name, hits]) => `  ${pct(hits)}  ${name}`),
  ].join('\n');
}
