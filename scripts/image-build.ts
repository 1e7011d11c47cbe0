/**
 * `npm run image:build -- [--values FILE]... [--tag IMAGE] [--tools-tag IMAGE] [--print]`: builds
 * the in-region images from the Helm chart's values, so that the gateway image embeds exactly
 * the chart's `proxy_config` (the pods refuse an image built from another config).
 *
 * The values files are merged over the chart's values.yaml as Helm merges them (maps merged,
 * lists and scalars replaced, null deletes a key); `proxy_config` is written to
 * deploy/.build/config.yaml, validated, and given to deploy/Dockerfile as CONFIG. The tags default
 * to the values' image.repository and toolsImage.repository, at their tag or the chart's appVersion.
 * `--print` (or a machine without a Docker engine) prints the commands instead of running them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { configHash } from '../deploy/tools/config-hash.ts';
import { compileConfig, ConfigError, ROOT } from './lib/build.ts';

export const CHART_DIR = join(ROOT, 'deploy', 'helm', 'tollgate');
export const BUILD_CONFIG = join(ROOT, 'deploy', '.build', 'config.yaml');

type Values = Record<string, unknown>;

const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` merged onto `base` as Helm coalesces values files: a new object, neither input changed. */
export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = mergeValues(out[key] as Values, value);
    else out[key] = value;
  }
  return out;
}

/** A values file as Helm reads it (YAML 1.1 scalars: `yes` and `on` are booleans there too). */
export function readValues(file: string): Values {
  const parsed: unknown = parse(readFileSync(file, 'utf8'), { version: '1.1' }) ?? {};
  if (!isMap(parsed)) throw new Error(`${file}: a values file is a map`);
  return parsed;
}

/** The chart's values.yaml with each file merged over it, in order. */
export function chartValues(files: string[] = []): Values {
  return files.reduce((values, file) => mergeValues(values, readValues(file)), readValues(join(CHART_DIR, 'values.yaml')));
}

export interface ImagePlan {
  /** The merged `proxy_config`. */
  config: Values;
  /** Its fingerprint, as the chart computes it (the pods' `tollgate.io/config-sha256`). */
  configHash: string;
  image: string;
  toolsImage: string;
  /** argv of each `docker` run, from the repository's root (the build context). */
  commands: string[][];
}

/** What to build for these values: the config, the images' tags and the docker commands. */
export function imagePlan(options: { values: Values; configFile: string; tag?: string; toolsTag?: string; platform?: string }): ImagePlan {
  const { values } = options;
  const appVersion = String((parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: unknown }).appVersion);
  const ref = (image: unknown) => {
    const { repository, tag } = (isMap(image) ? image : {}) as { repository?: unknown; tag?: unknown };
    return `${String(repository ?? 'tollgate')}:${tag ? String(tag) : appVersion}`;
  };
  const config = isMap(values.proxy_config) ? values.proxy_config : {};
  const image = options.tag ?? ref(values.image);
  const toolsImage = options.toolsTag ?? ref(values.toolsImage);
  const platform = options.platform ? ['--platform', options.platform] : [];
  const contextConfig = relative(ROOT, resolve(options.configFile)).split('\\').join('/');
  const clusterArgs = clusterConfigArgs(values);
  const workerdArgs = clusterArgs.length ? ['--build-arg', `WORKERD_CONFIG_ARGS=${clusterArgs.join(' ')}`] : [];
  return {
    config,
    configHash: configHash(config),
    image,
    toolsImage,
    commands: [
      ['docker', 'build', ...platform, '-f', 'deploy/Dockerfile', '--build-arg', `CONFIG=${contextConfig}`, ...workerdArgs, '-t', image, '.'],
      ['docker', 'build', ...platform, '-f', 'deploy/Dockerfile.tools', '-t', toolsImage, '.'],
    ],
  };
}

/** Where the chart mounts the cluster key and the bucket's credentials (templates/deployment.yaml). */
export const CLUSTER_MOUNTS = { key: '/app/cluster/key', credentials: '/app/cluster/credentials' } as const;
/** The key as config.capnp embeds it: relative to /app/config.capnp, so it resolves wherever the config was generated. */
const CLUSTER_KEY_EMBED = 'cluster/key';

/**
 * `npm run workerd:config` flags for the values' cluster mode (none when `cluster.enabled` is off), so
 * the image's config.capnp has the `cluster` section the chart's pods expect.
 */
export function clusterConfigArgs(values: Values): string[] {
  const cluster = isMap(values.cluster) ? values.cluster : {};
  if (cluster.enabled !== true) return [];
  const bucket = isMap(cluster.bucket) ? cluster.bucket : {};
  const name = String(bucket.name ?? '');
  if (!/^(s3|gs):\/\/[^/\s]+(\/\S*)?$/.test(name)) throw new Error(`cluster.bucket.name must be s3://bucket/prefix or gs://bucket/prefix, not "${name}"`);
  const args = ['--cluster-bucket', name, '--cluster-key-file', CLUSTER_KEY_EMBED];
  if (name.startsWith('s3://')) {
    if (!bucket.region) throw new Error('cluster.bucket.region is required for an s3:// bucket (auto for R2)');
    args.push('--cluster-region', String(bucket.region), '--cluster-credentials-file', CLUSTER_MOUNTS.credentials);
    if (bucket.endpoint) args.push('--cluster-endpoint', String(bucket.endpoint));
  }
  for (const a of args) if (/\s/.test(a)) throw new Error(`cluster values may not contain spaces: "${a}"`);
  return args;
}

function dockerEngineAvailable(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const usage = 'Usage: npm run image:build -- [--values FILE]... [--tag IMAGE] [--tools-tag IMAGE] [--platform linux/amd64] [--print]';
  let args;
  try {
    args = parseArgs({
      options: {
        values: { type: 'string', short: 'f', multiple: true },
        tag: { type: 'string' },
        'tools-tag': { type: 'string' },
        platform: { type: 'string' },
        print: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : err}\n${usage}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(usage);
    return;
  }
  const values = chartValues((args.values ?? []).map((f) => resolve(f)));
  const plan = imagePlan({ values, configFile: BUILD_CONFIG, tag: args.tag, toolsTag: args['tools-tag'], platform: args.platform });
  mkdirSync(join(ROOT, 'deploy', '.build'), { recursive: true });
  writeFileSync(BUILD_CONFIG, `# Written by npm run image:build from the chart's proxy_config; do not edit.\n${stringify(plan.config)}`);
  try {
    const compiled = compileConfig(BUILD_CONFIG);
    for (const w of compiled.warnings) console.warn(`config warning: ${w}`);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  }
  console.log(`proxy_config -> ${relative(ROOT, BUILD_CONFIG)} (fingerprint ${plan.configHash})`);
  const shell = plan.commands.map((c) => c.map((a) => (/^[\w./:=@+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' '));
  if (args.print || !dockerEngineAvailable()) {
    if (!args.print) console.error('No Docker engine here: run these from the repository root where there is one.');
    console.log(shell.join('\n'));
    process.exit(args.print ? 0 : 1);
  }
  for (const command of plan.commands) {
    console.log(`$ ${command.join(' ')}`);
    const run = spawnSync(command[0]!, command.slice(1), { cwd: ROOT, stdio: 'inherit' });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
  console.log(`Built ${plan.image} and ${plan.toolsImage}; install the chart with the same values files.`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await main();
