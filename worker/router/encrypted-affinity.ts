import { GatewayError } from '../errors.ts';
import type { DeploymentRef } from '../models/deployments.ts';
import type { HealthSnapshot } from './health-snapshot.ts';

/**
 * LiteLLM's `encrypted_content_affinity` pre-call check, over Tollgate's pins (affinity.ts). A Responses API
 * answer made with `include: ["reasoning.encrypted_content"]` (and `store: false`, as Codex calls) carries
 * reasoning items whose `encrypted_content` only the account (organization, Azure resource) that made them
 * can decrypt: a follow-up replaying them to another deployment's account fails upstream with
 * `invalid_encrypted_content`. So each such item is pinned, by a hash of its content, to the deployment that
 * produced it, and a call replaying one goes to that deployment and no other (a retry or fallback included);
 * while it cannot take the call, the call gets a 429 or 503 with `retry-after` instead of a doomed call elsewhere.
 * LiteLLM writes the deployment into the item's id or content instead; Tollgate leaves what the provider
 * made untouched, so its pins live in the group's object, for `deployment_affinity_ttl_seconds` after last use.
 */

/** Replayed items looked up per call: the latest are the ones the last turn made. */
export const REPLAYED_MAX = 8;
/**
 * Items pinned per answer (an answer has one reasoning item per turn of tool use; this bounds a hostile one):
 * its last, the ones a follow-up replays latest (and looks up: REPLAYED_MAX from the end of its input).
 */
export const PRODUCED_MAX = 32;
/** Longer content is hashed all the same; a value past this is not a provider's and is left alone. */
const CONTENT_MAX = 1_000_000;

/** The pin key of one item's encrypted content. */
export async function encryptedPinKey(content: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(content)));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return `e:${hex}`;
}

/** Whether a pin key is an encrypted item's: such a pin is a rule, not a preference. */
export const isEncryptedPin = (key: string): boolean => key.startsWith('e:');

function contentsOf(items: unknown, max: number, fromEnd: boolean): string[] {
  if (!Array.isArray(items)) return [];
  const out: string[] = [];
  for (let i = 0; i < items.length && out.length < max; i++) {
    const item: unknown = items[fromEnd ? items.length - 1 - i : i];
    if (typeof item !== 'object' || item === null) continue;
    const content = (item as { encrypted_content?: unknown }).encrypted_content;
    if (typeof content === 'string' && content && content.length <= CONTENT_MAX && !out.includes(content)) out.push(content);
  }
  return out;
}

/** The encrypted contents a request's `input` replays, the latest first (at most REPLAYED_MAX). */
export function replayedContents(body: Record<string, unknown>): string[] {
  return contentsOf(body.input, REPLAYED_MAX, true);
}

/** The encrypted contents of a Responses API answer's `output`, its last PRODUCED_MAX (undefined when it has none). */
export function producedContents(output: unknown): string[] | undefined {
  const found = contentsOf(output, PRODUCED_MAX, true);
  return found.length ? found : undefined;
}

/** Why the deployment that made the replayed content cannot take the call. */
export type OriginState = { kind: 'gone' } | { kind: 'cooling'; until: number } | { kind: 'over_limits'; until: number };

/**
 * Why the origin deployment `id` is not among those the group may use now: not among `serving` (gone), cooling
 * down (where the group cools deployments at all), else over its rpm/tpm until this minute's window ends.
 */
export function originState(serving: readonly DeploymentRef[], health: HealthSnapshot, id: string, coolable: boolean, now: number): OriginState {
  if (!serving.some((d) => d.id === id)) return { kind: 'gone' };
  const cooling = health.cooldowns[id];
  if (coolable && cooling !== undefined && cooling > now) return { kind: 'cooling', until: cooling };
  return { kind: 'over_limits', until: (Math.floor(now / 60_000) + 1) * 60_000 };
}

/**
 * The answer when the deployment that made the replayed content cannot take the call, as LiteLLM tells a rate
 * limit from an outage: over its rpm/tpm this minute, a 429 with `retry-after` until the minute's window ends
 * (which the OpenAI SDKs wait out); cooling down after failures, a 503 with the cooldown's `retry-after`; no
 * longer able to serve it, a 400. The message never names the deployment, so a forged item tells nothing of the router.
 */
export function originUnavailable(requested: string, group: string, origin: OriginState, now: number): GatewayError {
  if (origin.kind === 'gone') {
    return new GatewayError(`The deployment that produced this encrypted_content cannot serve this request, and no other deployment of model_group=${group} can decrypt it. Re-issue the request without the stale encrypted_content items.`, {
      status: 400, type: 'bad_request_error', param: 'input',
    });
  }
  const seconds = String(Math.max(1, Math.ceil((origin.until - now) / 1000)));
  if (origin.kind === 'over_limits') {
    return new GatewayError(`No deployments available for selected model, Try again in ${seconds} seconds. Passed model=${requested}. model_group=${group}. The deployment that produced this encrypted_content is over its rate limits, and no other deployment can decrypt it`, {
      status: 429, type: 'rate_limit_error', retryable: false, headers: { 'retry-after': seconds },
    });
  }
  return new GatewayError(`No deployments available for selected model, Try again in ${seconds} seconds. Passed model=${requested}. model_group=${group}. The deployment that produced this encrypted_content is cooling down, and no other deployment can decrypt it`, {
    status: 503, type: 'service_unavailable', retryable: false, headers: { 'retry-after': seconds },
  });
}
