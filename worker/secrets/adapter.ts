/**
 * Provider adapters that read a deployment's secret manager credentials (resolve.ts) before every request
 * they send: calls, stored responses, the Files and Batch APIs, health probes and the batch watcher alike,
 * whichever route reached them. Without a secret manager in config.yaml the adapter itself is used.
 */
import type { ProviderAdapter } from '../providers/types.ts';
import { deploymentWithSecrets, READS_SECRETS } from './resolve.ts';

/** The adapter, or (with a secret manager configured) one that hands it deployments with their secrets read. */
export function withSecretCredentials(adapter: ProviderAdapter): ProviderAdapter {
  if (!READS_SECRETS) return adapter;
  const { objectRequest, storedResponse } = adapter;
  return {
    ...adapter,
    call: async (call) => adapter.call({ ...call, deployment: await deploymentWithSecrets(call.deployment, call.env) }),
    ...(objectRequest ? { objectRequest: async (r) => objectRequest.call(adapter, { ...r, deployment: await deploymentWithSecrets(r.deployment, r.env) }) } : {}),
    ...(storedResponse ? { storedResponse: async (r) => storedResponse.call(adapter, { ...r, deployment: await deploymentWithSecrets(r.deployment, r.env) }) } : {}),
  };
}
