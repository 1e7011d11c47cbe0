import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startEmbeddedPostgres } from '../../scripts/lib/postgres.ts';
import { exec } from './pg-client.ts';

export interface TestDatabase {
  url: string;
  /** `127.0.0.1:PORT` */
  address: string;
  drop(): Promise<void>;
}

/**
 * A new, empty database, so test files never see each other's rows: a new
 * database on the suite's PostgreSQL, or a new in-memory PGlite where no
 * PostgreSQL is installed.
 */
export async function freshDatabase(): Promise<TestDatabase> {
  const admin = inject('postgresUrl');
  if (inject('postgresKind') === 'pglite') {
    const server = await startEmbeddedPostgres('memory://');
    return { url: server.url, address: server.address, drop: server.stop };
  }
  const name = `t_${randomBytes(6).toString('hex')}`;
  await exec(admin, `CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    address: url.host,
    drop: () => exec(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
