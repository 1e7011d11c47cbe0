/**
 * `npm run workerd:config [-- --config FILE] [--out DIR] [--address HOST:PORT] [--admin-address HOST:PORT] [--env NAME ...]
 *   [--cluster-bucket s3://B/P --cluster-region R --cluster-credentials-file F --cluster-key-file K [--cluster-endpoint URL] [--cluster-stop-timeout-ms N]]`:
 * bundles both Workers into `<out>/build` and writes `<out>/config.capnp`, the
 * standalone-workerd config generated from the two wrangler configs, for
 * running Tollgate in-region (a container, a VM) without wrangler or Miniflare.
 * The `--cluster-*` flags add workerd's cluster mode (several replicas sharing
 * every Durable Object through a bucket; scripts/lib/workerd-cluster.ts).
 */
import { execFile as execFileCb } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { buildAll, ConfigError, ROOT } from './lib/build.ts';
import { type WorkerdClusterOptions, writeClusterKey } from './lib/workerd-cluster.ts';
import { DEFAULT_STORAGE, generateWorkerdConfig, WORKERD_SERVICES, WORKERD_SOCKETS, workerdEnvNames } from './lib/workerd-config.ts';
import { WORKERD_BIN } from './lib/workerd-process.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', short: 'c' },
    out: { type: 'string' },
    address: { type: 'string' },
    'admin-address': { type: 'string' },
    env: { type: 'string', multiple: true },
    'cluster-bucket': { type: 'string' },
    'cluster-endpoint': { type: 'string' },
    'cluster-region': { type: 'string' },
    'cluster-credentials-file': { type: 'string' },
    // Relative paths are relative to the config's directory (where it runs, e.g. cluster/key beside /app/config.capnp).
    'cluster-key-file': { type: 'string' },
    'cluster-stop-timeout-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(`Usage: node scripts/workerd-config.ts [--config config.yaml] [--out .tollgate/workerd] [--address *:8080] [--admin-address HOST:PORT] [--env NAME]...
  cluster mode: --cluster-bucket s3://BUCKET/PREFIX|gs://BUCKET/PREFIX --cluster-key-file FILE
                [--cluster-region REGION --cluster-credentials-file /ABS/FILE (both required for s3://)]
                [--cluster-endpoint https://HOST] [--cluster-stop-timeout-ms 8000]`);
  process.exit(0);
}

const clusterFlags = ['cluster-endpoint', 'cluster-region', 'cluster-credentials-file', 'cluster-key-file', 'cluster-stop-timeout-ms'] as const;
if (!values['cluster-bucket'] && clusterFlags.some((f) => values[f] !== undefined)) {
  console.error('--cluster-* flags need --cluster-bucket');
  process.exit(2);
}
const stopTimeout = values['cluster-stop-timeout-ms'];
const cluster: WorkerdClusterOptions | undefined = values['cluster-bucket']
  ? {
    bucket: values['cluster-bucket'],
    endpoint: values['cluster-endpoint'],
    region: values['cluster-region'],
    credentialsFile: values['cluster-credentials-file'],
    keyFile: values['cluster-key-file'] ?? '',
    stopTimeoutMs: stopTimeout === undefined ? undefined : Number(stopTimeout),
  }
  : undefined;

const configFile = resolve(values.config ?? join(ROOT, 'config.example.yaml'));
const out = resolve(values.out ?? join(ROOT, '.tollgate/workerd'));
try {
  const build = await buildAll(configFile, join(out, 'build'));
  for (const w of build.compiled.warnings) console.warn(`config warning: ${w}`);
  const envNames = workerdEnvNames(build.compiled.config, values.env ?? []);
  const generate = (clusterOptions: WorkerdClusterOptions | undefined) => generateWorkerdConfig({
    gatewayScript: build.scripts.gateway,
    adminScript: build.scripts.admin,
    address: values.address,
    adminAddress: values['admin-address'],
    envNames,
    configDir: out,
    cluster: clusterOptions,
  });
  const text = generate(cluster);
  const capnp = join(out, 'config.capnp');
  writeFileSync(capnp, text);
  // Parse it now (schema, embedded bundles) rather than at the first deploy. A cluster config embeds
  // its key file, which exists only where it runs: check a copy that embeds a throwaway key instead.
  const check = async (file: string) => promisify(execFileCb)(WORKERD_BIN, ['compile', file, '--config-only'], { maxBuffer: 64 * 1024 * 1024 });
  if (cluster) {
    const scratch = mkdtempSync(join(tmpdir(), 'tollgate-cluster-check-'));
    try {
      writeClusterKey(join(scratch, 'key'));
      const probe = join(out, '.cluster-check.capnp');
      writeFileSync(probe, generate({ ...cluster, keyFile: join(scratch, 'key') }));
      try {
        await check(probe);
      } finally {
        rmSync(probe, { force: true });
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  } else {
    await check(capnp);
  }
  const doDir = join(out, DEFAULT_STORAGE.doStorage);
  const queueDir = join(out, DEFAULT_STORAGE.queueStorage);
  mkdirSync(doDir, { recursive: true });
  mkdirSync(queueDir, { recursive: true });

  console.log(`Wrote ${capnp}
  (the bundles in ${join(out, 'build')} are embedded by relative path: keep them beside it${cluster ? '' : `, or run
   \`workerd compile ${capnp} > tollgate-workerd\` for one self-contained binary`})

Run it (the storage directories must exist; a container would mount a volume there):

  DATABASE_URL=postgres://... LITELLM_MASTER_KEY=sk-... [DATABASE_WSPROXY=ws://HOST:PORT/v1] \\
  ${WORKERD_BIN} serve ${capnp} --experimental \\
    --socket-addr '${WORKERD_SOCKETS.gateway}=${values.address ?? '*:8080'}' \\
    --directory-path ${WORKERD_SERVICES.doStorage}=${doDir} \\
    --directory-path ${WORKERD_SERVICES.queueStorage}=${queueDir}

Environment it reads (fromEnvironment; unset ones read as null): ${envNames.join(', ')}${cluster ? `

Cluster mode (${cluster.bucket}): start every instance with the same file, the cluster key at
${cluster.keyFile}, and per instance --cluster-addr 0.0.0.0:7000 --cluster-advertise <its private IP>:7000.
Do not \`workerd compile\` this config into a binary: that would bake the cluster key into it.` : ''}`);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
