import type { DeploymentRef } from '../models/deployments.ts';
import { passThroughUrl } from '../passthrough/forward.ts';
import { PASS_THROUGH_PREFIXES } from '../passthrough/providers.ts';
import { credentialOf, setCredential, vertexBearer } from '../passthrough/upstream-credentials.ts';

/** Google's own models on Gemini's and Vertex AI's API, which serve interactions: not a partner model (Claude, Llama) on Vertex AI. */
export function servesInteractions(d: DeploymentRef): boolean {
  if (d.provider === 'gemini') return true;
  return d.provider === 'vertex_ai' && !d.model.includes('/') && /^(gemini|gemma)/.test(d.model);
}

/**
 * Where an Interactions API request for `deployment` goes, with its credential set on `headers`: Google AI
 * Studio's `/v1beta/interactions` at the deployment's `api_base` (else `GEMINI_API_BASE`, else Google's)
 * with its key in `x-goog-api-key` (else `GEMINI_API_KEY`), or Vertex AI's
 * `/v1beta1/projects/{project}/locations/{location}/interactions` with its service account's token.
 * `path` follows the collection: '' (create), `/{id}`, `/{id}/cancel`. Throws when no credential is set.
 * `secret` is the credential sent (a key from the environment, a minted token), scrubbed from error text.
 */
export async function interactionsTarget(
  deployment: DeploymentRef, env: Record<string, unknown>, headers: Headers, path: string, query: [string, string][] = [],
): Promise<{ url: URL; secret: string | undefined }> {
  if (deployment.provider === 'gemini') {
    const studio = PASS_THROUGH_PREFIXES['/gemini']!;
    const credential = credentialOf(studio, deployment, env);
    if (credential.missing) throw credential.missing;
    setCredential(headers, studio, credential.key);
    return { url: passThroughUrl(credential.base!, `/v1beta/interactions${path}`, query), secret: credential.key };
  }
  const { authorization, target } = await vertexBearer(deployment, env);
  headers.set('authorization', authorization);
  return {
    url: passThroughUrl(target.base, `/v1beta1/projects/${target.project}/locations/${target.location}/interactions${path}`, query),
    secret: authorization.replace(/^Bearer /, ''),
  };
}

/**
 * A create's body as Google gets it: without the fields that are LiteLLM's (the gateway's) and not Google's,
 * `litellm_metadata` and the call's `tags` (top-level, or `metadata.tags`, as requestTags reads them; a
 * `metadata` left empty goes too), which Google's API does not know and would refuse or keep.
 */
export function withoutGatewayFields(json: Record<string, unknown>): Record<string, unknown> {
  const { litellm_metadata: _ours, tags: _tags, ...rest } = json;
  const metadata = rest.metadata;
  if (metadata && typeof metadata === 'object' && !Array.isArray(metadata) && 'tags' in metadata) {
    const { tags: _metadataTags, ...kept } = metadata as Record<string, unknown>;
    if (Object.keys(kept).length) rest.metadata = kept;
    else delete rest.metadata;
  }
  return rest;
}
