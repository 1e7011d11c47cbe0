/**
 * The Responses API ids clients see, as LiteLLM makes them: the provider's
 * response id together with the provider and the deployment that answered
 * (`litellm:custom_llm_provider:{provider};model_id:{deployment id};
 * response_id:{id}`), base64-encoded behind `resp_`. A follow-up
 * (`previous_response_id`) or `GET /v1/responses/{id}` then reaches the
 * deployment that stored the response, whichever of its group's deployments
 * that was. Tollgate writes base64url (no `/` to escape in a URL path) and
 * reads both alphabets, so ids LiteLLM made read too.
 *
 * Tollgate adds the response's owner (`;owner:team:<id>`, `user:<id>`,
 * `key:<hash prefix>` or `master`, from the key that created it): only the
 * master key or a key of the same team, user or key reads, deletes or
 * continues it, as newer LiteLLM versions tie a response to its user and
 * team. An id without an owner (made by LiteLLM) is anyone's allowed on its
 * model group.
 */

export interface ManagedResponseId {
  provider: string;
  deploymentId: string;
  responseId: string;
  /** Who created it; undefined for the master key's (and LiteLLM's) ids. */
  owner?: string;
}

const ASSEMBLED = /^litellm:custom_llm_provider:(.*?);model_id:(.*?);response_id:([^;]+)(?:;owner:(.+))?$/s;
/** A provider's response id as it may go into a URL path (no `/`, no `.` or `..` segment). */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function managedResponseId(provider: string, deploymentId: string, responseId: string, owner?: string): string {
  const bytes = encoder.encode(`litellm:custom_llm_provider:${provider};model_id:${deploymentId};response_id:${responseId}${owner ? `;owner:${owner}` : ''}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `resp_${btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')}`;
}

/** The parts of an id managedResponseId (or LiteLLM) made; undefined for any other id (a provider's own). */
export function decodeResponseId(id: string): ManagedResponseId | undefined {
  if (!id.startsWith('resp_') || id.length > 4096) return undefined;
  let text: string;
  try {
    const b64 = id.slice(5).replaceAll('-', '+').replaceAll('_', '/');
    const binary = atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '='));
    text = decoder.decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const match = ASSEMBLED.exec(text);
  if (!match || !SAFE_ID.test(match[3]!)) return undefined;
  return { provider: match[1]!, deploymentId: match[2]!, responseId: match[3]!, ...(match[4] ? { owner: match[4] } : {}) };
}

/** Who a caller's responses belong to: the master key's to it; a key's to its team, else its user, else the key (a prefix of its hash). */
export function responseOwner(caller: { kind: 'master' } | { kind: 'key'; token: string; policy: { userId: string | null; team: { id: string } | null } }): string {
  if (caller.kind === 'master') return 'master';
  if (caller.policy.team) return `team:${caller.policy.team.id}`;
  return caller.policy.userId ? `user:${caller.policy.userId}` : `key:${caller.token.slice(0, 24)}`;
}

/** Whether the caller may read, delete or continue a response: the master key any; a key its owner's (and any id without one, as LiteLLM made them). */
export function ownsResponse(caller: Parameters<typeof responseOwner>[0], id: ManagedResponseId): boolean {
  return caller.kind === 'master' || id.owner === undefined || responseOwner(caller) === id.owner;
}
