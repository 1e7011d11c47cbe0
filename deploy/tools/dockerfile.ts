/**
 * `node deploy/tools/dockerfile.ts deploy/Dockerfile [...]`: reads a Dockerfile as BuildKit does
 * (continuations, stages, ARG substitution, COPY forms) and lints it: named stages, pinned base
 * images, no ADD of URLs, a non-root USER in the final stage, exec-form ENTRYPOINT and CMD, apt
 * caches dropped in the RUN that fills them; and every COPY from the build context names a file
 * that exists and that the Dockerfile's .dockerignore lets through. There is no Docker engine
 * where the tests run: this is what can be checked without one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

export interface Copy {
  line: number;
  from?: string;
  sources: string[];
  dest: string;
}

export interface Stage {
  name?: string;
  base: string;
  instructions: Instruction[];
  /** ARG values in scope (defaults, then the build args given). */
  args: Record<string, string>;
  copies: Copy[];
}

export interface Dockerfile {
  file: string;
  instructions: Instruction[];
  stages: Stage[];
}

/** `$NAME` and `${NAME}` from `vars`; unknown names become empty, as in Docker. */
export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? '');
}

/** A shell word's quotes removed (`"a b"`, `'a'`). */
export function unquote(word: string): string {
  return /^(["']).*\1$/.test(word) ? word.slice(1, -1) : word;
}

/** Instructions with their continuation lines joined; comments and parser directives dropped. */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!current && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (current && line.trim().startsWith('#')) return;
    const continues = line.endsWith('\\');
    const body = continues ? line.slice(0, -1) : line;
    current = current ? { line: current.line, text: `${current.text} ${body.trim()}` } : { line: i + 1, text: body.trim() };
    if (!continues) {
      const [keyword = '', ...rest] = current.text.split(/\s+/);
      out.push({ line: current.line, keyword: keyword.toUpperCase(), args: rest.join(' ') });
      current = undefined;
    }
  });
  return out;
}

/** Exec form (a JSON array of strings) or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trim().startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function parseDockerfile(file: string, buildArgs: Record<string, string> = {}): Dockerfile {
  const all = instructions(readFileSync(file, 'utf8'));
  const global: Record<string, string> = {};
  const stages: Stage[] = [];
  const argValue = (spec: string, scope: Record<string, string>) => {
    const [name = '', ...rest] = spec.split('=');
    // Docker reads the default as a shell word: `ARG A=""` is empty.
    const fallback = rest.length ? substitute(unquote(rest.join('=')), scope) : (global[name] ?? '');
    scope[name] = buildArgs[name] ?? fallback;
  };
  for (const ins of all) {
    const stage = stages.at(-1);
    if (ins.keyword === 'FROM') {
      const [image = '', as, name] = substitute(ins.args, global).split(/\s+/);
      stages.push({ base: image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [], args: {}, copies: [] });
      continue;
    }
    if (!stage) {
      if (ins.keyword === 'ARG') argValue(ins.args, global);
      continue;
    }
    stage.instructions.push(ins);
    if (ins.keyword === 'ARG') argValue(ins.args, stage.args);
    if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
      const words = substitute(ins.args, stage.args).split(/\s+/);
      const flags = words.filter((w) => w.startsWith('--'));
      const paths = execForm(ins.args) ?? words.filter((w) => !w.startsWith('--'));
      const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      stage.copies.push({ line: ins.line, from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' });
    }
  }
  return { file, instructions: all, stages };
}

/** The ignore file BuildKit uses for this Dockerfile: `<name>.dockerignore` beside it, else the context's. */
export function dockerignoreFor(dockerfile: string, context: string): string | undefined {
  for (const f of [`${dockerfile}.dockerignore`, join(context, '.dockerignore')]) if (existsSync(f)) return f;
  return undefined;
}

/** Whether a context path is left out by .dockerignore patterns (last match wins; `!` lets it back in). */
export function ignored(path: string, patterns: string[]): boolean {
  const clean = path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  let out = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).trim().replace(/^\/+/, '').replace(/\/+$/, '');
    if (!pattern) continue;
    const rx = new RegExp(`^${pattern.split('/').map((part) => part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('/').replace(/\.\*\//g, '(.*/)?')}(/.*)?$`);
    if (rx.test(clean)) out = !negate;
  }
  return out;
}

export function readPatterns(file: string | undefined): string[] {
  if (!file) return [];
  return readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** Problems found, each with its line; empty when the Dockerfile passes. */
export function lintDockerfile(df: Dockerfile, context: string): string[] {
  const problems: string[] = [];
  const at = (line: number, text: string) => problems.push(`${df.file}:${line}: ${text}`);
  if (!df.stages.length) problems.push(`${df.file}: no FROM`);
  const patterns = readPatterns(dockerignoreFor(df.file, context));
  const names = new Set<string>();
  for (const stage of df.stages) {
    if (df.stages.length > 1 && !stage.name) problems.push(`${df.file}: a stage of several has no name (FROM ... AS name)`);
    if (!/:[\w.-]+$|@sha256:/.test(stage.base) || /:latest$/.test(stage.base)) problems.push(`${df.file}: base image not pinned to a tag: ${stage.base}`);
    for (const ins of stage.instructions) {
      if (ins.keyword === 'ADD' && /(https?|git):\/\/|git@/.test(ins.args)) at(ins.line, 'ADD of a URL: fetch in a RUN with a checksum, or COPY');
      if (ins.keyword === 'RUN' && /apt-get install/.test(ins.args)) {
        if (!/--no-install-recommends/.test(ins.args)) at(ins.line, 'apt-get install without --no-install-recommends');
        if (!/rm -rf \/var\/lib\/apt\/lists/.test(ins.args)) at(ins.line, 'apt lists left in the layer');
      }
      if ((ins.keyword === 'ENTRYPOINT' || ins.keyword === 'CMD') && !execForm(ins.args)) at(ins.line, `${ins.keyword} in shell form: signals would go to /bin/sh, not the process`);
    }
    for (const copy of stage.copies) {
      if (copy.from) {
        if (!names.has(copy.from)) at(copy.line, `COPY --from=${copy.from}: no earlier stage of that name`);
        continue;
      }
      for (const src of copy.sources) {
        if (/^(https?|git):\/\//.test(src)) continue;
        if (!existsSync(resolve(context, src))) at(copy.line, `COPY source not in the build context: ${src}`);
        else if (ignored(src, patterns)) at(copy.line, `COPY source excluded by the .dockerignore: ${src}`);
      }
    }
    if (stage.name) names.add(stage.name);
  }
  const last = df.stages.at(-1);
  const user = last?.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args.split(':')[0];
  if (!user) problems.push(`${df.file}: the final stage runs as root (no USER)`);
  else if (user === 'root' || user === '0') problems.push(`${df.file}: the final stage's USER is root`);
  return problems;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('Usage: node deploy/tools/dockerfile.ts DOCKERFILE... (the build context is the repository root)');
    process.exit(2);
  }
  const context = resolve(dirname(new URL(import.meta.url).pathname), '../..');
  const problems = files.flatMap((f) => lintDockerfile(parseDockerfile(resolve(f)), context));
  for (const p of problems) console.error(p);
  console.log(problems.length ? `${problems.length} problem(s)` : `${files.join(', ')}: no problems`);
  process.exit(problems.length ? 1 : 0);
}
