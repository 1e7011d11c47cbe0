/**
 * `node deploy/tools/config-hash.ts CONFIG.yaml`: prints the config's fingerprint, the one the Helm
 * chart computes from `proxy_config` (`sha256sum (toJson .Values.proxy_config)`).
 *
 * The image embeds config.yaml when it is built (the Workers' bundles carry it), so the chart's
 * `proxy_config` only documents it. deploy/Dockerfile writes this fingerprint to
 * /app/config.sha256; the pod's `prepare` init container compares it with the chart's and refuses
 * to start a pod whose image was built from another config.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';

/**
 * JSON as Go's encoding/json writes it, which is what Helm's `toJson` is: map keys sorted,
 * no spaces, `<`, `>`, `&`, U+2028 and U+2029 escaped. Numbers print alike: Helm reads values
 * as float64 and Go formats them as ECMAScript does (exponents below 1e-6 and from 1e21 on).
 */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not representable in JSON: ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${goJson(k)}:${goJson(v)}`).join(',')}}`;
  }
  throw new Error(`not representable in JSON: ${typeof value}`);
}

/** sha256 hex of goJson(config): equal to the chart's `sha256sum (toJson .Values.proxy_config)`. */
export function configHash(config: unknown): string {
  return createHash('sha256').update(goJson(config ?? {})).digest('hex');
}

/** A config.yaml as the build reads it (scripts/lib/build.ts compileConfig: YAML 1.2, `{}` when empty). */
export function readConfigYaml(file: string): unknown {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]?.message.split('\n')[0]}`);
  return doc.toJS() ?? {};
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (!file) {
    console.error('Usage: node deploy/tools/config-hash.ts CONFIG.yaml');
    process.exit(2);
  }
  try {
    process.stdout.write(`${configHash(readConfigYaml(file))}\n`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
