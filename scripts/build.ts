/**
 * `npm run build [-- --config FILE] [--out DIR]`: compiles config.yaml and
 * bundles both Workers offline (`wrangler deploy --dry-run`), as a deploy would.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildAll, ConfigError, ROOT } from './lib/build.ts';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, out: { type: 'string' } } });
const configFile = resolve(values.config ?? resolve(ROOT, 'config.example.yaml'));
const out = resolve(values.out ?? resolve(ROOT, '.tollgate/build'));
try {
  const build = await buildAll(configFile, out);
  for (const w of build.compiled.warnings) console.warn(`config warning: ${w}`);
  console.log(`Built ${build.scripts.gateway}\n      ${build.scripts.admin}\nfrom ${configFile}`);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
