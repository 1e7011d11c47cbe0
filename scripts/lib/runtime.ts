import { dirname } from 'node:path';
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare, type V4WorkerOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { type Build, WORKERS } from './build.ts';

export interface RuntimeOptions {
  build: Build;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Durable Object, Queue and cache state; kept between runs. */
  persistDir: string;
  /** Vars and secrets for both Workers (os.environ values, DATABASE_URL, master key, ...). */
  bindings: Record<string, string>;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'none';
}

export interface Runtime {
  url: string;
  miniflare: Miniflare;
  stop(): Promise<void>;
}

/**
 * Miniflare gives every request a made-up `cf` object and passes a client's own CF-Connecting-IP on:
 * the Workers must not take such a request for one through Cloudflare's edge (worker/auth/client-ip.ts).
 */
const LOCAL = { TOLLGATE_LOCAL_RUNTIME: '1' };

const LEVELS = { debug: LogLevel.DEBUG, info: LogLevel.INFO, warn: LogLevel.WARN, error: LogLevel.ERROR, none: LogLevel.NONE };

/**
 * Both Workers in wrangler's local runtime (Miniflare driving workerd), from
 * the bundles `wrangler deploy --dry-run` produced and the bindings the two
 * wrangler configs declare: no second copy of the bindings is kept here.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const gateway = fromWranglerConfig(WORKERS.gateway);
  const admin = fromWranglerConfig(WORKERS.admin);
  const worker = (options_: Record<string, unknown>) => options_ as unknown as V4WorkerOptions;
  // wrangler still describes Workers in Miniflare 4's shape; Miniflare converts them.
  const miniflare = new Miniflare(convertV4MiniflareOptions({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    resourcePersistencePath: options.persistDir,
    log: new Log(LEVELS[options.logLevel ?? 'info']),
    telemetry: { enabled: false },
    cf: false,
    workers: [
      worker({
        ...gateway,
        name: 'tollgate',
        modules: true,
        scriptPath: options.build.scripts.gateway,
        modulesRoot: dirname(options.build.scripts.gateway),
        bindings: { ...(gateway.bindings as object), ...options.bindings, ...LOCAL },
      }),
      worker({
        ...admin,
        name: 'tollgate-admin',
        modules: true,
        scriptPath: options.build.scripts.admin,
        modulesRoot: dirname(options.build.scripts.admin),
        bindings: { ...(admin.bindings as object), ...options.bindings, ...LOCAL },
      }),
    ],
  }));
  const url = await miniflare.ready;
  return {
    url: url.origin,
    miniflare,
    stop: () => miniflare.dispose(),
  };
}

/** A Worker's bindings as wrangler reads them; the bundle is one module, so no module rules apply. */
function fromWranglerConfig(configPath: string): Record<string, unknown> {
  const { modulesRules: _rules, ...options } = unstable_getMiniflareWorkerOptions(configPath).workerOptions as Record<string, unknown>;
  return options;
}
