import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateDatabase } from '../lib/migrate.ts';
import { findSystemPostgres, startEmbeddedPostgres, startSystemPostgres } from '../lib/postgres.ts';
import { startWsProxy } from '../lib/wsproxy.ts';
import { seedBenchKey } from './gateway-state.ts';
import { startBenchUpstream, startLangfuseSink } from './upstream.ts';

export const MASTER_KEY = 'sk-bench-master-key-000000000000';
export const VIRTUAL_KEY = 'sk-bench-virtual-key-00000000000';

/**
 * What every benchmark runs the gateway against, on loopback: the fake
 * upstream, a real Postgres (migrated, with the bench's virtual key) behind
 * the WebSocket proxy, a Langfuse sink answering as Langfuse does (207), and
 * the config.yaml naming them (`langfuse: false` leaves the callbacks off).
 * Each piece's stop goes onto `cleanups`.
 */
export async function startBenchStack(work: string, cleanups: (() => Promise<unknown>)[], options: { langfuse: boolean }) {
  const upstream = await startBenchUpstream();
  cleanups.push(upstream.close);
  const bin = findSystemPostgres();
  // Postgres must be able to reach its directory: not inside this process's private temp dir.
  const pgDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-pg-'));
  cleanups.push(async () => rmSync(pgDir, { recursive: true, force: true }));
  const db = bin ? await startSystemPostgres(bin, pgDir) : await startEmbeddedPostgres(join(work, 'pglite'));
  cleanups.push(db.stop);
  await migrateDatabase(db.url);
  const proxy = await startWsProxy({ allow: [db.address] });
  cleanups.push(proxy.close);
  await seedBenchKey(db.url, VIRTUAL_KEY);
  const langfuse = await startLangfuseSink();
  cleanups.push(langfuse.close);

  const configFile = join(work, 'config.yaml');
  writeFileSync(configFile, `model_list:
  - model_name: bench-gpt
    litellm_params: {model: openai/gpt-4o, api_base: "${upstream.url}/v1", api_key: sk-bench-upstream-key}
${options.langfuse ? `litellm_settings:
  success_callback: ["langfuse"]
  failure_callback: ["langfuse"]
` : ''}general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`);
  const env = {
    LITELLM_MASTER_KEY: MASTER_KEY, DATABASE_URL: db.url, DATABASE_WSPROXY: proxy.url,
    LANGFUSE_PUBLIC_KEY: 'pk-lf-bench', LANGFUSE_SECRET_KEY: 'sk-lf-bench', LANGFUSE_HOST: langfuse.url,
  };
  return { upstream, db, proxy, langfuse, configFile, env };
}
