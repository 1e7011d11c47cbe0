import type { GatewayError } from '../errors.ts';
import { BoundedTtlMap } from '../lib/bounded-map.ts';
import type { KeyStore } from './key-policy.ts';

/**
 * The team choices of JWTs listing several teams (jwt-teams.ts), remembered per isolate for 30 s and bounded;
 * kept apart from jwt-teams.ts so authentication (the admin Worker's too) does not pull in the limiters.
 */

const REMEMBER_MS = 30_000;
const MAX_REMEMBERED = 2_000;
/** Longer requested names (a wildcard group's, chosen by the client) are not remembered. */
export const MAX_REMEMBERED_NAME = 256;
export type Choice = { token: string } | { refuse: () => GatewayError };
const chosen = new BoundedTtlMap<Choice>(MAX_REMEMBERED);

/** The choice remembered for `id`, while fresh and only a team among `alternatives`. */
export function remembered(id: string, alternatives: readonly string[], now: number): Choice | undefined {
  const known = chosen.get(id, now);
  // Only a team this token lists: the key is the list itself, this is the last guard.
  if (known && 'token' in known && !alternatives.includes(known.token)) return undefined;
  return known;
}

/** Remembers a choice for 30 s; when the map is full the choice written longest ago goes (a bound, not a policy). */
export function remember(id: string, choice: Choice, now: number): void {
  chosen.set(id, choice, REMEMBER_MS, now);
}

/**
 * For a route that calls no model: the made-up key of the first listed team that exists (a deleted team does not),
 * blocked or not (authenticate refuses a blocked one); the first listed when none exists (its 404 names it).
 */
export async function jwtTeamForRoute(keys: Pick<KeyStore, 'lookup'>, alternatives: readonly string[], now = Date.now()): Promise<string> {
  const id = JSON.stringify([null, ...alternatives]);
  const known = remembered(id, alternatives, now);
  if (known && 'token' in known) return known.token;
  const policies = await Promise.all(alternatives.map((token) => keys.lookup(token)));
  const index = policies.findIndex((p) => p && !p.refusal);
  const token = alternatives[index < 0 ? 0 : index] as string;
  remember(id, { token }, now);
  return token;
}
