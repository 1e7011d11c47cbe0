import type { GatewayError } from '../errors.ts';

/**
 * The JWT refusals that only say a token names no one the team/user mapping or the permission settings can bill
 * (no team, user or role): jwt-identity.ts and jwt-permissions.ts mark them where they are raised, so the JWT → key
 * mapping (jwt-key-mapping.ts) lets a mapped token past exactly these, by identity rather than by their words,
 * while a refusal about the token itself (an email domain not allowed) stands, mapped or not.
 */
const NAMES_NO_ONE = new WeakSet<GatewayError>();

/** Marks `err` as a refusal a token mapped to a key does not need to pass (see above); returns it. */
export function namesNoOne(err: GatewayError): GatewayError {
  NAMES_NO_ONE.add(err);
  return err;
}

/** Whether `err` was marked by namesNoOne. */
export function isNamesNoOne(err: unknown): err is GatewayError {
  return typeof err === 'object' && err !== null && NAMES_NO_ONE.has(err as GatewayError);
}
