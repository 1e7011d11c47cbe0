import { execFile as execFileCb } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { validateConfig } from '../../worker/config/validate.ts';

const execFile = promisify(execFileCb);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const WORKERS = {
  gateway: join(ROOT, 'wrangler.toml'),
  admin: join(ROOT, 'admin-worker', 'wrangler.toml'),
} as const;
export type WorkerName = keyof typeof WORKERS;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`${file} is not a valid config:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

export interface CompiledConfig {
  source: string;
  compiledAt: string;
  config: unknown;
  warnings: string[];
}

/**
 * Reads config.yaml, validates it (with `env` standing in for the Worker's
 * environment) and returns what the Workers bundle. Every problem is listed by
 * path; YAML syntax errors carry their line.
 */
export function compileConfig(file: string, env: Record<string, unknown> = process.env): CompiledConfig {
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML ${e.linePos?.[0] ? `line ${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0]}`));
  }
  const raw: unknown = doc.toJS() ?? {};
  const result = validateConfig(raw, env);
  if (!result.ok) throw new ConfigError(file, result.errors);
  return { source: basename(file), compiledAt: new Date().toISOString(), config: raw, warnings: result.warnings };
}

/** Writes the compiled config where the Workers' `tollgate-config` alias points. */
export function writeCompiledConfig(compiled: CompiledConfig, outFile: string): void {
  mkdirSync(dirname(outFile), { recursive: true });
  const { warnings: _warnings, ...bundled } = compiled;
  writeFileSync(outFile, JSON.stringify(bundled));
}

/**
 * Bundles one Worker offline with `wrangler deploy --dry-run`: exactly what
 * `wrangler deploy` would upload, with config.yaml's compiled JSON aliased in.
 */
export async function buildWorker(name: WorkerName, outDir: string, configJson: string): Promise<string> {
  // Run with this Node (22), whatever `node` the shell's PATH finds first.
  await execFile(process.execPath, [WRANGLER_BIN,
    'deploy', '--dry-run', '-c', WORKERS[name], '--outdir', outDir, '--alias', `tollgate-config:${configJson}`,
  ], { cwd: ROOT, env: { ...process.env, ...QUIET_WRANGLER }, maxBuffer: 16 * 1024 * 1024 });
  return join(outDir, 'index.js');
}

export const WRANGLER_BIN = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

/** Offline and quiet: no metrics, no request.cf fetch. */
export const QUIET_WRANGLER = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' };

export interface Build {
  dir: string;
  configJson: string;
  compiled: CompiledConfig;
  scripts: Record<WorkerName, string>;
}

/** Compiles the config and bundles both Workers into `dir`. */
export async function buildAll(configFile: string, dir: string, env: Record<string, unknown> = process.env): Promise<Build> {
  const compiled = compileConfig(configFile, env);
  const configJson = join(dir, 'config.json');
  writeCompiledConfig(compiled, configJson);
  const [gateway, admin] = await Promise.all([
    buildWorker('gateway', join(dir, 'gateway'), configJson),
    buildWorker('admin', join(dir, 'admin'), configJson),
  ]);
  return { dir, configJson, compiled, scripts: { gateway, admin } };
}
