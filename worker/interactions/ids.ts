import type { Caller } from '../auth/authenticate.ts';
import { base64urlText, ownsResponse, responseOwner, SAFE_ID, signature, textOfBase64 } from '../providers/response-ids.ts';

/**
 * The ids of Google's interactions as clients see them: the provider's id with the deployment that stored it,
 * its owner (the team, else the user, else the key that created it; `master` for the master key) and an HMAC
 * over the whole, base64url behind `intr_`. A later GET, DELETE, cancel or `previous_interaction_id` reaches
 * the deployment (and so the Google account) that keeps the interaction, and only for its owner: a key of
 * another team, user or key finds nothing, as with stored responses (response-ids.ts). LiteLLM hands out
 * Google's own ids and reads them back with its environment's credential; a shared gateway cannot, since
 * any key holding an id could then read or delete another's conversation.
 */
export interface ManagedInteractionId {
  deploymentId: string;
  /** Google's own id of the interaction. */
  interactionId: string;
  owner: string;
  sig: string;
  signed: string;
}

const PREFIX = 'intr_';
const ASSEMBLED = /^(tollgate:interaction;model_id:([^;]*);interaction_id:([^;]+);owner:([^;]+));sig:([A-Za-z0-9_-]+)$/s;

/** The id the client gets for Google's `interactionId` stored by `deploymentId`, signed with `key` (GatewayState.responseIdKey). */
export function managedInteractionId(deploymentId: string, interactionId: string, owner: string, key: string): string {
  const text = `tollgate:interaction;model_id:${encodeURIComponent(deploymentId)};interaction_id:${interactionId};owner:${owner}`;
  return `${PREFIX}${base64urlText(`${text};sig:${signature(key, text)}`)}`;
}

/** The parts of an id managedInteractionId made; undefined for any other (Google's own, or a forgery's shape). */
export function decodeInteractionId(id: string): ManagedInteractionId | undefined {
  if (!id.startsWith(PREFIX) || id.length > 4096) return undefined;
  const text = textOfBase64(id.slice(PREFIX.length));
  const match = text === undefined ? null : ASSEMBLED.exec(text);
  if (!match || !SAFE_ID.test(match[3]!)) return undefined;
  let deploymentId: string;
  try {
    deploymentId = decodeURIComponent(match[2]!);
  } catch {
    return undefined;
  }
  return { deploymentId, interactionId: match[3]!, owner: match[4]!, sig: match[5]!, signed: match[1]! };
}

/** Whether the caller may use the interaction: the master key any the gateway gave out; a key only its owner's, signed by the gateway. */
export function ownsInteraction(caller: Caller, id: ManagedInteractionId, key: string): boolean {
  return ownsResponse(caller, id, key);
}

export { responseOwner as interactionOwner };
