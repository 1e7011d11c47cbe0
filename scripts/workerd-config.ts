/**
 * `npm run workerd:config [-- --config FILE] [--out DIR] [--address HOST:PORT] [--admin-address HOST:PORT] [--env NAME ...]`:
 * bundles both Workers into `<out>/build` and writes `<out>/config.capnp`, the
 * standalone-workerd config generated from the two wrangler configs, for
 * running Tollgate in-region (a container, a VM) without wrangler or Miniflare.
 */
import { execFile as execFileCb } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { buildAll, ConfigError, ROOT } from './lib/build.ts';
import { DEFAULT_STORAGE, generateWorkerdConfig, WORKERD_SERVICES, WORKERD_SOCKETS, workerdEnvNames } from './lib/workerd-config.ts';
import { WORKERD_BIN } from './lib/workerd-process.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', short: 'c' },
    out: { type: 'string' },
    address: { type: 'string' },
    'admin-address': { type: 'string' },
    env: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: node scripts/workerd-config.ts [--config config.yaml] [--out .tollgate/workerd] [--address *:8080] [--admin-address HOST:PORT] [--env NAME]...');
  process.exit(0);
}

const configFile = resolve(values.config ?? join(ROOT, 'config.example.yaml'));
const out = resolve(values.out ?? join(ROOT, '.tollgate/workerd'));
try {
  const build = await buildAll(configFile, join(out, 'build'));
  for (const w of build.compiled.warnings) console.warn(`config warning: ${w}`);
  const envNames = workerdEnvNames(build.compiled.config, values.env ?? []);
  const text = generateWorkerdConfig({
    gatewayScript: build.scripts.gateway,
    adminScript: build.scripts.admin,
    address: values.address,
    adminAddress: values['admin-address'],
    envNames,
    configDir: out,
  });
  const capnp = join(out, 'config.capnp');
  writeFileSync(capnp, text);
  // Parse it now (schema, embedded bundles) rather than at the first deploy.
  await promisify(execFileCb)(WORKERD_BIN, ['compile', capnp, '--config-only'], { maxBuffer: 64 * 1024 * 1024 });
  const doDir = join(out, DEFAULT_STORAGE.doStorage);
  const queueDir = join(out, DEFAULT_STORAGE.queueStorage);
  mkdirSync(doDir, { recursive: true });
  mkdirSync(queueDir, { recursive: true });

  console.log(`Wrote ${capnp}
  (the bundles in ${join(out, 'build')} are embedded by relative path: keep them beside it, or run
   \`workerd compile ${capnp} > tollgate-workerd\` for one self-contained binary)

Run it (the storage directories must exist; a container would mount a volume there):

  DATABASE_URL=postgres://... LITELLM_MASTER_KEY=sk-... [DATABASE_WSPROXY=ws://HOST:PORT/v1] \\
  ${WORKERD_BIN} serve ${capnp} --experimental \\
    --socket-addr '${WORKERD_SOCKETS.gateway}=${values.address ?? '*:8080'}' \\
    --directory-path ${WORKERD_SERVICES.doStorage}=${doDir} \\
    --directory-path ${WORKERD_SERVICES.queueStorage}=${queueDir}

Environment it reads (fromEnvironment; unset ones read as null): ${envNames.join(', ')}`);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
