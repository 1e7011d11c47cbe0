import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findSystemPostgres, type PostgresServer, startEmbeddedPostgres, startSystemPostgres } from '../../scripts/lib/postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the suite's Postgres (a fresh database per test file is made from it). */
    postgresUrl: string;
    postgresKind: 'postgres' | 'pglite';
  }
}

/**
 * One real Postgres for the whole run: Debian's PostgreSQL when installed
 * (CI installs it), else embedded PGlite, said loudly. CI sets
 * TOLLGATE_REQUIRE_POSTGRES=1 so a missing server fails instead.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'));
  const bin = findSystemPostgres();
  let server: PostgresServer;
  if (bin) {
    server = await startSystemPostgres(bin, dir);
    console.log(`[tollgate tests] PostgreSQL from ${bin} on ${server.address}`);
  } else {
    if (process.env.TOLLGATE_REQUIRE_POSTGRES === '1') throw new Error('PostgreSQL is not installed and TOLLGATE_REQUIRE_POSTGRES=1');
    const banner = '!'.repeat(78);
    console.warn(`${banner}\n!! PostgreSQL is not installed: integration tests run against embedded PGlite.\n!! Install postgresql (Debian) to test against a real server.\n${banner}`);
    server = await startEmbeddedPostgres(join(dir, 'pglite'));
  }
  project.provide('postgresUrl', server.url);
  project.provide('postgresKind', server.kind);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
