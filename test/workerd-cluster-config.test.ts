/**
 * The cluster option of the generated workerd config (`Config.cluster`): what it adds, where the key
 * and the bucket's credentials come from, and what it refuses. The live cluster is workerd-cluster.
 */
import { execFile as execFileCb } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WORKERD_BIN } from '../scripts/lib/workerd-process.ts';
import { DIVISOR, useClusterBuild } from './support/cluster-build.ts';

const execFile = promisify(execFileCb);
const { dir, keyFile, credentialsFile, clusterOptions, generate } = useClusterBuild();

describe('the cluster option of the generated config', () => {
  it('adds Config.cluster with the key embedded from its file and no credentials; absent, nothing changes', async () => {
    const plain = generate();
    expect(plain).not.toMatch(/cluster|CLUSTERED/);
    const text = generate({ ...clusterOptions('http://127.0.0.1:9000'), stopTimeoutMs: 20_000 });
    const flat = text.replace(/\s+/g, ' ');
    expect(flat).toContain('bucket = "s3://tollgate-cluster/test"');
    expect(flat).toContain(`bucketOptions = ["aws_endpoint=http://127.0.0.1:9000", "aws_region=us-east-1", "aws_credentials_file=${credentialsFile}"]`);
    expect(flat).toContain('address = "127.0.0.1:0"');
    // Relative to the config (capnp embeds no absolute path without --import-path /).
    expect(flat).toContain('key = embed "secrets/cluster.key"');
    expect(flat).toContain('stopTimeoutMs = 20000');
    expect(flat).toContain(`unsafeTimeDivisor = ${DIVISOR}`);
    expect(flat).toContain('(name = "CLUSTERED", json = "true")');
    expect(text).not.toMatch(/AKID|cluster-test-secret|aws_access_key|aws_secret/);
    // Everything else is the single-instance config, unchanged.
    const strip = (t: string) => t.replace(/,\s*cluster = \([\s\S]*?\n {2}\)/, '').replace(/\n# Cluster:[^\n]*/, '').replace(/\s*\(name = "CLUSTERED", json = "true"\),/, '');
    expect(strip(text) === plain).toBe(true);
    const file = join(dir, 'check.capnp');
    writeFileSync(file, text);
    const { stdout } = await execFile(WORKERD_BIN, ['compile', file, '--config-only'], { encoding: 'buffer', maxBuffer: 64 << 20 });
    expect(stdout.length).toBeGreaterThan(1_000_000);
  });

  it('takes the key file at any path, and refuses what workerd would refuse', () => {
    expect(generate({ ...clusterOptions('http://127.0.0.1:9000'), keyFile: '/run/secrets/tollgate/cluster-key' })).toMatch(/key = embed "(\.\.\/)+run\/secrets\/tollgate\/cluster-key"/);
    expect(generate({ bucket: 'gs://b/p', keyFile, address: '0.0.0.0:7000', advertise: '10.0.0.5:7000' }).replace(/\s+/g, ' '))
      .toContain('bucket = "gs://b/p", address = "0.0.0.0:7000", advertise = "10.0.0.5:7000"');
    const s3 = { bucket: 's3://b', keyFile, region: 'auto', credentialsFile };
    expect(() => generate({ bucket: 'gs://b/p', keyFile, endpoint: 'http://x' })).toThrow(/s3:\/\/ bucket only/);
    expect(() => generate({ ...s3, bucket: 'bucket/p' })).toThrow(/s3:\/\/<bucket>/);
    expect(() => generate({ ...s3, endpoint: 'http://x/path' })).toThrow(/no path/);
    expect(() => generate({ ...s3, unsafeTimeDivisor: 0 })).toThrow(/unsafeTimeDivisor/);
    // The AWS_* environment is Bedrock's: the bucket's region and keys must be given apart.
    expect(() => generate({ ...s3, region: undefined })).toThrow(/cluster.region is required/);
    expect(() => generate({ ...s3, credentialsFile: undefined })).toThrow(/cluster.credentialsFile is required/);
    expect(() => generate({ ...s3, credentialsFile: 'creds' })).toThrow(/absolute/);
  });
});
