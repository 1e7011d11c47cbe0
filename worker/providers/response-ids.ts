import { createHmac } from 'node:crypto';

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
 * `key:<hash prefix>` or `master`, from the key that created it) and a
 * signature over the whole (`;sig:`, an HMAC keyed by a secret derived from the master key, state.ts):
 * only the master key, or a key of the same team, user or key, reads,
 * deletes, cancels or continues the response, as newer LiteLLM versions tie a
 * response to its user and team. base64 hides nothing, so a key may not name
 * an unsigned id either (a forged one, or the provider's own id read out of
 * one): only the master key may.
 */

export interface ManagedResponseId {
  provider: string;
  deploymentId: string;
  responseId: string;
  /** Who created it, and the signature over the id that says so (undefined in ids LiteLLM made). */
  owner?: string;
  sig?: string;
  /** The text the signature covers. */
  signed?: string;
}

/** Who may use an id, as the gateway writes it into the ids it gives out. */
export interface ResponseIdOwner {
  owner: string;
  /** The HMAC key (GatewayState.responseIdKey). */
  key: string;
}

const ASSEMBLED = /^(litellm:custom_llm_provider:(.*?);model_id:(.*?);response_id:([^;]+)(?:;owner:([^;]+))?)(?:;sig:([A-Za-z0-9_-]+))?$/s;
/** A provider's id (of a response, file or batch) as it may go into a URL path (no `/`, no `.` or `..` segment). */
export const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export const signature = (key: string, text: string): string => createHmac('sha256', key).update(text).digest('base64url').slice(0, 32);

export function managedResponseId(provider: string, deploymentId: string, responseId: string, owner?: ResponseIdOwner): string {
  let text = `litellm:custom_llm_provider:${provider};model_id:${deploymentId};response_id:${responseId}`;
  if (owner) {
    text += `;owner:${owner.owner}`;
    text += `;sig:${signature(owner.key, text)}`;
  }
  return `resp_${base64urlText(text)}`;
}

/** UTF-8 text as unpadded base64url (no `/` to escape in a URL path). */
export function base64urlText(text: string): string {
  const bytes = encoder.encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** The UTF-8 text of base64 or base64url (padded or not); undefined for anything else. */
export function textOfBase64(encoded: string): string | undefined {
  try {
    const b64 = encoded.replaceAll('-', '+').replaceAll('_', '/');
    const binary = atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '='));
    return decoder.decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/** The parts of an id managedResponseId (or LiteLLM) made; undefined for any other id (a provider's own). */
export function decodeResponseId(id: string): ManagedResponseId | undefined {
  if (!id.startsWith('resp_') || id.length > 4096) return undefined;
  const text = textOfBase64(id.slice(5));
  if (text === undefined) return undefined;
  const match = ASSEMBLED.exec(text);
  if (!match || !SAFE_ID.test(match[4]!)) return undefined;
  return {
    provider: match[2]!, deploymentId: match[3]!, responseId: match[4]!,
    ...(match[5] && match[6] ? { owner: match[5], sig: match[6], signed: match[1]! } : {}),
  };
}

/** Who a caller's responses belong to: the master key's to it; a key's to its team, else its user, else the key (a prefix of its hash). */
export function responseOwner(caller: { kind: 'master' } | { kind: 'key'; token: string; policy: { userId: string | null; team: { id: string } | null } }): string {
  if (caller.kind === 'master') return 'master';
  // Team and user ids are the operator's: escaped, so none can end the owner field early.
  if (caller.policy.team) return `team:${encodeURIComponent(caller.policy.team.id)}`;
  return caller.policy.userId ? `user:${encodeURIComponent(caller.policy.userId)}` : `key:${caller.token.slice(0, 24)}`;
}

/** The team or user an owner (responseOwner) names; neither for a key's or the master key's. */
export function ownerNamed(owner: string): { teamId: string | null; userId: string | null } {
  const colon = owner.indexOf(':');
  let named: string | null;
  try {
    named = decodeURIComponent(owner.slice(colon + 1));
  } catch {
    named = null;
  }
  const kind = owner.slice(0, colon);
  return { teamId: kind === 'team' ? named : null, userId: kind === 'user' ? named : null };
}

/** Whether the caller may read, delete or continue a response: the master key any; a key only one its owner's, signed by the gateway. */
export function ownsResponse(caller: Parameters<typeof responseOwner>[0], id: Pick<ManagedResponseId, 'owner' | 'sig' | 'signed'> | undefined, key: string): boolean {
  if (caller.kind === 'master') return true;
  if (!id?.owner || !id.sig || id.signed === undefined || responseOwner(caller) !== id.owner) return false;
  const expected = signature(key, id.signed);
  // Compared in constant time.
  let diff = expected.length ^ id.sig.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ (id.sig.charCodeAt(i) || 0);
  return diff === 0;
}
