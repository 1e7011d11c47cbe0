import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.ts';

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Stops the server (SIGTERM, nothing saved). Safe to call twice. */
  stop(): Promise<void>;
  /** Stops it if running, then starts it again, empty, on the same port. */
  restart(): Promise<void>;
}

/** The `redis-server` binary on PATH (Debian's package puts it in /usr/bin), or undefined. */
export function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Sends an inline PING and resolves true on `+PONG`. */
export function pingRedis(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Nothing outlives the process that started it, even when it dies without cleaning up. */
function killOnExit(child: ChildProcess) {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

/**
 * A throwaway redis-server in `dir` on a free port (or `port`): bound to
 * 127.0.0.1, no persistence, running as the current user (root is fine).
 * Resolves once it answers PING.
 */
export async function startRedisServer(dir: string, options: { port?: number; bin?: string; timeoutMs?: number } = {}): Promise<RedisServer> {
  const bin = options.bin ?? findRedisServer();
  if (!bin) throw new Error('redis-server is not installed (apt-get install redis-server)');
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const logfile = join(dir, 'redis.log');
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(bin, [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--logfile', logfile, '--daemonize', 'no',
    ], { stdio: 'ignore' });
    child = proc;
    killOnExit(proc);
    let exited: string | undefined;
    proc.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
    proc.once('error', (err) => (exited = err.message));
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    while (!exited && Date.now() < deadline) {
      if (await pingRedis(port)) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    proc.kill('SIGKILL');
    let log = '';
    try {
      log = readFileSync(logfile, 'utf8').split('\n').slice(-5).join('\n');
    } catch {
      // no log yet
    }
    throw new Error(`redis-server on port ${port} ${exited ?? 'did not answer PING in time'}\n${log}`);
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
  };
}
