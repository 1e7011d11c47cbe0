import { execFile as execFileCb } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
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
  const { raw, warnings } = readConfig(resolve(file));
  const result = validateConfig(raw, env);
  if (!result.ok) throw new ConfigError(file, result.errors);
  return { source: basename(file), compiledAt: new Date().toISOString(), config: raw, warnings: [...warnings, ...result.warnings] };
}

/**
 * One config file with LiteLLM's `include` applied: each listed file (relative to the file naming it; a
 * single name too) is read in order and its top-level keys merged in, a list joined to the one before
 * it and anything else replacing it, as LiteLLM does. Included files may include others; a cycle is refused,
 * and a file reached a second time (two files include it) is merged once, with a warning. `file` is absolute.
 */
function readConfig(file: string, includedBy: string[] = [], merged = new Set<string>()): { raw: Record<string, unknown>; warnings: string[] } {
  const root = includedBy[0] ?? file;
  // Problems in an included file are reported against the root file, prefixed with the included one's path.
  const prefix = includedBy.length ? `include ${relative(dirname(root), file)}: ` : '';
  if (includedBy.includes(file)) throw new ConfigError(root, [`${prefix}included again by a file it includes`]);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!includedBy.length) throw err;
    throw new ConfigError(root, [`${prefix}cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(root, doc.errors.map((e) => `${prefix}YAML ${e.linePos?.[0] ? `line ${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0]}`));
  }
  const parsed: unknown = doc.toJS() ?? {};
  // Anything but a mapping is left for the validator to name (an included one is named here).
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    if (includedBy.length) throw new ConfigError(root, [`${prefix}expected a mapping of config sections`]);
    return { raw: parsed as Record<string, unknown>, warnings: [] };
  }
  const { include, ...config } = parsed as Record<string, unknown>;
  if (include === undefined || include === null) return { raw: config, warnings: [] };
  const files = typeof include === 'string' ? [include] : include;
  if (!Array.isArray(files) || !files.every((f) => typeof f === 'string' && f !== '')) {
    throw new ConfigError(root, [`${prefix}include: expected a list of file paths`]);
  }
  const warnings: string[] = [];
  for (const name of files) {
    const path = resolve(dirname(file), name);
    if (merged.has(path) && !includedBy.includes(path) && path !== file) {
      warnings.push(`include ${relative(dirname(root), path)}: included more than once; merged once`);
      continue;
    }
    merged.add(path);
    const included = readConfig(path, [...includedBy, file], merged);
    warnings.push(...included.warnings);
    for (const [key, value] of Object.entries(included.raw)) {
      const before = config[key];
      if (Array.isArray(value) && Array.isArray(before)) config[key] = [...before, ...value];
      else {
        if (before !== undefined) warnings.push(`include ${name}: its ${key} replaces the one before it (only lists are joined, as in LiteLLM)`);
        config[key] = value;
      }
    }
  }
  return { raw: config, warnings };
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
