/**
 * Lays out an image's filesystem without a Docker engine, from its Dockerfile: each stage gets a
 * directory standing for its root; WORKDIR, ENV, COPY (from the context or an earlier stage) and
 * the stage's RUN steps are carried out there, with the Dockerfile's absolute paths (/src, /out,
 * /app, ...) moved under that directory. Two things are not done: `npm ci` is replaced by a link
 * to the repository's node_modules, and the runtime stage's OS setup (apt-get, users) is skipped.
 * What a COPY needs and what the final image holds can then be checked, and run.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseDockerfile, substitute, unquote } from './dockerfile.ts';

export interface ImageLayout {
  /** Each stage's root directory, by stage name (or index). */
  roots: Record<string, string>;
  /** The final stage's root: the image's filesystem. */
  root: string;
  /** What each RUN became: run, replaced or skipped. */
  log: string[];
}

export interface LayoutOptions {
  dockerfile: string;
  context: string;
  /** An empty directory to build in. */
  dir: string;
  buildArgs?: Record<string, string>;
  /** Stands in for `npm ci` (default: the context's node_modules). */
  nodeModules?: string;
}

/** Copies as COPY does: a directory's contents into the destination; a symlink stays a link. */
function copyInto(src: string, dest: string, destIsDir: boolean): void {
  // `dir/` names the directory's contents; lstat must see the link itself, not what it points to.
  const stat = lstatSync(src.replace(/\/+$/, ''));
  if (stat.isSymbolicLink()) {
    const target = destIsDir && !src.endsWith('/') ? join(dest, basename(src)) : dest.replace(/\/+$/, '');
    mkdirSync(resolve(target, '..'), { recursive: true });
    if (!existsSync(target)) symlinkSync(resolve(src), target);
    return;
  }
  if (stat.isDirectory()) {
    mkdirSync(dest, { recursive: true });
    cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
    return;
  }
  const target = destIsDir ? join(dest, basename(src)) : dest;
  mkdirSync(resolve(target, '..'), { recursive: true });
  cpSync(src, target);
}

/** ENV KEY=VALUE pairs (the forms these Dockerfiles use). */
function envPairs(args: string): Record<string, string> {
  return Object.fromEntries(args.split(/\s+/).filter((w) => w.includes('=')).map((w) => [w.slice(0, w.indexOf('=')), unquote(w.slice(w.indexOf('=') + 1))]));
}

export function layoutImage(options: LayoutOptions): ImageLayout {
  const df = parseDockerfile(options.dockerfile, options.buildArgs);
  const nodeModules = options.nodeModules ?? join(options.context, 'node_modules');
  const roots: Record<string, string> = {};
  const log: string[] = [];
  // Top-level absolute directories the Dockerfile names; a RUN's mention of them moves under the stage's root.
  const absolute = new Set<string>();
  for (const ins of df.instructions) for (const m of ins.args.matchAll(/(?:^|[\s"'=>])\/([a-z][\w-]*)(?=\/|\s|"|'|$)/g)) absolute.add(m[1]!);
  for (const skip of ['bin', 'usr', 'etc', 'var', 'tmp', 'root', 'lib', 'dev', 'proc']) absolute.delete(skip);
  const dirs = [...absolute].join('|');

  df.stages.forEach((stage, i) => {
    const root = join(options.dir, stage.name ?? String(i));
    mkdirSync(root, { recursive: true });
    roots[stage.name ?? String(i)] = root;
    let cwd = root;
    let env: Record<string, string> = {};
    const vars = { ...stage.args };
    const inRoot = (p: string) => (p.startsWith('/') ? join(root, p) : join(cwd, p));
    const final = i === df.stages.length - 1;
    let copyIndex = 0;
    for (const ins of stage.instructions) {
      if (ins.keyword === 'ENV') env = { ...env, ...envPairs(substitute(ins.args, vars)) };
      if (ins.keyword === 'WORKDIR') mkdirSync((cwd = inRoot(substitute(ins.args, vars))), { recursive: true });
      if (ins.keyword === 'COPY') {
        const copy = stage.copies[copyIndex++]!;
        const from = copy.from ? roots[copy.from] : undefined;
        if (copy.from && !from) throw new Error(`COPY --from=${copy.from}: no such stage`);
        const dest = inRoot(copy.dest);
        const destIsDir = copy.dest.endsWith('/') || copy.sources.length > 1;
        for (const src of copy.sources) {
          const path = from ? join(from, src) : resolve(options.context, src);
          if (!existsSync(path)) throw new Error(`${options.dockerfile}:${copy.line}: COPY source missing: ${src}${from ? ` (in stage ${copy.from})` : ''}`);
          copyInto(path, dest, destIsDir);
        }
      }
      if (ins.keyword !== 'RUN') continue;
      // The shell expands a RUN, with the ARGs and ENVs in its environment, as Docker runs it.
      const run = ins.args;
      if (/^npm ci\b/.test(run)) {
        if (!existsSync(join(cwd, 'node_modules'))) symlinkSync(resolve(nodeModules), join(cwd, 'node_modules'));
        log.push(`replaced with a link to node_modules: ${run}`);
      } else if (final && /apt-get|useradd|groupadd/.test(run)) {
        log.push(`skipped (OS setup): ${run}`);
      } else {
        const mapped = dirs ? run.replace(new RegExp(`(^|[\\s"'=>])/(${dirs})(?=/|\\s|"|'|$)`, 'g'), (_, pre: string, dir: string) => `${pre}${root}/${dir}`) : run;
        log.push(`ran: ${mapped}`);
        execFileSync('sh', ['-c', mapped], {
          cwd,
          env: { ...process.env, ...vars, ...env, PATH: `${join(cwd, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
          stdio: ['ignore', 'pipe', 'pipe'],
          maxBuffer: 64 * 1024 * 1024,
        });
      }
    }
  });
  const root = Object.values(roots).at(-1);
  if (!root) throw new Error(`${options.dockerfile}: no stages`);
  return { roots, root, log };
}
