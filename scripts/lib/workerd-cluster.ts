import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

/**
 * workerd's cluster mode (`Config.cluster`, `--experimental`; see `ClusterConfig` in
 * node_modules/workerd/workerd.capnp) for several gateway replicas: the instances share an
 * S3-compatible or Google Cloud Storage bucket, in which each renews a 20 s lease naming its peer
 * address and claims each Durable Object it runs by a conditional write (`If-None-Match: *` /
 * `If-Match`). Any instance routes a Durable Object call to the object's owner over the peer port,
 * so every key, team, ... still has exactly one limiter in the whole deployment. Each object's
 * SQLite storage is shipped to the bucket as it commits, so on SIGTERM an instance hands its
 * objects to its peers, and a peer takes over the objects of one that died (SIGKILL, OOM, node
 * loss) once its lease has expired, in both cases with the stored state.
 *
 * Everything but the secrets is in the config, identical on every instance; per instance only
 * `--cluster-addr` / `--cluster-advertise` and the storage directories differ.
 */
export interface WorkerdClusterOptions {
  /** `s3://bucket[/prefix]` (S3, R2, MinIO, ...) or `gs://bucket[/prefix]`. No environment fallback in workerd. */
  bucket: string;
  /**
   * `s3://` only: the endpoint (`aws_endpoint`: `http(s)://host[:port]`, no path; path-style
   * requests go to it), else AWS_ENDPOINT_URL, else AWS's own for the region.
   */
  endpoint?: string;
  /**
   * `s3://`: required (`aws_region`; `auto` for R2). workerd would otherwise read AWS_REGION, which
   * in this gateway's environment is Bedrock's, bound into the Workers.
   */
  region?: string;
  /**
   * `s3://`: required. A file of `AWS_ACCESS_KEY_ID=...`, `AWS_SECRET_ACCESS_KEY=...` and optional
   * `AWS_SESSION_TOKEN=...` lines (`aws_credentials_file`), reread whenever it changes, so keys
   * rotate without a restart (replace it by rename, as a Kubernetes Secret volume does). Not the
   * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment variables workerd would fall back to:
   * those are Bedrock's here, and every Worker gets them as bindings. Never put keys in the config.
   */
  credentialsFile?: string;
  /**
   * The cluster key (at least 32 bytes, e.g. `openssl rand -hex 32`, the same on every instance):
   * a file, read when workerd starts (capnp `embed`, relative to the config), such as a mounted
   * Kubernetes Secret. workerd has no environment variable for it. A trailing newline is part of
   * the key, which is fine as long as every instance reads the same file. Since the file is read
   * wherever the config is parsed, `workerd compile` of a cluster config bakes the key into its
   * output: compile none for deployment, and check one with `compile --config-only` only where a
   * key file is at that path.
   */
  keyFile: string;
  /**
   * Where the instance listens for its peers (default `0.0.0.0:7000`); `--cluster-addr` overrides
   * it. A wildcard needs `advertise` or `--cluster-advertise` (e.g. `$(POD_IP):7000`); `:0` takes an
   * ephemeral port, advertised as bound (tests on loopback).
   */
  address?: string;
  /** The address peers reach this instance at (default: as bound); `--cluster-advertise` overrides it. */
  advertise?: string;
  /** SIGTERM to exit, during which objects are handed off (workerd's default 8000; keep it under the pod's grace period). */
  stopTimeoutMs?: number;
  /** Tests only: divides the 20 s lease, its renewal rounds and the 5 s stop windows. */
  unsafeTimeDivisor?: number;
}

/** workerd's `ClusterConfig` fields, as plain values (workerd-config.ts renders them). */
export interface ClusterFields {
  bucket: string;
  bucketOptions: string[];
  address: string;
  advertise?: string;
  /** Path of the key file relative to the config's directory, for `embed`. */
  keyEmbed: string;
  stopTimeoutMs?: number;
  unsafeTimeDivisor?: number;
}

export const DEFAULT_CLUSTER_ADDRESS = '0.0.0.0:7000';

/**
 * The environment workerd reads for what a cluster's config leaves out. For `s3://` the generator
 * sets region and credentials file itself (the AWS_* names are Bedrock's here); `gs://` takes its
 * credentials only from the environment or the metadata server (GKE Workload Identity).
 */
export const CLUSTER_ENV = {
  endpoint: 'AWS_ENDPOINT_URL',
  /** `gs://`: a service account key file; else the GKE / GCE metadata server. */
  googleCredentials: 'GOOGLE_APPLICATION_CREDENTIALS',
} as const;

/** The lines of an `aws_credentials_file`. */
export function awsCredentialsFile(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): string {
  const lines = [`AWS_ACCESS_KEY_ID=${credentials.accessKeyId}`, `AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`];
  if (credentials.sessionToken) lines.push(`AWS_SESSION_TOKEN=${credentials.sessionToken}`);
  return `${lines.join('\n')}\n`;
}

/** Checks the options as workerd would, earlier and with the option's name; answers the config fields. */
export function clusterFields(options: WorkerdClusterOptions, configDir: string): ClusterFields {
  const m = /^(s3|gs):\/\/([^/]+)(\/.*)?$/.exec(options.bucket);
  if (!m) throw new Error(`cluster.bucket must be s3://<bucket>[/<prefix>] or gs://<bucket>[/<prefix>], not "${options.bucket}"`);
  const scheme = m[1];
  const bucketOptions: string[] = [];
  const s3Only = { endpoint: 'aws_endpoint', region: 'aws_region', credentialsFile: 'aws_credentials_file' } as const;
  for (const [field, setting] of Object.entries(s3Only) as [keyof typeof s3Only, string][]) {
    const value = options[field];
    if (value === undefined || value === '') continue;
    if (scheme !== 's3') throw new Error(`cluster.${field} applies to an s3:// bucket only (a gs:// bucket takes its credentials from Google's)`);
    if (/[\r\n]/.test(value)) throw new Error(`cluster.${field} may not contain a newline`);
    if (field === 'endpoint' && !/^https?:\/\/[^/]+\/?$/.test(value)) throw new Error(`cluster.endpoint must be http(s)://host[:port] with no path, not "${value}"`);
    if (field === 'credentialsFile' && !isAbsolute(value)) throw new Error(`cluster.credentialsFile must be an absolute path (workerd reads it at run time), not "${value}"`);
    bucketOptions.push(`${setting}=${value}`);
  }
  if (scheme === 's3') {
    if (!options.region) throw new Error('cluster.region is required for an s3:// bucket (auto for R2): workerd would take AWS_REGION, which is Bedrock\'s here');
    if (!options.credentialsFile) {
      throw new Error('cluster.credentialsFile is required for an s3:// bucket: the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY workerd would read otherwise are Bedrock\'s here, and bound into every Worker');
    }
  }
  if (!options.keyFile) throw new Error('cluster.keyFile is required: the file holding the cluster key (at least 32 bytes)');
  const keyEmbed = relative(resolve(configDir), resolve(configDir, options.keyFile)).split('\\').join('/');
  const divisor = options.unsafeTimeDivisor;
  if (divisor !== undefined && (!Number.isInteger(divisor) || divisor < 1 || divisor > 1000)) throw new Error('cluster.unsafeTimeDivisor must be an integer from 1 to 1000');
  const stop = options.stopTimeoutMs;
  if (stop !== undefined && (!Number.isInteger(stop) || stop < 1000)) throw new Error('cluster.stopTimeoutMs must be an integer of at least 1000');
  return {
    bucket: options.bucket,
    bucketOptions,
    address: options.address ?? DEFAULT_CLUSTER_ADDRESS,
    advertise: options.advertise || undefined,
    keyEmbed,
    stopTimeoutMs: stop,
    unsafeTimeDivisor: divisor,
  };
}

/** A fresh cluster key file (64 hex characters, no newline), for tests and local clusters. */
export function writeClusterKey(file: string): void {
  mkdirSync(resolve(file, '..'), { recursive: true });
  writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
}
