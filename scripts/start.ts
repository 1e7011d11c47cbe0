/**
 * `npm start [-- --config FILE]`: the whole gateway on this machine with
 * embedded defaults. Env: PORT (4000), DATABASE_URL (else embedded PGlite),
 * TOLLGATE_DATA_DIR (.tollgate/), LITELLM_MASTER_KEY (else config, else a
 * generated key saved for the next run).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, ROOT } from './lib/build.ts';
import { effectiveMasterKey, savedMasterKey, startStack } from './lib/stack.ts';
import { compileConfig } from './lib/build.ts';

const { values } = parseArgs({
  options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log('Usage: npm start [-- --config config.yaml]\nEnv: PORT, DATABASE_URL, TOLLGATE_DATA_DIR, LITELLM_MASTER_KEY');
  process.exit(0);
}

const configFile = resolve(values.config ?? resolve(ROOT, 'config.example.yaml'));
const dataDir = resolve(process.env.TOLLGATE_DATA_DIR ?? resolve(ROOT, '.tollgate'));
const port = Number(process.env.PORT ?? 4000);
const env: Record<string, string | undefined> = { ...process.env };

try {
  // A master key must exist; when neither the env nor the config gives one, keep a generated one.
  if (!effectiveMasterKey(compileConfig(configFile, env).config, env)) env.LITELLM_MASTER_KEY = savedMasterKey(dataDir);
} catch (err) {
  fail(err);
}

console.log(`Starting Tollgate with ${configFile} ...`);
const stack = await startStack({
  configFile, dataDir, port, env, host: '127.0.0.1', databaseUrl: process.env.DATABASE_URL || undefined,
}).catch(fail);

for (const w of stack.warnings) console.warn(`config warning: ${w}`);
const base = stack.url.replace(/\/$/, '');
console.log(`
Tollgate is running.

  Base URL:     ${base}   (OpenAI routes under /v1, admin routes like /key/generate)
  Master key:   ${stack.masterKey}
  Database:     ${redactPassword(stack.databaseUrl)}   (${stack.databaseKind === 'pglite' ? 'embedded PGlite' : 'external'}; psql works against it)
  Data dir:     ${dataDir}

Try it:

  curl ${base}/v1/chat/completions \\
    -H "Authorization: Bearer ${stack.masterKey}" -H "Content-Type: application/json" \\
    -d '{"model": "mock-gpt", "messages": [{"role": "user", "content": "Hello"}]}'

  import OpenAI from "openai";
  const client = new OpenAI({ baseURL: "${base}/v1", apiKey: "${stack.masterKey}" });
  const r = await client.chat.completions.create({ model: "mock-gpt", messages: [{ role: "user", content: "Hello" }] });

Ctrl-C stops everything.
`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping ...`);
  await stack.stop();
  process.exit(0);
}
// Miniflare's own signal hooks exit at once (its 'exit' hook still kills workerd as a last resort);
// take signals over so the embedded database is closed cleanly before the process ends.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  for (const listener of process.listeners(signal)) {
    if (listener.name.startsWith('onSignal')) process.removeListener(signal, listener);
  }
  process.on(signal, () => void shutdown(signal));
}

function redactPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '****';
  return u.toString();
}

function fail(err: unknown): never {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('Tollgate failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
}
