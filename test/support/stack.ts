import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Stack, startStack } from '../../scripts/lib/stack.ts';
import { freshDatabase, type TestDatabase } from './database.ts';

export const TEST_MASTER_KEY = 'sk-test-master-0123456789';

export interface TestStack extends Stack {
  db: TestDatabase;
  dataDir: string;
}

/**
 * The real local stack (both Workers in workerd, a fresh database on the
 * suite's Postgres) for one test file, from a config.yaml given as text.
 */
export async function startTestStack(options: { configYaml: string; env?: Record<string, string>; runtimeOnlyEnv?: Record<string, string> }): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-stack-'));
  const configFile = join(dataDir, 'config.yaml');
  writeFileSync(configFile, options.configYaml);
  const db = await freshDatabase();
  try {
    const stack = await startStack({
      configFile,
      dataDir,
      port: 0,
      databaseUrl: db.url,
      env: { LITELLM_MASTER_KEY: TEST_MASTER_KEY, ...options.env },
      runtimeOnlyEnv: { TOLLGATE_TEST_MODE: '1', ...options.runtimeOnlyEnv },
      logLevel: process.env.TOLLGATE_TEST_LOG === '1' ? 'info' : 'error',
    });
    return {
      ...stack,
      db,
      dataDir,
      stop: async () => {
        await stack.stop();
        await db.drop().catch(() => undefined);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await db.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
