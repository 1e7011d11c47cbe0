/**
 * What both cluster suites (workerd-cluster-config, workerd-cluster) start from: the bundles built
 * from one config, a cluster key, the bucket's credentials as a mounted file, and the config
 * generator with the cluster options pointed at a bucket. Registers its own beforeAll/afterAll.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type Build, buildAll } from '../../scripts/lib/build.ts';
import { awsCredentialsFile, type WorkerdClusterOptions, writeClusterKey } from '../../scripts/lib/workerd-cluster.ts';
import { generateWorkerdConfig, workerdEnvNames } from '../../scripts/lib/workerd-config.ts';
import { TEST_MASTER_KEY } from './stack.ts';

export const BUCKET = 'tollgate-cluster';
export const PREFIX = 'test';
export const CREDENTIALS = { accessKeyId: 'AKIDTOLLGATECLUSTER', secretAccessKey: 'cluster-test-secret' };
// The lease is 20 s in production, 5 s here (and the 5 s a stopping instance keeps accepting, 1.25 s).
// Much shorter bounds risk fencing an instance whose bucket call is slow on a loaded machine.
export const DIVISOR = 4;

const configYaml = `model_list:
  - model_name: mock-gpt
    litellm_params: {model: mock/mock-gpt, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;

export function useClusterBuild() {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cluster-'));
  const keyFile = join(dir, 'secrets', 'cluster.key');
  // As a mounted Kubernetes Secret: not AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, which are Bedrock's in the Workers' environment.
  const credentialsFile = join(dir, 'secrets', 'bucket-credentials');
  const configFile = join(dir, 'config.capnp');
  let build: Build | undefined;
  let envNames: string[] = [];

  beforeAll(async () => {
    writeFileSync(join(dir, 'config.yaml'), configYaml);
    build = await buildAll(join(dir, 'config.yaml'), join(dir, 'build'), { LITELLM_MASTER_KEY: TEST_MASTER_KEY });
    envNames = workerdEnvNames(build.compiled.config);
    writeClusterKey(keyFile);
    writeFileSync(credentialsFile, awsCredentialsFile(CREDENTIALS));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  return {
    dir, keyFile, credentialsFile, configFile,
    clusterOptions: (endpoint: string): WorkerdClusterOptions => ({
      bucket: `s3://${BUCKET}/${PREFIX}`, endpoint, region: 'us-east-1', credentialsFile, keyFile, address: '127.0.0.1:0', unsafeTimeDivisor: DIVISOR,
    }),
    generate: (cluster?: WorkerdClusterOptions) => {
      if (!build) throw new Error('the cluster build is not ready (used outside a test?)');
      return generateWorkerdConfig({ gatewayScript: build.scripts.gateway, adminScript: build.scripts.admin, envNames, cluster });
    },
  };
}
