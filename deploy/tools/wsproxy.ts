/**
 * `node deploy/tools/wsproxy.ts [--host 127.0.0.1] [--port 5488] [--allow HOST:PORT]...`: the
 * WebSocket-to-TCP proxy of scripts/lib/wsproxy.ts as a process of its own, the pod's `wsproxy`
 * sidecar. The Neon driver in both Workers reaches a plain Postgres through it
 * (`DATABASE_WSPROXY=ws://127.0.0.1:5488/v1`).
 *
 * It relays only to the addresses it allows: without `--allow`, the host and port of
 * DATABASE_URL, so it is never an open relay even where the pod network could reach it.
 * Env fallbacks: WSPROXY_HOST, WSPROXY_PORT, WSPROXY_ALLOW (comma-separated), DATABASE_URL.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startWsProxy } from '../../scripts/lib/wsproxy.ts';

export const WSPROXY_USAGE = `Usage: node deploy/tools/wsproxy.ts [--host 127.0.0.1] [--port 5488] [--allow HOST:PORT]...
Env fallbacks: WSPROXY_HOST, WSPROXY_PORT, WSPROXY_ALLOW (comma-separated), DATABASE_URL (its host:port is allowed)`;

export interface WsProxyCliOptions {
  host: string;
  port: number;
  allow: string[];
}

/** The proxy's settings from argv and the environment; throws a message for the user on a bad one. */
export function wsProxyCliOptions(argv: string[], env: Record<string, string | undefined>): WsProxyCliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string', short: 'p' },
      allow: { type: 'string', multiple: true },
    },
  });
  const host = values.host ?? env.WSPROXY_HOST ?? '127.0.0.1';
  const rawPort = values.port ?? env.WSPROXY_PORT ?? '5488';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) throw new Error(`Bad port: ${rawPort}`);
  let allow = values.allow ?? (env.WSPROXY_ALLOW ? env.WSPROXY_ALLOW.split(',').map((a) => a.trim()).filter(Boolean) : []);
  if (!allow.length && env.DATABASE_URL) allow = [postgresAddress(env.DATABASE_URL)];
  if (!allow.length) throw new Error('Nothing to relay to: give --allow HOST:PORT or set DATABASE_URL.');
  for (const a of allow) {
    if (!/^[^\s/?#]+:\d{1,5}$/.test(a)) throw new Error(`Bad --allow address (HOST:PORT): ${a}`);
  }
  return { host, port, allow };
}

/** `host:port` of a Postgres URL (port 5432 when absent), as scripts/lib/migrate.ts allows it. */
export function postgresAddress(databaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error('DATABASE_URL is not a URL (postgres://user:password@host:5432/db)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error(`DATABASE_URL is not a postgres:// URL (${url.protocol})`);
  return `${url.hostname}:${url.port || '5432'}`;
}

async function main(): Promise<void> {
  let options: WsProxyCliOptions;
  try {
    options = wsProxyCliOptions(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : err}\n${WSPROXY_USAGE}`);
    process.exit(2);
  }
  const proxy = await startWsProxy(options).catch((err: unknown) => {
    console.error(`Could not start the WebSocket proxy: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
  // Never the credentials: only where it listens and where it may relay to.
  console.log(`WebSocket proxy on ws://${options.host}:${new URL(proxy.url).port}/v1 -> ${options.allow.join(', ')}`);
  const shutdown = () => void proxy.close().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
