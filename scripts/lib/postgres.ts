import { execFile as execFileCb, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

const execFile = promisify(execFileCb);

export interface PostgresServer {
  kind: 'postgres' | 'pglite';
  /** `postgres://...@127.0.0.1:PORT/postgres` */
  url: string;
  /** `127.0.0.1:PORT`, for the WebSocket proxy's allow-list. */
  address: string;
  stop(): Promise<void>;
}

/**
 * The embedded default: PGlite (Postgres compiled to WebAssembly) served over
 * the Postgres wire protocol, so the same Neon driver path reaches it.
 * `dataDir` keeps the database between runs; `memory://` keeps nothing.
 */
export async function startEmbeddedPostgres(dataDir: string, port?: number): Promise<PostgresServer> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const listenPort = port ?? (await freePort());
  // maxConnections turns on the multiplexer: several Worker requests, each with its own pool.
  const server = new PGLiteSocketServer({ db, port: listenPort, host: '127.0.0.1', maxConnections: 32 });
  await server.start();
  return {
    kind: 'pglite',
    url: `postgres://postgres:postgres@127.0.0.1:${listenPort}/postgres`,
    address: `127.0.0.1:${listenPort}`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

/** The bin directory of an installed PostgreSQL (Debian's layout), newest first. */
export function findSystemPostgres(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/**
 * A throwaway PostgreSQL server in `dir` on a free port. As root it runs as
 * the `postgres` user (Postgres refuses to run as root), so `dir`'s parents
 * must be traversable by that user (a fresh `mkdtemp` in /tmp is).
 */
export async function startSystemPostgres(binDir: string, dir: string, port?: number): Promise<PostgresServer> {
  const asRoot = process.getuid?.() === 0;
  mkdirSync(dir, { recursive: true });
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]) =>
    asRoot ? execFile('runuser', ['-u', 'postgres', '--', join(binDir, cmd), ...args]) : execFile(join(binDir, cmd), args);
  const data = join(dir, 'data');
  if (!existsSync(join(data, 'PG_VERSION'))) {
    await run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  }
  const listenPort = port ?? (await freePort());
  await run('pg_ctl', [
    '-D', data, '-l', join(dir, 'log'), '-w', '-t', '60',
    '-o', `-p ${listenPort} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start',
  ]);
  return {
    kind: 'postgres',
    url: `postgres://postgres@127.0.0.1:${listenPort}/postgres`,
    address: `127.0.0.1:${listenPort}`,
    stop: async () => {
      await run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
    },
  };
}
