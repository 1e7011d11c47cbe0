import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { WORKERD_SERVICES, WORKERD_SOCKETS } from './workerd-config.ts';

/**
 * The workerd binary of the `workerd` npm package (the platform package it
 * resolves, e.g. @cloudflare/workerd-linux-64). Loaded with require because
 * the package ships no types.
 */
export const WORKERD_BIN: string = (createRequire(import.meta.url)('workerd') as { default: string }).default;

export interface WorkerdOptions {
  /** A config from generateWorkerdConfig(). */
  configFile: string;
  /**
   * The whole environment workerd sees; the `fromEnvironment` bindings read it.
   * Nothing of this process's environment is passed on unless it is spread in here.
   */
  env: Record<string, string | undefined>;
  /** Port of the gateway socket (`http`) on `host`; 0 or absent lets workerd pick one (reported back). */
  port?: number;
  host?: string;
  /** Durable Object and queue state: `<storageDir>/do` and `<storageDir>/queues`, created if missing. */
  storageDir: string;
  /** Chrome DevTools inspector on 127.0.0.1:inspectorPort. */
  inspectorPort?: number;
  /** More `--socket-addr NAME=ADDR` overrides, e.g. `{ admin: '127.0.0.1:0' }` for a config with an admin socket. */
  sockets?: Record<string, string>;
  /** `--import-path` dirs; `['/']` lets a hand-written config `embed` absolute paths, which capnp otherwise refuses. */
  importPaths?: string[];
  /** How long to wait for `/health/liveliness` (default 30 s). */
  readyTimeoutMs?: number;
  /** Also copy workerd's output to this process's stderr (for debugging tests). */
  echo?: boolean;
}

/** How workerd ended. */
export interface WorkerdExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerdProcess {
  /** `http://HOST:PORT` of the gateway. */
  url: string;
  pid: number;
  /** The port each socket listens on, as workerd reported it. */
  ports: Record<string, number>;
  /** `ws://127.0.0.1:PORT` of the DevTools inspector, when `inspectorPort` was given. */
  inspectorUrl?: string;
  /** Milliseconds from spawn to the first answer of `/health/liveliness`. */
  startupMs: number;
  /** The last 256 KB of workerd's stdout and stderr (Workers' console output, errors). */
  output(): string;
  /** Resolves when workerd exits, however it does. */
  exited: Promise<WorkerdExit>;
  /** SIGTERM, then SIGKILL if it has not exited after 10 s; resolves with how it exited. */
  stop(): Promise<WorkerdExit>;
  kill(signal: NodeJS.Signals): void;
}

const OUTPUT_LIMIT = 256 * 1024;
const STOP_GRACE_MS = 10_000;

/**
 * Runs a generated config in standalone workerd, as a container in-region
 * would (`workerd serve CONFIG --experimental`), with the storage directories
 * and socket overridden on the command line. Resolves once the gateway answers
 * `/health/liveliness`; rejects with workerd's output if it exits or stays silent.
 */
export async function startWorkerd(options: WorkerdOptions): Promise<WorkerdProcess> {
  const storageDir = resolve(options.storageDir);
  const doDir = join(storageDir, 'do');
  const queueDir = join(storageDir, 'queues');
  // workerd refuses to start when a disk service's directory is missing.
  mkdirSync(doDir, { recursive: true });
  mkdirSync(queueDir, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  const sockets = { [WORKERD_SOCKETS.gateway]: `${host}:${options.port ?? 0}`, ...options.sockets };
  const args = [
    'serve', resolve(options.configFile), '--experimental',
    ...Object.entries(sockets).flatMap(([name, addr]) => ['--socket-addr', `${name}=${addr}`]),
    '--directory-path', `${WORKERD_SERVICES.doStorage}=${doDir}`,
    '--directory-path', `${WORKERD_SERVICES.queueStorage}=${queueDir}`,
    // fd 3 carries one JSON line per socket once it listens: how a port 0 becomes known without racing.
    '--control-fd', '3',
  ];
  for (const dir of options.importPaths ?? []) args.push('--import-path', dir);
  if (options.inspectorPort !== undefined) args.push('--inspector-addr', `127.0.0.1:${options.inspectorPort}`);
  const env = Object.fromEntries(Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined));

  const started = Date.now();
  const child = spawn(WORKERD_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    if (options.echo) process.stderr.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<WorkerdExit>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
  // A test runner or script that dies must not leave workerd holding the port and the storage.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  const ports: Record<string, number> = {};
  const listening = watchControl(child, ports, Object.keys(sockets));
  try {
    const deadline = started + (options.readyTimeoutMs ?? 30_000);
    await race(listening, exited, deadline, () => output);
    const url = `http://${host === '*' || host === '0.0.0.0' ? '127.0.0.1' : host}:${ports[WORKERD_SOCKETS.gateway]}`;
    await race(waitForLiveliness(`${url}/health/liveliness`, deadline, () => child.exitCode !== null || child.signalCode !== null), exited, deadline, () => output);
    const startupMs = Date.now() - started;
    let stopping: Promise<WorkerdExit> | undefined;
    return {
      url,
      pid: child.pid ?? -1,
      ports,
      inspectorUrl: options.inspectorPort === undefined ? undefined : `ws://127.0.0.1:${options.inspectorPort}`,
      startupMs,
      output: () => output,
      exited,
      kill: (signal) => void child.kill(signal),
      stop: () => (stopping ??= stopProcess(child, exited)),
    };
  } catch (err) {
    await stopProcess(child, exited);
    throw err;
  }
}

async function stopProcess(child: ChildProcess, exited: Promise<WorkerdExit>): Promise<WorkerdExit> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once every socket in `names` has reported its port on the control fd. */
function watchControl(child: ChildProcess, ports: Record<string, number>, names: string[]): Promise<void> {
  const control = child.stdio[3] as Readable | null;
  return new Promise((resolveListening) => {
    let buffered = '';
    control?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const event = JSON.parse(line) as { event?: string; socket?: string; port?: number };
          if (event.event === 'listen' && event.socket && typeof event.port === 'number') ports[event.socket] = event.port;
        } catch {
          // not a control message we understand
        }
        if (names.every((n) => ports[n] !== undefined)) resolveListening();
      }
    });
  });
}

async function waitForLiveliness(url: string, deadline: number, gone: () => boolean): Promise<void> {
  while (!gone()) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('workerd exited');
}

/** `work`, unless workerd exits or the deadline passes first; either way the error carries its output. */
async function race(work: Promise<void>, exited: Promise<WorkerdExit>, deadline: number, output: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const fail = (why: string) => new Error(`workerd ${why}:\n${output().trim() || '(no output)'}`);
  try {
    await Promise.race([
      work.catch((err: unknown) => { throw fail(err instanceof Error ? err.message : String(err)); }),
      exited.then((e) => { throw fail(`exited (code ${e.code}, signal ${e.signal}) before it was ready`); }),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(fail('did not become ready in time')), Math.max(0, deadline - Date.now())); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
