import type { Caller } from '../auth/authenticate.ts';
import { badRequest, type GatewayError } from '../errors.ts';
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

/**
 * Why a create is refused whose run outlasts the call, which therefore could never be billed by its usage: an
 * agent's (`agent`, such as Deep Research) or a background run (`background`). Undefined for any other.
 */
export function unservedRun(body: Record<string, unknown>): GatewayError | undefined {
  if (body.agent !== undefined && body.agent !== null) {
    return badRequest('Agent interactions (agent, such as Deep Research) are not served by the gateway: name a model group in model', 'agent');
  }
  if (body.background !== undefined && body.background !== null && body.background !== false) {
    return badRequest('Background interactions are not served by the gateway (a run that ends after the call cannot be held to budgets): leave background unset, and stream a long answer', 'background');
  }
  return undefined;
}

const INTERACTIONS_CREATE = /\/interactions$/;

/**
 * Provider pass-through's create of an interaction (`POST /gemini/v1beta/interactions`, Vertex AI's
 * `.../locations/{l}/interactions`) held to the dedicated route's rule for a virtual key: no agent or background
 * run (unservedRun, the same 400), and a body the gateway can read for them. The master key's goes on as sent.
 */
export function refuseUnbilledRun(caller: Caller, method: string, path: string, json: Record<string, unknown> | undefined): void {
  if (caller.kind !== 'key' || method !== 'POST' || !INTERACTIONS_CREATE.test(path)) return;
  if (!json) throw badRequest('Invalid interaction request: the body must be a JSON object');
  const refused = unservedRun(json);
  if (refused) throw refused;
}
