/**
 * Where a Vertex AI deployment is called, and as whom: project, location
 * and service account key from the deployment (or the env, as LiteLLM reads
 * them), the regional host (or `api_base`), and the model URLs under it.
 */
import { GatewayError } from '../../errors.ts';
import type { DeploymentRef } from '../../models/deployments.ts';
import { modelSegment } from '../google/model-path.ts';
import { envString } from '../openai-compatible/adapter.ts';
import { upstreamUrl } from '../upstream-url.ts';
import { parseServiceAccount, type ServiceAccount } from './service-account.ts';

/** `VertexAIException` in messages, as LiteLLM words them. */
export const VERTEX_LABEL = 'VertexAI';
export const DEFAULT_VERTEX_LOCATION = 'us-central1';
const LOCATION = /^[a-z0-9-]+$/;
const PROJECT = /^[a-z0-9][a-z0-9.:-]*$/i;

export interface VertexTarget {
  account: ServiceAccount;
  project: string;
  location: string;
  base: string;
}

// Parsed once per deployment object (a config change makes new ones), not per request.
const accounts = new WeakMap<DeploymentRef, ServiceAccount>();

export function vertexTarget(deployment: DeploymentRef, env: Record<string, unknown>): VertexTarget {
  const raw = deployment.params.vertex_credentials ?? envString(env, 'VERTEXAI_CREDENTIALS');
  if (!raw) throw misconfigured(`vertex_ai/${deployment.model} needs vertex_credentials (a service account key's JSON, e.g. os.environ/VERTEXAI_CREDENTIALS)`);
  let account = accounts.get(deployment);
  if (!account) accounts.set(deployment, (account = parseServiceAccount(raw)));
  const project = deployment.params.vertex_project ?? envString(env, 'VERTEXAI_PROJECT') ?? account.project_id;
  if (!project || !PROJECT.test(project)) throw misconfigured(`vertex_ai/${deployment.model} needs vertex_project (or VERTEXAI_PROJECT)`);
  const location = deployment.params.vertex_location ?? envString(env, 'VERTEXAI_LOCATION') ?? DEFAULT_VERTEX_LOCATION;
  if (!LOCATION.test(location)) throw misconfigured(`"${location}" is not a Vertex AI location`);
  const host = location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
  return { account, project, location, base: deployment.params.api_base ?? host };
}

/** `{base}/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`. */
export function vertexModelUrl(target: VertexTarget, publisher: 'google' | 'anthropic', model: string, method: string, query: Record<string, string> = {}): URL {
  const path = `v1/projects/${target.project}/locations/${target.location}/publishers/${publisher}/models/${modelSegment(model)}:${method}`;
  return upstreamUrl(target.base, path, query);
}

function misconfigured(message: string): GatewayError {
  return new GatewayError(`Deployment misconfigured: ${message}`, { status: 500, type: 'internal_server_error', provider: 'vertex_ai' });
}
